#include "dialogs/staff.hpp"

#include <algorithm>
#include <array>

#include "common/mask.hpp"
#include "dialogs/conversations.hpp"
#include "dialogs/review_cards.hpp"
#include "store/outbox_repository.hpp"
#include "store/person_data.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

// The need fields a reviewer may flag (the need form's field names).
constexpr std::array<std::string_view, 8> kNeedFields = {"title",    "problem", "targets", "constraints",
                                                         "category", "field",   "amount",  "deadline"};

Error Denied(const std::string& why) { return Error(Errc::kPermissionDenied, why); }

void Audit(store::Connection& c, const Staff& staff, std::string_view action, const std::string& target,
           const json& detail, std::int64_t now) {
  auto& s = c.Prepare(
      "INSERT INTO audit_log (actor, action, target, detail, at) VALUES (:actor, :action, :target, :detail, :at)");
  s.bind(":actor", staff.name + " (" + staff.role + ")");
  s.bind(":action", std::string(action));
  s.bind(":target", target);
  s.bind(":detail", detail.dump());
  s.bind(":at", now);
  s.exec();
}

// Staff decisions come through the admin API.
void Transition(store::Connection& c, std::string_view entity, std::int64_t id, const std::string& from,
                const std::string& to, const std::string& reason, std::int64_t now) {
  store::RecordTransition(c, {std::string(entity), id, from, to, std::nullopt, "api", reason, now});
}

// Queues `text` for the person on the channel they last used; false if they cannot be reached.
bool Tell(store::Connection& c, std::int64_t person, const std::string& key, const std::string& text,
          std::int64_t now) {
  const auto reach = ReachPerson(c, person);
  if (!reach) return false;
  store::NewOutboxMessage m;
  m.idempotency_key = key;
  m.channel = reach->channel;
  m.recipient = reach->recipient;
  m.kind = "notice";
  m.payload = json{{"kind", "text"}, {"text", text}}.dump();
  m.person_id = person;
  m.priority = 5;
  for (const auto& [channel, recipient] : reach->fallback) m.fallback.push_back({channel, recipient});
  store::OutboxRepository::Enqueue(c, m, now);
  return true;
}

struct NeedRow {
  std::string title;
  std::string stage;
  std::string region;
  std::int64_t contact = 0;
  std::int64_t enterprise = 0;
};

std::optional<NeedRow> LoadNeedRow(store::Connection& c, std::int64_t id) {
  auto& s = c.Prepare(
      "SELECT n.title, n.stage, e.region, e.contact_person_id, e.id FROM needs n "
      "JOIN enterprises e ON e.id = n.enterprise_id WHERE n.id = :id");
  s.bind(":id", id);
  std::optional<NeedRow> out;
  if (s.executeStep()) {
    out = NeedRow{s.getColumn(0).getString(), s.getColumn(1).getString(), s.getColumn(2).getString(),
                  s.getColumn(3).getInt64(), s.getColumn(4).getInt64()};
  }
  s.reset();
  return out;
}

bool SeesRegion(const Staff& staff, const std::string& region) {
  return staff.role != "bureau_reviewer" || (staff.region && *staff.region == region);
}

json NeedJson(SQLite::Statement& s) {
  return json{{"id", s.getColumn(0).getInt64()},
              {"title", s.getColumn(1).getString()},
              {"stage", s.getColumn(2).getString()},
              {"enterprise", s.getColumn(3).getString()},
              {"region", s.getColumn(4).getString()},
              {"category", s.getColumn(5).getString()},
              {"field", s.getColumn(6).getString()},
              {"amount_wan", s.getColumn(7).getDouble()},
              {"deadline", s.getColumn(8).getString()},
              {"returned_fields", s.getColumn(9).isNull() ? json() : json::parse(s.getColumn(9).getString())}};
}

constexpr const char* kNeedColumns =
    "SELECT n.id, n.title, n.stage, e.name, e.region, COALESCE(n.category, ''), COALESCE(n.field, ''), "
    "COALESCE(n.amount_wan, 0), COALESCE(n.deadline, ''), n.returned_fields FROM needs n "
    "JOIN enterprises e ON e.id = n.enterprise_id ";

struct Verdict {
  std::string decision;  // verify | refuse
  std::string reason;
  std::string to;  // verified | refused
};

