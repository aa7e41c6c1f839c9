#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// Who acts through the admin API: a token's name, role and (bureau reviewers) region.
struct Staff {
  Staff(std::string token_name, std::string token_role, std::optional<std::string> token_region,
        std::optional<std::int64_t> person = std::nullopt, std::string via = "api")
      : name(std::move(token_name)),
        role(std::move(token_role)),
        region(std::move(token_region)),
        person_id(person),
        channel(std::move(via)) {}

  std::string name;
  std::string role;                   // admin, platform_reviewer, bureau_reviewer, viewer
  std::optional<std::string> region;  // a region id of the programme, for bureau reviewers
  // Who they are when they act by chatting (WeCom): the person and the channel the transitions
  // record; through the admin API neither is known beyond the token.
  std::optional<std::int64_t> person_id;
  std::string channel = "api";
};

/// What a staff action changed: the resource as it is now, and whether messages were queued.
struct StaffOutcome {
  nlohmann::json body;
  bool queued = false;
};

/// The review chain (DESIGN.md §2a, Hubei 一（三）3): a submitted need is reviewed by the local
/// bureau of its enterprise's region (recommend / return / reject), then by the platform
/// (approve → published / return / reject). Returning and rejecting need a reason; returning
/// names the fields to fix. Each decision is a need_reviews row, a transition, an audit entry
/// and a message to the enterprise contact on the channel they last used — one transaction. A
/// need recommended by the bureau queues the platform's review cards (dialogs/review_cards).
/// Errors are values: kNotFound, kPermissionDenied (role or region), kConflict (not at a stage
/// this role decides), kInvalidArgument (bad decision, missing reason or fields).
/// Whether `staff` may take `decision` on need `need_id` now (role, region, stage): the need's
/// title and stage, and whether it is the bureau's step. ReviewNeed checks this first; a card
/// click checks it before asking for a reason that could not be used.
struct ReviewStep {
  std::string title;
  std::string stage;
  bool bureau = false;
  std::int64_t contact = 0;  // the enterprise's contact person, told of the decision
};
[[nodiscard]] Result<ReviewStep> CheckReview(store::Connection& c, const Staff& staff, std::int64_t need_id,
                                             std::string_view decision);

[[nodiscard]] Result<StaffOutcome> ReviewNeed(store::Connection& c, const Programme& programme,
                                              const Catalogue& catalogue, const Staff& staff, std::int64_t need_id,
                                              const nlohmann::json& request, Clock::TimePoint now);

/// Staff verify (or refuse, with a reason) a registered enterprise or researcher; the person is
/// told. Bureau reviewers may verify enterprises of their region only.
[[nodiscard]] Result<StaffOutcome> VerifyEnterprise(store::Connection& c, const Catalogue& catalogue,
                                                    const Staff& staff, std::int64_t enterprise_id,
                                                    const nlohmann::json& request, Clock::TimePoint now);
[[nodiscard]] Result<StaffOutcome> VerifyResearcher(store::Connection& c, const Catalogue& catalogue,
                                                    const Staff& staff, std::int64_t person_id,
                                                    const nlohmann::json& request, Clock::TimePoint now);

/// Contracts the staff member may see (a bureau reviewer: its region only), optionally by status
/// (recorded, evidenced, verified, refused), each with its evidence and what was flagged.
[[nodiscard]] nlohmann::json ListContracts(store::Connection& c, const Staff& staff,
                                           const std::optional<std::string>& status);
/// Staff verify a contract whose evidence is complete (or refuse one, with a reason, at any time
/// before): the contract and its evidence take the decision, the enterprise contact is told.
/// kConflict for a contract not awaiting it; bureau reviewers only within their region.
[[nodiscard]] Result<StaffOutcome> VerifyContract(store::Connection& c, const Catalogue& catalogue, const Staff& staff,
                                                  std::int64_t contract_id, const nlohmann::json& request,
                                                  Clock::TimePoint now);

/// Needs the staff member may see (a bureau reviewer: its region only), optionally by stage.
[[nodiscard]] nlohmann::json ListNeeds(store::Connection& c, const Staff& staff,
                                       const std::optional<std::string>& stage);
/// One need with its reviews; kPermissionDenied outside a bureau reviewer's region.
[[nodiscard]] Result<nlohmann::json> GetNeed(store::Connection& c, const Staff& staff, std::int64_t need_id);
/// Enterprises by status (a bureau reviewer: its region only).
[[nodiscard]] nlohmann::json ListEnterprises(store::Connection& c, const Staff& staff,
                                             const std::optional<std::string>& status);
/// A person's conversation state and identities (addresses masked).
[[nodiscard]] Result<nlohmann::json> GetConversation(store::Connection& c, std::int64_t person_id);

/// Where to reach a person: the channel they last wrote on, else a verified identity; the other
/// identities as fallbacks. Nothing when the person has no identity at all.
struct Reach {
  std::string channel;
  std::string recipient;
  std::vector<std::pair<std::string, std::string>> fallback;  // (channel, recipient)
};
[[nodiscard]] std::optional<Reach> ReachPerson(store::Connection& c, std::int64_t person_id);

}  // namespace duijie::dialogs
