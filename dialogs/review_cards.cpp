#include "dialogs/review_cards.hpp"

#include <array>
#include <charconv>
#include <iomanip>
#include <sstream>

#include "dialogs/message.hpp"
#include "dialogs/validate.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "review:";
constexpr std::array<std::string_view, 4> kDecisions = {"recommend", "approve", "return", "reject"};

struct CardNeed {
  std::string title;
  std::string problem;
  std::string category;
  std::string field;
  double amount = 0;
  std::string deadline;
  std::string stage;
  std::string enterprise;
  std::string region;
  std::string sme_number;
  std::int64_t reviews = 0;  // decisions so far: a resubmitted need is a new round of cards
};

std::optional<CardNeed> LoadCardNeed(store::Connection& c, std::int64_t need_id) {
  auto& s = c.Prepare(
      "SELECT n.title, n.problem, COALESCE(n.category, ''), COALESCE(n.field, ''), COALESCE(n.amount_wan, 0), "
      "COALESCE(n.deadline, ''), n.stage, e.name, e.region, COALESCE(e.sme_number, ''), "
      "(SELECT count(*) FROM need_reviews r WHERE r.need_id = n.id) FROM needs n "
      "JOIN enterprises e ON e.id = n.enterprise_id WHERE n.id = :id");
  s.bind(":id", need_id);
  std::optional<CardNeed> out;
  if (s.executeStep()) {
    out = CardNeed{s.getColumn(0).getString(), s.getColumn(1).getString(), s.getColumn(2).getString(),
                   s.getColumn(3).getString(), s.getColumn(4).getDouble(), s.getColumn(5).getString(),
                   s.getColumn(6).getString(), s.getColumn(7).getString(), s.getColumn(8).getString(),
                   s.getColumn(9).getString(), s.getColumn(10).getInt64()};
  }
  s.reset();
  return out;
}

struct Reviewer {
  std::int64_t person = 0;
  std::string userid;
  std::string locale;
};

// Staff of `role` (held to `region` when given) with a live token linked to a WeCom member.
std::vector<Reviewer> Reviewers(store::Connection& c, std::string_view role, const std::optional<std::string>& region) {
  auto& s = c.Prepare(
      "SELECT t.person_id, min(i.address), COALESCE(p.locale, 'zh-CN') FROM api_tokens t "
      "JOIN identities i ON i.person_id = t.person_id AND i.kind = 'wecom_userid' "
      "JOIN people p ON p.id = t.person_id "
      "WHERE t.revoked_at IS NULL AND t.role = :role AND (:region IS NULL OR t.region = :region) "
      "GROUP BY t.person_id ORDER BY t.person_id");
  s.bind(":role", std::string(role));
  if (region) {
    s.bind(":region", *region);
  } else {
    s.bind(":region");
  }
  std::vector<Reviewer> out;
  while (s.executeStep()) {
    out.push_back({s.getColumn(0).getInt64(), s.getColumn(1).getString(), s.getColumn(2).getString()});
  }
  s.reset();
  return out;
}

}  // namespace

std::string ReviewButtonKey(std::int64_t need_id, std::string_view decision) {
  return std::string(kPrefix) + std::to_string(need_id) + ":" + std::string(decision);
}

std::optional<ReviewButton> ParseReviewButtonKey(std::string_view key) {
  if (key.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  key.remove_prefix(kPrefix.size());
  const auto colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  ReviewButton out;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + colon, out.need_id);
  if (ec != std::errc{} || end != key.data() + colon || out.need_id <= 0) return std::nullopt;
  const std::string_view decision = key.substr(colon + 1);
  if (std::find(kDecisions.begin(), kDecisions.end(), decision) == kDecisions.end()) return std::nullopt;
  out.decision = std::string(decision);
  return out;
}

std::vector<store::NewOutboxMessage> ReviewCards(store::Connection& c, const Programme& programme,
                                                 const Catalogue& catalogue, std::int64_t need_id) {
  const auto need = LoadCardNeed(c, need_id);
  if (!need || (need->stage != "submitted" && need->stage != "recommended")) return {};
  const bool bureau = need->stage == "submitted";
  auto reviewers = bureau ? Reviewers(c, "bureau_reviewer", need->region) : Reviewers(c, "platform_reviewer", {});
  if (reviewers.empty()) reviewers = Reviewers(c, "admin", {});
  const std::array<std::string_view, 3> decisions = {bureau ? "recommend" : "approve", "return", "reject"};

  std::vector<store::NewOutboxMessage> out;
  for (const auto& r : reviewers) {
    const auto& locale = r.locale;
    const json params = {
        {"title", need->title},
        {"enterprise", need->enterprise},
        {"region", ChoiceName(programme.regions, need->region)},
        {"sme", need->sme_number.empty() ? catalogue.Text(locale, "review_card.no_sme") : need->sme_number},
        {"category", ChoiceName(programme.categories, need->category)},
        {"field", ChoiceName(programme.fields, need->field)},
        {"amount", FormatWan(need->amount)},
        {"deadline", need->deadline},
        {"problem", need->problem},
        {"level", catalogue.Text(locale, bureau ? "review_card.level.bureau" : "review_card.level.platform")}};
    OutboundMessage msg;
    msg.kind = "template";
    msg.title = catalogue.Text(locale, "review_card.title", params);
    msg.text = catalogue.Text(locale, "review_card.text", params);
    json buttons = json::array();
    for (const auto decision : decisions) {
      const int style = decision == "reject" ? 2 : 1;
      buttons.push_back({{"text", catalogue.Text(locale, "review_card.button." + std::string(decision))},
                         {"key", ReviewButtonKey(need_id, decision)},
                         {"style", style}});
    }
    const std::string round = std::to_string(need_id) + "-" + std::to_string(need->reviews);
    msg.params = {
        {"task_id", "review-" + round + "-" + std::to_string(r.person)},
        {"source", catalogue.Text(locale, "review_card.source")},
        {"buttons", std::move(buttons)},
        {"fields",
         json::array({{{"name", catalogue.Text(locale, "review_card.field.enterprise")}, {"value", need->enterprise}},
                      {{"name", catalogue.Text(locale, "review_card.field.sme")}, {"value", params["sme"]}},
                      {{"name", catalogue.Text(locale, "review_card.field.amount")},
                       {"value", FormatWan(need->amount) + catalogue.Text(locale, "review_card.wan")}},
                      {{"name", catalogue.Text(locale, "review_card.field.deadline")}, {"value", need->deadline}}})}};
    store::NewOutboxMessage m;
    m.idempotency_key = "review-card:" + round + ":" + std::to_string(r.person);
    m.channel = "wecom";
    m.recipient = r.userid;
    m.kind = "review_card";
    m.payload = json(msg).dump();
    m.person_id = r.person;
    m.priority = 5;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<store::NewOutboxMessage> StaffNotices(store::Connection& c, const Catalogue& catalogue,
                                                  const std::string& region, const std::string& key,
                                                  std::string_view text_key, const json& params) {
  auto staff = Reviewers(c, "bureau_reviewer", region);
  if (staff.empty()) staff = Reviewers(c, "admin", {});
  std::vector<store::NewOutboxMessage> out;
  for (const auto& r : staff) {
    store::NewOutboxMessage m;
    m.idempotency_key = key + ":" + std::to_string(r.person);
    m.channel = "wecom";
    m.recipient = r.userid;
    m.kind = "notice";
    m.payload = json(TextMessage(catalogue.Text(r.locale, text_key, params))).dump();
    m.person_id = r.person;
    m.priority = 5;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace duijie::dialogs