// The body of a verification: a decision, and a reason when refusing.
Result<Verdict> ParseVerdict(const json& request) {
  Verdict v{request.value("decision", ""), request.value("reason", ""), ""};
  if (v.decision != "verify" && v.decision != "refuse") {
    return Error(Errc::kInvalidArgument, "decision must be verify or refuse");
  }
  if (v.decision == "refuse" && v.reason.empty())
    return Error(Errc::kInvalidArgument, "a reason is required to refuse");
  v.to = v.decision == "verify" ? "verified" : "refused";
  return v;
}

// The person's status after a verification, recorded as a transition.
void SettlePerson(store::Connection& c, std::int64_t person, const Verdict& v, std::int64_t now) {
  auto& upd = c.Prepare("UPDATE people SET status = :to, updated_at = :now WHERE id = :id AND status = 'pending'");
  upd.bind(":to", v.to);
  upd.bind(":now", now);
  upd.bind(":id", person);
  upd.exec();
  Transition(c, "person", person, "pending", v.to, v.reason, now);
}

}  // namespace

std::optional<Reach> ReachPerson(store::Connection& c, std::int64_t person) {
  std::string last;
  auto& conv = c.Prepare("SELECT COALESCE(last_channel, '') FROM conversations WHERE person_id = :p");
  conv.bind(":p", person);
  if (conv.executeStep()) last = conv.getColumn(0).getString();
  conv.reset();
  std::vector<std::pair<std::string, std::string>> all;  // (channel, address), verified first
  auto& ids =
      c.Prepare("SELECT kind, address FROM identities WHERE person_id = :p ORDER BY status = 'verified' DESC, id");
  ids.bind(":p", person);
  while (ids.executeStep())
    all.emplace_back(ChannelOfIdentity(ids.getColumn(0).getString()), ids.getColumn(1).getString());
  ids.reset();
  if (all.empty()) return std::nullopt;
  auto first = std::find_if(all.begin(), all.end(), [&](const auto& a) { return a.first == last; });
  if (first == all.end()) first = all.begin();
  Reach reach{first->first, first->second, {}};
  for (const auto& a : all) {
    if (&a != &*first) reach.fallback.push_back(a);
  }
  return reach;
}

Result<ReviewStep> CheckReview(store::Connection& c, const Staff& staff, std::int64_t need_id,
                               std::string_view decision) {
  if (staff.role == "viewer") return Denied("a viewer token cannot review");
  const auto need = LoadNeedRow(c, need_id);
  if (!need) return Error(Errc::kNotFound, "no need " + std::to_string(need_id));
  if (!SeesRegion(staff, need->region))
    return Denied("need " + std::to_string(need_id) + " is outside this token's region");
  // Who decides at which stage: the chain's first stage is the bureau's, the last the platform's.
  const bool bureau_stage = need->stage == "submitted";
  const bool platform_stage = need->stage == "recommended";
  if (!bureau_stage && !platform_stage) {
    return Error(Errc::kConflict, "need " + std::to_string(need_id) + " is " + need->stage + ", not awaiting review");
  }
  if (staff.role == "bureau_reviewer" && !bureau_stage) {
    return Denied("the bureau reviewed this need already; the platform decides now");
  }
  if (staff.role == "platform_reviewer" && !platform_stage) {
    return Denied("the local bureau reviews this need first");
  }
  static constexpr std::array<std::string_view, 3> kBureau = {"recommend", "return", "reject"};
  static constexpr std::array<std::string_view, 3> kPlatform = {"approve", "return", "reject"};
  const auto& allowed = bureau_stage ? kBureau : kPlatform;
  if (std::find(allowed.begin(), allowed.end(), decision) == allowed.end()) {
    return Error(Errc::kInvalidArgument, std::string("decision must be one of ") +
                                             (bureau_stage ? "recommend, return, reject" : "approve, return, reject"));
  }
  return ReviewStep{need->title, need->stage, bureau_stage, need->contact};
}

