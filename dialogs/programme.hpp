#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "dialogs/validate.hpp"

namespace duijie::dialogs {

/// A type of researcher the programme names, and whether it may take part.
struct EligibilityType {
  Choice choice;
  bool eligible = true;
  std::string rule;  // why not, quoting the programme, for ineligible types
};

/// One step of the review chain a need passes before it is published.
struct ReviewStage {
  std::string stage;  // 'bureau', 'platform'
  std::string role;   // the admin role that acts on it
  std::string name;
  bool recommendation = false;  // the reviewer writes a recommendation (推荐意见)
};

struct Milestone {
  std::string id;
  std::string date;  // YYYY-MM-DD
  std::string name;
  // Who still owes this step (an audience filter, dialogs/audiences.hpp); empty: no reminders.
  nlohmann::json audience = nlohmann::json::object();
  std::vector<int> ladder{7, 3, 1};  // reminders this many working days before the date
  bool escalate = true;              // after the date: the bureaus and unit administrators are told
};

/// One edition of the programme (DESIGN.md §2 "the programme is data"): the lists people choose
/// from, the thresholds, the review chain and the deadlines. Flows read rules only from here.
struct Programme {
  std::string id;
  std::string name;
  std::string source;  // the document it comes from
  double minimum_amount_wan = 0;
  std::vector<Choice> categories;
  std::vector<Choice> fields;
  std::vector<Choice> regions;
  std::vector<EligibilityType> eligibility;
  int max_fields = 3;
  std::vector<ReviewStage> review_chain;
  std::vector<Milestone> milestones;
  std::map<std::string, int> stage_limits_days;  // a need longer than this in a stage is flagged to staff
  nlohmann::json raw;                            // the whole definition (funding rules, limits) for the later flows

  [[nodiscard]] std::vector<Choice> EligibilityChoices() const;
  [[nodiscard]] const EligibilityType* FindEligibility(std::string_view type) const;

  /// Parses and checks a definition: required lists present and non-empty, ids unique per list,
  /// dates well-formed, review roles known. Every problem is named.
  static Result<Programme> FromJson(const nlohmann::json& doc);
  /// The definitions compiled in from config/programmes/, by id.
  static const std::map<std::string, Programme>& Embedded();
};

}  // namespace duijie::dialogs