Result<StaffOutcome> ReviewNeed(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                                const Staff& staff, std::int64_t need_id, const json& request,
                                Clock::TimePoint now_tp) {
  const std::int64_t now = ToUnixMillis(now_tp);
  const std::string decision = request.value("decision", "");
  const std::string reason = request.value("reason", "");
  const auto step = CheckReview(c, staff, need_id, decision);
  if (!step) return step.error();
  const bool bureau_stage = step->bureau;
  if ((decision == "return" || decision == "reject") && reason.empty()) {
    return Error(Errc::kInvalidArgument, "a reason is required to " + decision + " a need");
  }
  json fields = json::array();
  if (decision == "return") {
    const json given = request.value("fields", json::array());
    if (!given.is_array() || given.empty()) {
      return Error(Errc::kInvalidArgument,
                   "fields: name the fields to fix (title, problem, targets, constraints, "
                   "category, field, amount, deadline)");
    }
    for (const auto& f : given) {
      if (!f.is_string() ||
          std::find(kNeedFields.begin(), kNeedFields.end(), f.get<std::string>()) == kNeedFields.end()) {
        return Error(Errc::kInvalidArgument, "fields: unknown field " + f.dump());
      }
      if (std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
    }
  }
  if (bureau_stage && programme.review_chain.front().recommendation && decision == "recommend" && reason.empty()) {
    return Error(Errc::kInvalidArgument, "the bureau's recommendation (推荐意见) is required: put it in reason");
  }
  const std::string to = decision == "recommend" ? "recommended"
                         : decision == "approve" ? "published"
                         : decision == "return"  ? "returned"
                                                 : "rejected";
  auto& review = c.Prepare(
      "INSERT INTO need_reviews (need_id, level, decision, reason, created_at) "
      "VALUES (:need, :level, :decision, :reason, :now)");
  review.bind(":need", need_id);
  review.bind(":level", bureau_stage ? "bureau" : "platform");
  review.bind(":decision", decision);
  if (reason.empty()) {
    review.bind(":reason");
  } else {
    review.bind(":reason", reason);
  }
  review.bind(":now", now);
  review.exec();
  const std::int64_t review_id = c.Db().getLastInsertRowid();
  auto& update = c.Prepare(
      "UPDATE needs SET stage = :to, returned_fields = :fields, updated_at = :now WHERE id = :id AND stage = :from");
  update.bind(":to", to);
  if (decision == "return") {
    update.bind(":fields", fields.dump());
  } else {
    update.bind(":fields");
  }
  update.bind(":now", now);
  update.bind(":id", need_id);
  update.bind(":from", step->stage);
  update.exec();
  store::RecordTransition(c, {"need", need_id, step->stage, to, staff.person_id, staff.channel, reason, now});
  Audit(c, staff, "need.review", "need:" + std::to_string(need_id),
        {{"decision", decision},
         {"reason", reason},
         {"fields", fields},
         {"from", step->stage},
         {"to", to},
         {"channel", staff.channel}},
        now);

  const std::string locale = store::PersonLocale(c, step->contact, Catalogue::kDefaultLocale);
  std::string labels;
  for (const auto& f : fields) {
    labels += (labels.empty() ? "" : "、") + catalogue.Text(locale, "field.need_posting." + f.get<std::string>());
  }
  const std::string text =
      catalogue.Text(locale, "review." + to, {{"title", step->title}, {"reason", reason}, {"fields", labels}});
  bool queued = Tell(c, step->contact, "review:" + std::to_string(review_id), text, now);
  for (const auto& card : ReviewCards(c, programme, catalogue, need_id)) {
    store::OutboxRepository::Enqueue(c, card, now);
    queued = true;
  }
  auto got = GetNeed(c, staff, need_id);
  return StaffOutcome{got ? *got : json::object(), queued};
}

Result<StaffOutcome> VerifyEnterprise(store::Connection& c, const Catalogue& catalogue, const Staff& staff,
                                      std::int64_t enterprise_id, const json& request, Clock::TimePoint now_tp) {
  const std::int64_t now = ToUnixMillis(now_tp);
  if (staff.role == "viewer") return Denied("a viewer token cannot verify");
  auto& sel = c.Prepare("SELECT name, region, status, contact_person_id FROM enterprises WHERE id = :id");
  sel.bind(":id", enterprise_id);
  if (!sel.executeStep()) {
    sel.reset();
    return Error(Errc::kNotFound, "no enterprise " + std::to_string(enterprise_id));
  }
  const std::string name = sel.getColumn(0).getString();
  const std::string region = sel.getColumn(1).getString();
  const std::string status = sel.getColumn(2).getString();
  const std::int64_t contact = sel.getColumn(3).getInt64();
  sel.reset();
  if (!SeesRegion(staff, region)) {
    return Denied("enterprise " + std::to_string(enterprise_id) + " is outside this token's region");
  }
  const auto verdict = ParseVerdict(request);
  if (!verdict) return verdict.error();
  if (status != "pending") {
    return Error(Errc::kConflict, "enterprise " + std::to_string(enterprise_id) + " is " + status);
  }
  const std::string& to = verdict->to;
  auto& upd = c.Prepare("UPDATE enterprises SET status = :to, updated_at = :now WHERE id = :id");
  upd.bind(":to", to);
  upd.bind(":now", now);
  upd.bind(":id", enterprise_id);
  upd.exec();
  SettlePerson(c, contact, *verdict, now);
  Audit(c, staff, "enterprise." + verdict->decision, "enterprise:" + std::to_string(enterprise_id),
        {{"reason", verdict->reason}}, now);
  const std::string locale = store::PersonLocale(c, contact, Catalogue::kDefaultLocale);
  const bool queued =
      Tell(c, contact, "enterprise:" + std::to_string(enterprise_id) + ":" + to,
           catalogue.Text(locale, "enterprise." + to, {{"name", name}, {"reason", verdict->reason}}), now);
  return StaffOutcome{{{"id", enterprise_id}, {"name", name}, {"status", to}}, queued};
}

Result<StaffOutcome> VerifyResearcher(store::Connection& c, const Catalogue& catalogue, const Staff& staff,
                                      std::int64_t person_id, const json& request, Clock::TimePoint now_tp) {
  const std::int64_t now = ToUnixMillis(now_tp);
  if (staff.role != "admin" && staff.role != "platform_reviewer") {
    return Denied("researchers are verified by the platform");
  }
  auto& sel = c.Prepare("SELECT status FROM researchers WHERE person_id = :id");
  sel.bind(":id", person_id);
  if (!sel.executeStep()) {
    sel.reset();
    return Error(Errc::kNotFound, "no researcher " + std::to_string(person_id));
  }
  const std::string status = sel.getColumn(0).getString();
  sel.reset();
  const auto verdict = ParseVerdict(request);
  if (!verdict) return verdict.error();
  if (status != "pending") return Error(Errc::kConflict, "researcher " + std::to_string(person_id) + " is " + status);
  const std::string& to = verdict->to;
  auto& upd = c.Prepare("UPDATE researchers SET status = :to, updated_at = :now WHERE person_id = :id");
  upd.bind(":to", to);
  upd.bind(":now", now);
  upd.bind(":id", person_id);
  upd.exec();
  SettlePerson(c, person_id, *verdict, now);
  Audit(c, staff, "researcher." + verdict->decision, "person:" + std::to_string(person_id),
        {{"reason", verdict->reason}}, now);
  const std::string locale = store::PersonLocale(c, person_id, Catalogue::kDefaultLocale);
  const bool queued = Tell(c, person_id, "researcher:" + std::to_string(person_id) + ":" + to,
                           catalogue.Text(locale, "researcher." + to, {{"reason", verdict->reason}}), now);
  return StaffOutcome{{{"person_id", person_id}, {"status", to}}, queued};
}

namespace {

constexpr const char* kContractColumns =
    "SELECT k.id, k.need_id, n.title, e.name, e.region, COALESCE(pe.display_name, ''), COALESCE(u.name, ''), "
    "k.contract_type, k.amount_wan, k.funding_wan, k.signed_on, k.status, e.contact_person_id FROM contracts k "
    "JOIN needs n ON n.id = k.need_id JOIN enterprises e ON e.id = n.enterprise_id "
    "JOIN people pe ON pe.id = k.researcher_person_id LEFT JOIN units u ON u.id = k.unit_id ";

json ContractJson(store::Connection& c, SQLite::Statement& s) {
  json out{{"id", s.getColumn(0).getInt64()},
           {"need_id", s.getColumn(1).getInt64()},
           {"need", s.getColumn(2).getString()},
           {"enterprise", s.getColumn(3).getString()},
           {"region", s.getColumn(4).getString()},
           {"researcher", s.getColumn(5).getString()},
           {"unit", s.getColumn(6).getString()},
           {"contract_type", s.getColumn(7).getString()},
           {"amount_wan", s.getColumn(8).getDouble()},
           {"funding_wan", s.getColumn(9).isNull() ? json() : json(s.getColumn(9).getDouble())},
           {"signed_on", s.getColumn(10).getString()},
           {"status", s.getColumn(11).getString()}};
  // Each file by its reference; the stored document (a mail attachment's SHA-256, or the WeCom
  // file fetched for the message that carried the media id) when it is there.
  auto& e = c.Prepare(
      "SELECT v.kind, v.file_ref, v.stated_amount_wan, v.stated_date, COALESCE(v.note, ''), v.problems, v.status, "
      "v.created_at, (SELECT d.sha256 FROM documents d WHERE d.sha256 = v.file_ref OR d.inbox_id IN (SELECT i.id "
      "FROM inbox i WHERE i.channel IN ('wecom', 'wecom_kf') AND json_extract(i.payload, '$.text') = v.file_ref) "
      "LIMIT 1) FROM evidence v WHERE v.contract_id = :id ORDER BY v.id");
  e.bind(":id", s.getColumn(0).getInt64());
  json evidence = json::array();
  while (e.executeStep()) {
    evidence.push_back({{"kind", e.getColumn(0).getString()},
                        {"file_ref", e.getColumn(1).getString()},
                        {"stated_amount_wan", e.getColumn(2).isNull() ? json() : json(e.getColumn(2).getDouble())},
                        {"stated_date", e.getColumn(3).isNull() ? json() : json(e.getColumn(3).getString())},
                        {"note", e.getColumn(4).getString()},
                        {"problems", json::parse(e.getColumn(5).getString(), nullptr, false)},
                        {"status", e.getColumn(6).getString()},
                        {"at", FormatUtc(FromUnixMillis(e.getColumn(7).getInt64()))},
                        {"document_sha256", e.getColumn(8).isNull() ? json() : json(e.getColumn(8).getString())}});
  }
  e.reset();
  // The same file given elsewhere (for this contract or another): found by content once stored —
  // WeCom gives every upload a new media id, so only the SHA-256 tells.
  for (auto& item : evidence) {
    if (!item["document_sha256"].is_string()) continue;
    auto& d = c.Prepare(
        "SELECT v.contract_id, v.kind FROM evidence v WHERE v.file_ref <> :ref AND (v.file_ref = :sha OR v.file_ref "
        "IN (SELECT json_extract(i.payload, '$.text') FROM inbox i JOIN documents d ON d.inbox_id = i.id WHERE "
        "d.sha256 = :sha AND i.channel IN ('wecom', 'wecom_kf'))) ORDER BY v.id");
    d.bind(":ref", item["file_ref"].get<std::string>());
    d.bind(":sha", item["document_sha256"].get<std::string>());
    json same = json::array();
    while (d.executeStep())
      same.push_back({{"contract_id", d.getColumn(0).getInt64()}, {"kind", d.getColumn(1).getString()}});
    d.reset();
    item["same_file_as"] = std::move(same);
  }
  out["evidence"] = std::move(evidence);
  return out;
}

}  // namespace

json ListContracts(store::Connection& c, const Staff& staff, const std::optional<std::string>& status) {
  auto& s = c.Prepare(std::string(kContractColumns) +
                      "WHERE (:status IS NULL OR k.status = :status) AND (:region IS NULL OR e.region = :region) "
                      "ORDER BY k.id LIMIT 500");
  if (status) {
    s.bind(":status", *status);
  } else {
    s.bind(":status");
  }
  if (staff.role == "bureau_reviewer") {
    s.bind(":region", staff.region.value_or("\x01"));
  } else {
    s.bind(":region");
  }
  json out = json::array();
  while (s.executeStep()) out.push_back(ContractJson(c, s));
  s.reset();
  return out;
}

Result<StaffOutcome> VerifyContract(store::Connection& c, const Catalogue& catalogue, const Staff& staff,
                                    std::int64_t contract_id, const json& request, Clock::TimePoint now_tp) {
  const std::int64_t now = ToUnixMillis(now_tp);
  if (staff.role == "viewer") return Denied("a viewer token cannot verify");
  auto& sel = c.Prepare(std::string(kContractColumns) + "WHERE k.id = :id");
  sel.bind(":id", contract_id);
  if (!sel.executeStep()) {
    sel.reset();
    return Error(Errc::kNotFound, "no contract " + std::to_string(contract_id));
  }
  const std::string region = sel.getColumn(4).getString();
  const std::string status = sel.getColumn(11).getString();
  const std::string title = sel.getColumn(2).getString();
  const std::int64_t contact = sel.getColumn(12).getInt64();
  sel.reset();
  if (!SeesRegion(staff, region)) {
    return Denied("contract " + std::to_string(contract_id) + " is outside this token's region");
  }
  const auto verdict = ParseVerdict(request);
  if (!verdict) return verdict.error();
  const bool awaiting =
      verdict->decision == "verify" ? status == "evidenced" : (status == "recorded" || status == "evidenced");
  if (!awaiting) {
    return Error(Errc::kConflict, "contract " + std::to_string(contract_id) + " is " + status +
                                      (verdict->decision == "verify" ? ": its evidence is not complete" : ""));
  }
  auto& upd = c.Prepare("UPDATE contracts SET status = :to, updated_at = :now WHERE id = :id");
  upd.bind(":to", verdict->to);
  upd.bind(":now", now);
  upd.bind(":id", contract_id);
  upd.exec();
  auto& ev = c.Prepare("UPDATE evidence SET status = :to WHERE contract_id = :id AND kind <> 'report'");
  ev.bind(":to", verdict->to);
  ev.bind(":id", contract_id);
  ev.exec();
  store::RecordTransition(
      c, {"contract", contract_id, status, verdict->to, staff.person_id, staff.channel, verdict->reason, now});
  Audit(c, staff, "contract." + verdict->decision, "contract:" + std::to_string(contract_id),
        {{"reason", verdict->reason}}, now);
  const std::string locale = store::PersonLocale(c, contact, Catalogue::kDefaultLocale);
  const bool queued =
      Tell(c, contact, "contract:" + std::to_string(contract_id) + ":" + verdict->to,
           catalogue.Text(locale, "contract." + verdict->to, {{"title", title}, {"reason", verdict->reason}}), now);
  auto& again = c.Prepare(std::string(kContractColumns) + "WHERE k.id = :id");
  again.bind(":id", contract_id);
  json body = again.executeStep() ? ContractJson(c, again) : json::object();
  again.reset();
  return StaffOutcome{body, queued};
}

json ListNeeds(store::Connection& c, const Staff& staff, const std::optional<std::string>& stage) {
  auto& s = c.Prepare(std::string(kNeedColumns) +
                      "WHERE (:stage IS NULL OR n.stage = :stage) AND (:region IS NULL OR e.region = :region) "
                      "ORDER BY n.id LIMIT 500");
  if (stage) {
    s.bind(":stage", *stage);
  } else {
    s.bind(":stage");
  }
  if (staff.role == "bureau_reviewer") {
    s.bind(":region", staff.region.value_or("\x01"));  // a bureau token without a region sees nothing
  } else {
    s.bind(":region");
  }
  json out = json::array();
  while (s.executeStep()) out.push_back(NeedJson(s));
  s.reset();
  return out;
}

Result<json> GetNeed(store::Connection& c, const Staff& staff, std::int64_t need_id) {
  auto& s = c.Prepare(std::string(kNeedColumns) + "WHERE n.id = :id");
  s.bind(":id", need_id);
  if (!s.executeStep()) {
    s.reset();
    return Error(Errc::kNotFound, "no need " + std::to_string(need_id));
  }
  json need = NeedJson(s);
  s.reset();
  if (!SeesRegion(staff, need["region"].get<std::string>())) {
    return Denied("need " + std::to_string(need_id) + " is outside this token's region");
  }
  auto& r = c.Prepare(
      "SELECT level, decision, COALESCE(reason, ''), created_at FROM need_reviews WHERE need_id = :id ORDER BY id");
  r.bind(":id", need_id);
  json reviews = json::array();
  while (r.executeStep()) {
    reviews.push_back({{"level", r.getColumn(0).getString()},
                       {"decision", r.getColumn(1).getString()},
                       {"reason", r.getColumn(2).getString()},
                       {"at", FormatUtc(FromUnixMillis(r.getColumn(3).getInt64()))}});
  }
  r.reset();
  need["reviews"] = reviews;
  // The whole history: every stage change of the need, its pushes and its contracts — who (a
  // person's name, else the channel: api, system), when, from which channel, why.
  auto& h = c.Prepare(
      "SELECT t.entity, t.entity_id, COALESCE(t.from_state, ''), t.to_state, COALESCE(p.display_name, ''), "
      "COALESCE(t.channel, ''), COALESCE(t.reason, ''), t.at FROM transitions t LEFT JOIN people p ON p.id = "
      "t.actor_person_id WHERE (t.entity = 'need' AND t.entity_id = :id) OR (t.entity = 'push' AND t.entity_id IN "
      "(SELECT id FROM pushes WHERE need_id = :id)) OR (t.entity = 'contract' AND t.entity_id IN (SELECT id FROM "
      "contracts WHERE need_id = :id)) ORDER BY t.at, t.id");
  h.bind(":id", need_id);
  json history = json::array();
  while (h.executeStep()) {
    history.push_back({{"entity", h.getColumn(0).getString()},
                       {"entity_id", h.getColumn(1).getInt64()},
                       {"from", h.getColumn(2).getString()},
                       {"to", h.getColumn(3).getString()},
                       {"by", h.getColumn(4).getString()},
                       {"channel", h.getColumn(5).getString()},
                       {"reason", h.getColumn(6).getString()},
                       {"at", FormatUtc(FromUnixMillis(h.getColumn(7).getInt64()))}});
  }
  h.reset();
  need["history"] = std::move(history);
  return need;
}

json ListEnterprises(store::Connection& c, const Staff& staff, const std::optional<std::string>& status) {
  auto& s = c.Prepare(
      "SELECT id, name, credit_code, region, industry, COALESCE(sme_number, ''), status FROM enterprises "
      "WHERE (:status IS NULL OR status = :status) AND (:region IS NULL OR region = :region) ORDER BY id LIMIT 500");
  if (status) {
    s.bind(":status", *status);
  } else {
    s.bind(":status");
  }
  if (staff.role == "bureau_reviewer") {
    s.bind(":region", staff.region.value_or("\x01"));
  } else {
    s.bind(":region");
  }
  json out = json::array();
  while (s.executeStep()) {
    out.push_back({{"id", s.getColumn(0).getInt64()},
                   {"name", s.getColumn(1).getString()},
                   {"credit_code", s.getColumn(2).getString()},
                   {"region", s.getColumn(3).getString()},
                   {"industry", s.getColumn(4).getString()},
                   {"sme_number", s.getColumn(5).getString()},
                   {"status", s.getColumn(6).getString()}});
  }
  s.reset();
  return out;
}

Result<json> GetConversation(store::Connection& c, std::int64_t person_id) {
  auto& p = c.Prepare("SELECT role, status, COALESCE(display_name, '') FROM people WHERE id = :id");
  p.bind(":id", person_id);
  if (!p.executeStep()) {
    p.reset();
    return Error(Errc::kNotFound, "no person " + std::to_string(person_id));
  }
  json out{{"person_id", person_id},
           {"role", p.getColumn(0).getString()},
           {"status", p.getColumn(1).getString()},
           {"name", p.getColumn(2).getString()}};
  p.reset();
  auto& conv =
      c.Prepare("SELECT state, COALESCE(last_channel, ''), updated_at FROM conversations WHERE person_id = :id");
  conv.bind(":id", person_id);
  if (conv.executeStep()) {
    out["conversation"] = json::parse(conv.getColumn(0).getString(), nullptr, false);
    out["last_channel"] = conv.getColumn(1).getString();
    out["updated_at"] = FormatUtc(FromUnixMillis(conv.getColumn(2).getInt64()));
  }
  conv.reset();
  auto& ids = c.Prepare("SELECT kind, address, status FROM identities WHERE person_id = :id ORDER BY id");
  ids.bind(":id", person_id);
  json identities = json::array();
  while (ids.executeStep()) {
    const std::string kind = ids.getColumn(0).getString();
    const std::string address = ids.getColumn(1).getString();
    identities.push_back({{"kind", kind}, {"address", MaskAddress(address)}, {"status", ids.getColumn(2).getString()}});
  }
  ids.reset();
  out["identities"] = identities;
  return out;
}

}  // namespace duijie::dialogs
