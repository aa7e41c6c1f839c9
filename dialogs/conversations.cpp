#include "dialogs/conversations.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "common/mask.hpp"
#include "dialogs/audiences.hpp"
#include "dialogs/broadcasts.hpp"
#include "dialogs/message.hpp"
#include "dialogs/mine.hpp"
#include "dialogs/proposals.hpp"
#include "dialogs/pushes.hpp"
#include "dialogs/review_cards.hpp"
#include "dialogs/sms_replies.hpp"
#include "dialogs/staff.hpp"
#include "dialogs/talks.hpp"
#include "dialogs/templates.hpp"
#include "matcher/utf8.hpp"
#include "store/matching.hpp"
#include "store/person_data.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

using matcher::Excerpt;

std::optional<std::int64_t> OptionalId(SQLite::Statement& s) {
  std::optional<std::int64_t> out;
  if (s.executeStep()) out = s.getColumn(0).getInt64();
  s.reset();
  return out;
}

std::optional<std::string> Opt(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return std::nullopt;
}

void BindOpt(SQLite::Statement& s, const char* name, const std::optional<std::string>& v) {
  if (v) {
    s.bind(name, *v);
  } else {
    s.bind(name);
  }
}

class DbFacts final : public Facts {
 public:
  DbFacts(store::Connection& conn, std::int64_t person, const Programme& programme, const Catalogue& catalogue,
          std::string locale, std::string channel, Clock::TimePoint now, const NeedRecommender& recommender)
      : conn_(conn),
        person_(person),
        programme_(programme),
        catalogue_(catalogue),
        locale_(std::move(locale)),
        channel_(std::move(channel)),
        now_(now),
        recommender_(recommender) {}

  // Staff speak on the operator's own WeCom app only: a member of the corp holding a live token
  // that may send broadcasts. SMS and mail senders can be forged; a kf visitor is outside.
  [[nodiscard]] std::optional<Staff> StaffMember() const {
    // Asked by every staff question of a turn (options, parse, show, preview): read once.
    if (!staff_) staff_ = LoadStaff();
    return *staff_;
  }
  [[nodiscard]] std::optional<Staff> LoadStaff() const {
    if (channel_ != "wecom") return std::nullopt;
    auto& s = conn_.Prepare(
        "SELECT name, role, region FROM api_tokens WHERE person_id = :person AND revoked_at IS NULL AND role IN "
        "('admin', 'platform_reviewer', 'bureau_reviewer') ORDER BY id DESC LIMIT 1");
    s.bind(":person", person_);
    std::optional<Staff> out;
    if (s.executeStep()) {
      out = Staff{s.getColumn(0).getString(), s.getColumn(1).getString(), std::nullopt, person_, channel_};
      if (!s.getColumn(2).isNull()) out->region = s.getColumn(2).getString();
    }
    s.reset();
    return out;
  }
  [[nodiscard]] bool IsStaff() const override { return StaffMember().has_value(); }

  // The audience behind a choice of StaffAudiences(), held to a bureau reviewer's region.
  [[nodiscard]] std::optional<json> AudienceDoc(const Staff& staff, const std::string& id) const {
    std::optional<json> doc;
    if (id.rfind("role:", 0) == 0) doc = json{{"roles", {id.substr(5)}}};
    if (id.rfind("stage:", 0) == 0) doc = json{{"stage", id.substr(6)}};
    if (id.rfind("saved:", 0) == 0) {
      std::int64_t saved = 0;
      const auto [ptr, ec] = std::from_chars(id.data() + 6, id.data() + id.size(), saved);
      if (ec == std::errc{}) doc = FindSavedAudience(conn_, saved);
    }
    if (doc && staff.region && !doc->contains("regions")) (*doc)["regions"] = {*staff.region};
    return doc;
  }

  [[nodiscard]] std::vector<Choice> StaffAudiences() const override {
    const auto staff = StaffMember();
    if (!staff) return {};
    std::vector<Choice> out;
    const std::string region = staff->region
                                   ? catalogue_.Text(locale_, "staff.audience.region",
                                                     {{"region", ChoiceName(programme_.regions, *staff->region)}})
                                   : std::string();
    for (const char* role : {"enterprise_contact", "researcher"}) {
      out.push_back({std::string("role:") + role,
                     catalogue_.Text(locale_, std::string("staff.audience.role.") + role) + region,
                     {}});
    }
    for (const auto& [stage, meaning] : AudienceStages()) {
      out.push_back({"stage:" + stage, catalogue_.Text(locale_, "staff.audience.stage." + stage) + region, {}});
    }
    for (const auto& saved : ListAudiences(conn_)) {
      const std::string id = "saved:" + std::to_string(saved.value("id", std::int64_t{0}));
      const auto doc = AudienceDoc(*staff, id);
      // A saved audience outside a bureau reviewer's region is not theirs to send to.
      if (!doc || !ParseAudience(*doc, programme_, *staff)) continue;
      out.push_back({id, catalogue_.Text(locale_, "staff.audience.saved", {{"name", saved.value("name", "")}}), {}});
    }
    return out;
  }

  // Saved templates that need nothing but {name}: the others need values a chat does not ask for.
  [[nodiscard]] std::vector<Choice> StaffTemplates() const override {
    if (!IsStaff()) return {};
    std::vector<Choice> out;
    for (const auto& t : ListTemplates(conn_, catalogue_)) {
      if (t.value("source", "") != "saved" || !t.value("variables", json::array()).empty()) continue;
      const auto r = RenderTemplate(t, locale_, {{"name", "{name}"}});
      out.push_back({t["name"].get<std::string>(), r.title + "：" + r.text, {}});
    }
    return out;
  }

  // The broadcast request the form's values make, or the reason there is none.
  [[nodiscard]] Result<json> BroadcastRequest(const json& values) const {
    const auto staff = StaffMember();
    if (!staff) return Error(Errc::kPermissionDenied, "not a staff member with a live token");
    const auto doc = AudienceDoc(*staff, values.value("audience", ""));
    if (!doc) return Error(Errc::kNotFound, "the audience is no longer there");
    const json message = values.value("message", json::object());
    std::string title;
    json request = {{"audience", *doc}, {"send_at", "now"}};
    if (message.contains("template")) {
      request["template"] = message["template"];
      title = message["template"].get<std::string>();
    } else {
      request["message"] = {{"text", message.value("text", "")}};
      title = Excerpt(message.value("text", ""), 20);
    }
    request["title"] = title;
    if (values.value("ack", "") == "yes") request["ack"] = true;
    return request;
  }

  [[nodiscard]] std::string BroadcastPreview(const json& values) const override {
    const auto staff = StaffMember();
    const auto request = BroadcastRequest(values);
    if (!staff || !request) {
      return catalogue_.Text(locale_, "staff.preview.error", {{"error", request ? "" : request.error().message}});
    }
    const auto audience = ParseAudience((*request)["audience"], programme_, *staff);
    if (!audience) return catalogue_.Text(locale_, "staff.preview.error", {{"error", audience.error().message}});
    const auto preview = PreviewAudience(conn_, *audience, programme_, WorkCalendar::Embedded().LocalDate(now_), 3);
    const auto count = preview.value("count", std::int64_t{0});
    if (count == 0) return catalogue_.Text(locale_, "staff.preview.none");
    std::string sample;
    for (const auto& p : preview.value("sample", json::array())) {
      sample += (sample.empty() ? "" : "、") + p.value("name", std::string("?"));
    }
    return catalogue_.Text(locale_, "staff.preview", {{"count", count}, {"sample", sample}});
  }

  [[nodiscard]] std::vector<std::string> StaffBroadcasts() const override {
    const auto staff = StaffMember();
    if (!staff) return {};
    std::vector<std::string> out;
    for (const auto& b : ListBroadcasts(conn_, 100)) {
      if (b.value("created_by", "") != staff->name) continue;
      const json& progress = b["progress"];
      const std::int64_t acked = progress["people"].value("acknowledged", std::int64_t{0});
      out.push_back(
          catalogue_.Text(locale_, "staff.broadcast.line",
                          {{"id", b["id"]},
                           {"title", b["title"]},
                           {"status", catalogue_.Text(locale_, "staff.status." + b["status"].get<std::string>())},
                           {"done", progress["people_done"]},
                           {"total", progress["people_total"]},
                           {"acked", acked}}));
      if (out.size() == 3) break;
    }
    return out;
  }

  [[nodiscard]] std::optional<std::vector<Recommendation>> Recommendations() const override {
    const auto researcher = store::LoadResearcher(conn_, person_);
    if (!researcher) return std::nullopt;
    std::vector<Recommendation> out;
    if (!recommender_) return out;
    // Five fit a chat message; the matcher only holds needs open to matching.
    for (const auto& match : recommender_(*researcher, 5)) {
      const auto need = store::LoadNeed(conn_, match.id);
      if (need) out.push_back({need->title, match.terms, match.shared_field});
    }
    return out;
  }

  [[nodiscard]] std::vector<Choice> ChosenResearchers() const override {
    auto& s = conn_.Prepare(
        "SELECT p.id, COALESCE(pe.display_name, '') || COALESCE('（' || u.name || '）', ''), n.title FROM pushes p "
        "JOIN needs n ON n.id = p.need_id JOIN enterprises e ON e.id = n.enterprise_id "
        "JOIN people pe ON pe.id = p.researcher_person_id LEFT JOIN researchers r ON r.person_id = "
        "p.researcher_person_id LEFT JOIN units u ON u.id = r.unit_id WHERE e.contact_person_id = :person AND "
        "p.status = 'chosen' AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.need_id = p.need_id AND "
        "k.researcher_person_id = p.researcher_person_id AND k.status <> 'refused') ORDER BY p.id");
    s.bind(":person", person_);
    std::vector<Choice> out;
    while (s.executeStep()) {
      out.push_back({std::to_string(s.getColumn(0).getInt64()),
                     catalogue_.Text(locale_, "contract.researcher_choice",
                                     {{"name", s.getColumn(1).getString()}, {"title", s.getColumn(2).getString()}}),
                     {s.getColumn(1).getString()}});
    }
    s.reset();
    return out;
  }
  [[nodiscard]] int ContractsWithUnitOf(std::string_view push_id) const override {
    auto& s = conn_.Prepare(
        "SELECT count(*) FROM contracts k JOIN needs n ON n.id = k.need_id JOIN enterprises e ON e.id = "
        "n.enterprise_id WHERE e.contact_person_id = :person AND k.status <> 'refused' AND k.unit_id = (SELECT "
        "r.unit_id FROM pushes p JOIN researchers r ON r.person_id = p.researcher_person_id WHERE p.id = :push)");
    s.bind(":person", person_);
    s.bind(":push", std::string(push_id));
    const int n = s.executeStep() ? s.getColumn(0).getInt() : 0;
    s.reset();
    return n;
  }
  [[nodiscard]] int FundedContracts() const override {
    auto& s = conn_.Prepare(
        "SELECT count(*) FROM contracts k JOIN needs n ON n.id = k.need_id JOIN enterprises e ON e.id = "
        "n.enterprise_id WHERE e.contact_person_id = :person AND k.status <> 'refused' AND k.funding_wan > 0");
    s.bind(":person", person_);
    const int n = s.executeStep() ? s.getColumn(0).getInt() : 0;
    s.reset();
    return n;
  }

  [[nodiscard]] std::vector<Choice> OpenContracts() const override {
    auto& s = conn_.Prepare(
        "SELECT k.id, COALESCE(pe.display_name, ''), n.title, k.amount_wan FROM contracts k "
        "JOIN needs n ON n.id = k.need_id JOIN enterprises e ON e.id = n.enterprise_id "
        "JOIN people pe ON pe.id = k.researcher_person_id WHERE e.contact_person_id = :person AND k.status <> "
        "'refused' AND NOT EXISTS (SELECT 1 FROM evidence v WHERE v.contract_id = k.id AND v.kind = 'report') "
        "ORDER BY k.id");
    s.bind(":person", person_);
    std::vector<Choice> out;
    while (s.executeStep()) {
      out.push_back({std::to_string(s.getColumn(0).getInt64()),
                     catalogue_.Text(locale_, "contract.choice",
                                     {{"name", s.getColumn(1).getString()},
                                      {"title", s.getColumn(2).getString()},
                                      {"amount", FormatWan(s.getColumn(3).getDouble())}}),
                     {s.getColumn(2).getString()}});
    }
    s.reset();
    return out;
  }

  [[nodiscard]] bool OwnsVerified(std::string_view kind, std::string_view address) const override {
    auto& s = conn_.Prepare(
        "SELECT id FROM identities WHERE person_id = :person AND kind = :kind AND address = :address AND status = "
        "'verified'");
    s.bind(":person", person_);
    s.bind(":kind", std::string(kind));
    s.bind(":address", std::string(address));
    return OptionalId(s).has_value();
  }

  [[nodiscard]] bool CreditCodeTaken(std::string_view code) const override {
    auto& s = conn_.Prepare("SELECT id FROM enterprises WHERE credit_code = :code");
    s.bind(":code", std::string(code));
    return OptionalId(s).has_value();
  }
  [[nodiscard]] bool HasEnterprise() const override { return Enterprise().has_value(); }
  [[nodiscard]] std::vector<std::string> NeedSummaries() const override {
    std::vector<std::string> out;
    auto& s = conn_.Prepare(
        "SELECT n.title, n.stage FROM needs n JOIN enterprises e ON e.id = n.enterprise_id "
        "WHERE e.contact_person_id = :person ORDER BY n.id");
    s.bind(":person", person_);
    while (s.executeStep()) {
      out.push_back(s.getColumn(0).getString() + "（" +
                    catalogue_.Text(locale_, "stage." + s.getColumn(1).getString()) + "）");
    }
    s.reset();
    return out;
  }
  [[nodiscard]] std::optional<ReturnedNeed> Returned() const override {
    auto& s = conn_.Prepare(
        "SELECT n.id, n.title, n.problem, n.targets, n.constraints_text, n.category, n.field, n.amount_wan, "
        "n.deadline, COALESCE(n.returned_fields, '[]') FROM needs n JOIN enterprises e ON e.id = n.enterprise_id "
        "WHERE e.contact_person_id = :person AND n.stage = 'returned' ORDER BY n.id LIMIT 1");
    s.bind(":person", person_);
    std::optional<ReturnedNeed> out;
    if (s.executeStep()) {
      ReturnedNeed r;
      r.id = s.getColumn(0).getInt64();
      const std::string constraints = s.getColumn(4).getString();
      r.values = json{
          {"title", s.getColumn(1).getString()},    {"problem", s.getColumn(2).getString()},
          {"targets", s.getColumn(3).getString()},  {"constraints", constraints.empty() ? json() : json(constraints)},
          {"category", s.getColumn(5).getString()}, {"field", s.getColumn(6).getString()},
          {"amount", s.getColumn(7).getDouble()},   {"deadline", s.getColumn(8).getString()}};
      r.fields = json::parse(s.getColumn(9).getString()).get<std::vector<std::string>>();
      out = std::move(r);
    }
    s.reset();
    return out;
  }
  [[nodiscard]] std::optional<std::int64_t> Enterprise() const {
    auto& s = conn_.Prepare("SELECT id FROM enterprises WHERE contact_person_id = :person ORDER BY id LIMIT 1");
    s.bind(":person", person_);
    return OptionalId(s);
  }

 private:
  store::Connection& conn_;
  std::int64_t person_;
  const Programme& programme_;
  const Catalogue& catalogue_;
  std::string locale_;
  std::string channel_;
  Clock::TimePoint now_;
  const NeedRecommender& recommender_;
  mutable std::optional<std::optional<Staff>> staff_;  // looked up on first use
};

void Transition(store::Connection& c, std::string_view entity, std::int64_t id, const std::optional<std::string>& from,
                std::string_view to, std::int64_t actor, std::string_view channel, std::int64_t now) {
  store::RecordTransition(c, {std::string(entity), id, from, std::string(to), actor, DomainChannel(channel), "", now});
}

// The contract the enterprise recorded (form contract_record): checked again against the
// edition's limits (another turn may have recorded one since), stored with the researcher's unit
// as the other party, the need moved to contracted. The answer says what happened.
std::string RecordContract(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                           const DbFacts& facts, std::int64_t person, const std::string& locale, const json& v,
                           std::string_view channel, std::int64_t now) {
  const std::string push = v.value("researcher", "");
  auto& sel = c.Prepare(
      "SELECT p.need_id, p.researcher_person_id, r.unit_id, n.stage, n.title FROM pushes p JOIN needs n ON n.id = "
      "p.need_id JOIN enterprises e ON e.id = n.enterprise_id LEFT JOIN researchers r ON r.person_id = "
      "p.researcher_person_id WHERE p.id = :push AND p.status = 'chosen' AND e.contact_person_id = :person");
  sel.bind(":push", push);
  sel.bind(":person", person);
  if (!sel.executeStep() || sel.getColumn(2).isNull()) {
    sel.reset();
    return catalogue.Text(locale, "contract.none_chosen");
  }
  const std::int64_t need = sel.getColumn(0).getInt64();
  const std::int64_t researcher = sel.getColumn(1).getInt64();
  const std::int64_t unit = sel.getColumn(2).getInt64();
  const std::string stage = sel.getColumn(3).getString();
  const std::string title = sel.getColumn(4).getString();
  sel.reset();
  const json funding_rules = programme.raw.value("funding", json::object());
  const int unit_limit = programme.raw.value("researcher", json::object()).value("max_per_enterprise_per_unit", 0);
  if (unit_limit > 0 && facts.ContractsWithUnitOf(push) >= unit_limit) {
    return catalogue.Text(locale, "invalid.contract_unit_limit", {{"limit", unit_limit}});
  }
  const double amount = v.value("amount", 0.0);
  const json funding = v.value("funding", json());
  const bool funded = funding.is_number() && funding.get<double>() > 0;
  if (funded && funding.get<double>() > amount) return catalogue.Text(locale, "contract.funding_changed");
  const int once = funding_rules.value("projects_per_enterprise", 0);
  if (funded && once > 0 && facts.FundedContracts() >= once) {
    return catalogue.Text(locale, "invalid.funding_projects", {{"count", once}});
  }
  auto& ins = c.Prepare(
      "INSERT INTO contracts (need_id, researcher_person_id, unit_id, contract_type, amount_wan, funding_wan, "
      "signed_on, status, created_at, updated_at) VALUES (:need, :researcher, :unit, :type, :amount, :funding, "
      ":signed, 'recorded', :now, :now)");
  ins.bind(":need", need);
  ins.bind(":researcher", researcher);
  ins.bind(":unit", unit);
  ins.bind(":type", v.value("contract_type", ""));
  ins.bind(":amount", amount);
  if (funded) {
    ins.bind(":funding", funding.get<double>());
  } else {
    ins.bind(":funding");
  }
  ins.bind(":signed", v.value("signed_on", ""));
  ins.bind(":now", now);
  ins.exec();
  const std::int64_t contract = c.Db().getLastInsertRowid();
  Transition(c, "contract", contract, std::nullopt, "recorded", person, channel, now);
  static constexpr std::array<std::string_view, 5> kBefore = {"published", "matching", "proposals", "shortlisted",
                                                              "in_talks"};
  if (std::find(kBefore.begin(), kBefore.end(), stage) != kBefore.end()) {
    auto& upd = c.Prepare("UPDATE needs SET stage = 'contracted', updated_at = :now WHERE id = :id");
    upd.bind(":now", now);
    upd.bind(":id", need);
    upd.exec();
    Transition(c, "need", need, stage, "contracted", person, channel, now);
  }
  const double floor = funding_rules.value("contract_minimum_wan", 0.0);
  return catalogue.Text(locale, floor > 0 && amount < floor ? "done.contract_below_minimum" : "contract.recorded",
                        {{"title", title}, {"minimum", floor}});
}

// A file for a contract (form evidence_upload) or the summary report (report_upload): kept with
// what differs from the recorded contract, in words for the staff — an amount or a date that is
// not the contract's, a file already given, a report after the deadline. With the contract, the
// invoice and the transfer proof in, the contract and the need are evidenced and the staff who
// review the need's region are told; with the report, the need is reported and the researcher's
// push closed (their capacity freed).
std::pair<std::string, std::vector<store::NewOutboxMessage>> AttachEvidence(
    store::Connection& c, const Programme& programme, const Catalogue& catalogue, std::int64_t person,
    const std::string& locale, bool report, const json& v, std::string_view channel, Clock::TimePoint now_tp) {
  const std::int64_t now = ToUnixMillis(now_tp);
  const std::string contract = v.value("contract", "");
  auto& sel = c.Prepare(
      "SELECT k.id, k.amount_wan, k.signed_on, n.id, n.stage, n.title, e.region, k.status, k.researcher_person_id "
      "FROM contracts k JOIN needs n ON n.id = k.need_id JOIN enterprises e ON e.id = n.enterprise_id "
      "WHERE k.id = :id AND e.contact_person_id = :person AND k.status <> 'refused'");
  sel.bind(":id", contract);
  sel.bind(":person", person);
  if (!sel.executeStep()) {
    sel.reset();
    return {catalogue.Text(locale, "contract.none_recorded"), {}};
  }
  const std::int64_t contract_id = sel.getColumn(0).getInt64();
  const double amount = sel.getColumn(1).getDouble();
  const std::string signed_on = sel.getColumn(2).getString();
  const std::int64_t need = sel.getColumn(3).getInt64();
  const std::string stage = sel.getColumn(4).getString();
  const std::string title = sel.getColumn(5).getString();
  const std::string region = sel.getColumn(6).getString();
  const std::string contract_status = sel.getColumn(7).getString();
  const std::int64_t researcher = sel.getColumn(8).getInt64();
  sel.reset();

  const std::string kind = report ? "report" : v.value("kind", "");
  const std::string ref = v.value("file", json::object()).value("ref", "");
  std::vector<std::string> problems;
  const auto say = [&](std::string_view key, const json& params = json::object()) {
    return catalogue.Text(locale, key, params);
  };
  auto& dup = c.Prepare(
      "SELECT kind FROM evidence WHERE file_ref = :ref AND contract_id IN (SELECT k.id FROM contracts k JOIN needs n "
      "ON n.id = k.need_id JOIN enterprises e ON e.id = n.enterprise_id WHERE e.contact_person_id = :person) LIMIT 1");
  dup.bind(":ref", ref);
  dup.bind(":person", person);
  if (dup.executeStep())
    problems.push_back(say("evidence.duplicate", {{"kind", say("evidence.kind." + dup.getColumn(0).getString())}}));
  dup.reset();
  const json stated_amount = v.value("amount", json());
  const std::string stated_date = v.value("date", "");
  if (stated_amount.is_number() && std::abs(stated_amount.get<double>() - amount) > 0.005) {
    problems.push_back(say("evidence.amount_differs",
                           {{"stated", FormatWan(stated_amount.get<double>())}, {"recorded", FormatWan(amount)}}));
  }
  if (!stated_date.empty() && kind == "contract" && stated_date != signed_on) {
    problems.push_back(say("evidence.date_differs", {{"stated", stated_date}, {"recorded", signed_on}}));
  }
  if (!stated_date.empty() && kind != "contract" && stated_date < signed_on) {
    problems.push_back(say("evidence.before_signing", {{"stated", stated_date}, {"recorded", signed_on}}));
  }
  std::string due;
  for (const auto& m : programme.milestones) {
    if (m.id == "report_due") due = m.date;
  }
  const std::string today = ChinaDate(now_tp).Iso();
  if (report && !due.empty() && today > due) problems.push_back(say("evidence.late", {{"due", due}}));

  auto& ins = c.Prepare(
      "INSERT INTO evidence (contract_id, kind, file_ref, stated_amount_wan, stated_date, note, problems, person_id, "
      "channel, created_at) VALUES (:contract, :kind, :ref, :amount, :date, :note, :problems, :person, :channel, "
      ":now)");
  ins.bind(":contract", contract_id);
  ins.bind(":kind", kind);
  ins.bind(":ref", ref);
  if (stated_amount.is_number()) {
    ins.bind(":amount", stated_amount.get<double>());
  } else {
    ins.bind(":amount");
  }
  BindOpt(ins, ":date", stated_date.empty() ? std::nullopt : std::optional<std::string>(stated_date));
  BindOpt(ins, ":note", Opt(v.value("acceptance", json())));
  ins.bind(":problems", json(problems).dump());
  ins.bind(":person", person);
  ins.bind(":channel", DomainChannel(channel));
  ins.bind(":now", now);
  ins.exec();

  std::vector<store::NewOutboxMessage> staff;
  const auto advance = [&](const std::string& to) {
    auto& upd = c.Prepare("UPDATE needs SET stage = :to, updated_at = :now WHERE id = :id");
    upd.bind(":to", to);
    upd.bind(":now", now);
    upd.bind(":id", need);
    upd.exec();
    Transition(c, "need", need, stage, to, person, channel, now);
    for (auto& m : StaffNotices(c, catalogue, region, "evidence.staff_" + to + ":" + std::to_string(contract_id),
                                "evidence.staff." + to, {{"title", title}, {"problems", problems.size()}})) {
      staff.push_back(std::move(m));
    }
  };
  std::string answer;
  if (report) {
    if (stage != "reported" && stage != "evaluated") advance("reported");
    auto& close = c.Prepare(
        "UPDATE pushes SET status = 'closed', talk = CASE WHEN talk = 'open' THEN 'ended' ELSE talk END, "
        "updated_at = :now WHERE need_id = :need AND researcher_person_id = :researcher AND status = 'chosen'");
    close.bind(":now", now);
    close.bind(":need", need);
    close.bind(":researcher", researcher);
    if (close.exec() > 0) {
      auto& push = c.Prepare("SELECT id FROM pushes WHERE need_id = :need AND researcher_person_id = :researcher");
      push.bind(":need", need);
      push.bind(":researcher", researcher);
      if (const auto id = OptionalId(push))
        Transition(c, "push", *id, std::string("chosen"), "closed", person, channel, now);
    }
    answer = say("evidence.report_received", {{"title", title}});
  } else {
    // What of the three is in for this contract: one read; the missing ones are the rest.
    std::set<std::string> have;
    auto& kinds = c.Prepare("SELECT DISTINCT kind FROM evidence WHERE contract_id = :id");
    kinds.bind(":id", contract_id);
    while (kinds.executeStep()) have.insert(kinds.getColumn(0).getString());
    kinds.reset();
    std::string missing;
    for (const char* k : {"contract", "invoice", "payment_proof"}) {
      if (have.count(k) == 0) missing += (missing.empty() ? "" : "、") + say(std::string("evidence.kind.") + k);
    }
    answer = say("evidence.received", {{"kind", say("evidence.kind." + kind)}});
    if (missing.empty() && contract_status == "recorded") {
      auto& upd = c.Prepare("UPDATE contracts SET status = 'evidenced', updated_at = :now WHERE id = :id");
      upd.bind(":now", now);
      upd.bind(":id", contract_id);
      upd.exec();
      Transition(c, "contract", contract_id, std::string("recorded"), "evidenced", person, channel, now);
      if (stage == "contracted") advance("evidenced");
      answer += say("evidence.complete");
    } else if (!missing.empty()) {
      answer += say("evidence.missing", {{"missing", missing}});
    }
  }
  if (!problems.empty()) {
    std::string list;
    for (const auto& p : problems) list += (list.empty() ? "" : "；") + p;
    answer += "\n" + say("evidence.problems", {{"problems", list}});
  }
  return {answer, staff};
}

// Why a reviewer's decision by card cannot be taken, in their words: the need is gone, or it is
// at a step that is not theirs (decided by someone else meanwhile, another region, the other level).
std::string ReviewRefusal(store::Connection& c, const Catalogue& catalogue, const std::string& locale,
                          std::int64_t need_id, const Error& error) {
  if (error.code == make_error_code(Errc::kNotFound)) return catalogue.Text(locale, "review_card.gone");
  auto& s = c.Prepare("SELECT title, stage FROM needs WHERE id = :id");
  s.bind(":id", need_id);
  json params = json::object();
  if (s.executeStep()) {
    params = {{"title", s.getColumn(0).getString()},
              {"stage", catalogue.Text(locale, "stage." + s.getColumn(1).getString())}};
  }
  s.reset();
  return catalogue.Text(locale, "review_card.not_yours", params);
}

// A reviewer's decision through the same ReviewNeed as the admin API (role, region, stage,
// reasons; audit, transition, the enterprise told, the next level's cards): the outcome in words.
std::string ReviewByChat(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                         const DbFacts& facts, std::int64_t need_id, const json& request, Clock::TimePoint now,
                         Processed& out) {
  const auto staff = facts.StaffMember();
  if (!staff) return catalogue.Text(out.locale, "review_card.not_staff");
  const auto made = ReviewNeed(c, programme, catalogue, *staff, need_id, request, now);
  if (!made) return ReviewRefusal(c, catalogue, out.locale, need_id, made.error());
  out.queued_elsewhere = out.queued_elsewhere || made->queued;
  return catalogue.Text(out.locale, "review_card.done." + made->body.value("stage", std::string()),
                        {{"title", made->body.value("title", std::string())}});
}

// A click on a review card's button. Approving (and, where the programme asks no recommendation,
// recommending) is the click itself; returning, rejecting and recommending with an opinion open
// the form that asks for the words. nullopt: answered already, the conversation is untouched.
std::optional<Turn> ReviewClick(store::Connection& c, const Engine& engine, const Programme& programme,
                                const Catalogue& catalogue, const DbFacts& facts, const TurnContext& ctx,
                                const json& state, const ReviewButton& button, Clock::TimePoint now, Processed& out) {
  const auto staff = facts.StaffMember();
  if (!staff) {
    out.replies.push_back(catalogue.Text(out.locale, "review_card.not_staff"));
    return std::nullopt;
  }
  const auto step = CheckReview(c, *staff, button.need_id, button.decision);
  if (!step) {
    out.replies.push_back(ReviewRefusal(c, catalogue, out.locale, button.need_id, step.error()));
    return std::nullopt;
  }
  const bool opinion = !programme.review_chain.empty() && programme.review_chain.front().recommendation;
  const bool needs_words =
      button.decision == "return" || button.decision == "reject" || (button.decision == "recommend" && opinion);
  if (!needs_words) {
    out.replies.push_back(
        ReviewByChat(c, programme, catalogue, facts, button.need_id, {{"decision", button.decision}}, now, out));
    return std::nullopt;
  }
  return engine.Begin(state, "need_" + button.decision,
                      {{"need_id", button.need_id}, {"decision", button.decision}, {"title", step->title}}, ctx);
}

}  // namespace

std::int64_t ProgrammeRow(store::Connection& c, const Programme& p, std::int64_t now) {
  auto& ins = c.Prepare(
      "INSERT INTO programmes (code, name, definition, created_at) VALUES (:code, :name, :def, :now) "
      "ON CONFLICT (code) DO NOTHING");
  ins.bind(":code", p.id);
  ins.bind(":name", p.name);
  ins.bind(":def", p.raw.dump());
  ins.bind(":now", now);
  ins.exec();
  auto& sel = c.Prepare("SELECT id FROM programmes WHERE code = :code");
  sel.bind(":code", p.id);
  return *OptionalId(sel);
}

namespace {

// A further identity the person gave in a form (mobile, email): recorded unverified unless it
// is someone else's already.
void AddIdentity(store::Connection& c, std::int64_t person, std::string_view kind, const json& address,
                 std::int64_t now) {
  if (!address.is_string()) return;
  auto& s = c.Prepare(
      "INSERT INTO identities (person_id, kind, address, status, created_at) "
      "VALUES (:person, :kind, :address, 'unverified', :now) ON CONFLICT (kind, address) DO NOTHING");
  s.bind(":person", person);
  s.bind(":kind", std::string(kind));
  s.bind(":address", address.get<std::string>());
  s.bind(":now", now);
  s.exec();
}

// A registration was submitted: the person has a role and a name now, awaits staff, and the
// mobile and email given in the form are identities to verify.
void BecomePending(store::Connection& c, std::int64_t person, std::string_view role, const std::string& name,
                   const json& form, std::string_view channel, std::int64_t now) {
  auto& upd = c.Prepare(
      "UPDATE people SET role = :role, status = 'pending', display_name = :name, updated_at = :now WHERE id = :person");
  upd.bind(":role", std::string(role));
  upd.bind(":name", name);
  upd.bind(":now", now);
  upd.bind(":person", person);
  upd.exec();
  AddIdentity(c, person, "mobile", form.value("mobile", json()), now);
  AddIdentity(c, person, "email", form.value("email", json()), now);
  Transition(c, "person", person, "onboarding", "pending", person, channel, now);
}

// A mobile the person proved with a code: theirs from now on. One held by someone who never got
// past onboarding (e.g. who texted once) moves over; one of a registered person stays theirs.
bool LinkIdentity(store::Connection& c, std::int64_t person, const std::string& kind, const std::string& address,
                  std::string_view channel, std::int64_t now) {
  auto& owner = c.Prepare(
      "SELECT i.id, i.person_id, p.role FROM identities i JOIN people p ON p.id = i.person_id "
      "WHERE i.kind = :kind AND i.address = :address");
  owner.bind(":kind", kind);
  owner.bind(":address", address);
  std::optional<std::int64_t> identity;
  std::int64_t holder = 0;
  std::string holder_role;
  if (owner.executeStep()) {
    identity = owner.getColumn(0).getInt64();
    holder = owner.getColumn(1).getInt64();
    holder_role = owner.getColumn(2).getString();
  }
  owner.reset();
  if (identity && holder != person && holder_role != "unknown") return false;
  if (identity) {
    auto& upd =
        c.Prepare("UPDATE identities SET person_id = :person, status = 'verified', verified_at = :now WHERE id = :id");
    upd.bind(":person", person);
    upd.bind(":now", now);
    upd.bind(":id", *identity);
    upd.exec();
    if (holder != person) {
      // The empty onboarding person it came from keeps no conversation of its own.
      auto& drop = c.Prepare("DELETE FROM conversations WHERE person_id = :holder");
      drop.bind(":holder", holder);
      drop.exec();
    }
  } else {
    auto& ins = c.Prepare(
        "INSERT INTO identities (person_id, kind, address, status, verified_at, created_at) "
        "VALUES (:person, :kind, :address, 'verified', :now, :now)");
    ins.bind(":person", person);
    ins.bind(":kind", kind);
    ins.bind(":address", address);
    ins.bind(":now", now);
    ins.exec();
    identity = c.Db().getLastInsertRowid();
  }
  store::RecordTransition(c, {"identity", *identity, "unverified", "verified", person, DomainChannel(channel),
                              kind == "email" ? "code by mail" : "code by sms", now});
  return true;
}

}  // namespace

std::string DomainChannel(std::string_view channel) { return channel == "wecom_kf" ? "wecom" : std::string(channel); }

std::string IdentityKind(std::string_view channel) {
  if (channel == "wecom") return "wecom_userid";
  if (channel == "wecom_kf") return "wecom_external";
  if (channel == "sms") return "mobile";
  return "email";
}

std::string ChannelOfIdentity(std::string_view identity_kind) {
  if (identity_kind == "wecom_userid") return "wecom";
  if (identity_kind == "wecom_external") return "wecom_kf";
  if (identity_kind == "mobile") return "sms";
  return "email";
}

Date ChinaDate(Clock::TimePoint t) {
  const auto shifted = std::chrono::floor<std::chrono::days>(t + std::chrono::hours(8));
  const std::chrono::year_month_day ymd{std::chrono::sys_days(shifted.time_since_epoch())};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

Conversations::Conversations(const Engine& engine, const Programme& programme, const Catalogue& catalogue,
                             Recommenders recommenders, Random* random, std::size_t max_state_bytes)
    : engine_(engine),
      programme_(programme),
      catalogue_(catalogue),
      recommenders_(std::move(recommenders)),
      random_(random),
      max_state_bytes_(max_state_bytes) {
  if (random_ == nullptr) {
    static SystemRandom system;
    random_ = &system;
  }
}

Processed Conversations::Process(store::Connection& c, const InboundEvent& event, Clock::TimePoint now) const {
  const std::int64_t now_ms = ToUnixMillis(now);
  const std::string kind = IdentityKind(event.channel);
  Processed out;

  auto& find = c.Prepare("SELECT person_id FROM identities WHERE kind = :kind AND address = :address");
  find.bind(":kind", kind);
  find.bind(":address", event.sender);
  if (auto person = OptionalId(find)) {
    out.person_id = *person;
  } else {
    auto& person_ins = c.Prepare(
        "INSERT INTO people (role, status, locale, created_at, updated_at) "
        "VALUES ('unknown', 'onboarding', 'zh-CN', :now, :now)");
    person_ins.bind(":now", now_ms);
    person_ins.exec();
    out.person_id = c.Db().getLastInsertRowid();
    // The provider authenticated this address (WeCom signs its callbacks; a carrier delivered the
    // SMS); an email From address is not proof, so it stays unverified.
    auto& identity = c.Prepare(
        "INSERT INTO identities (person_id, kind, address, status, verified_at, created_at) "
        "VALUES (:person, :kind, :address, :status, :verified, :now)");
    const bool verified = kind != "email";
    identity.bind(":person", out.person_id);
    identity.bind(":kind", kind);
    identity.bind(":address", event.sender);
    identity.bind(":status", verified ? "verified" : "unverified");
    if (verified) {
      identity.bind(":verified", now_ms);
    } else {
      identity.bind(":verified");
    }
    identity.bind(":now", now_ms);
    identity.exec();
    Transition(c, "person", out.person_id, std::nullopt, "onboarding", out.person_id, event.channel, now_ms);
  }

  out.locale = store::PersonLocale(c, out.person_id, Catalogue::kDefaultLocale);

  json state = json::object();
  auto& load = c.Prepare("SELECT state FROM conversations WHERE person_id = :person");
  load.bind(":person", out.person_id);
  if (load.executeStep()) state = json::parse(load.getColumn(0).getString(), nullptr, false);
  load.reset();

  const DbFacts facts(c, out.person_id, programme_, catalogue_, out.locale, event.channel, now, recommenders_.needs);
  const TurnContext ctx{.programme = programme_,
                        .catalogue = catalogue_,
                        .facts = facts,
                        .now = now,
                        .today = ChinaDate(now),
                        .locale = out.locale,
                        .channel = event.channel,
                        .sender = event.sender,
                        .random = random_};
  // A click on a push card's button (WeCom) answers that push, whatever the conversation is doing.
  if (event.kind == "event" && event.event == "template_card_event") {
    if (const auto key = ParsePushButtonKey(event.text)) {
      if (auto answered =
              AnswerPushById(c, catalogue_, out.person_id, out.locale, key->first, key->second, event.channel, now)) {
        out.replies.push_back(answered->text);
      }
      return out;
    }
    // A reminder card's 确认收到 button acknowledges that reminder on every channel.
    if (const auto broadcast = ParseAckButtonKey(event.text)) {
      if (auto thanks =
              AcknowledgeBroadcast(c, catalogue_, out.person_id, out.locale, *broadcast, event.channel, now)) {
        out.replies.push_back(*thanks);
      }
      return out;
    }
  }
  // A reviewer's click on a review card: a decision that needs no words is taken at once; the
  // others open the form that asks for them.
  std::optional<Turn> review_turn;
  if (event.kind == "event" && event.event == "template_card_event") {
    if (const auto button = ParseReviewButtonKey(event.text)) {
      review_turn = ReviewClick(c, engine_, programme_, catalogue_, facts, ctx, state, *button, now, out);
      if (!review_turn) return out;
    }
  }
  // A researcher who just said yes to a push writes their proposal next, outside any form.
  const bool no_form = !state.is_object() || !state.contains("form") || state["form"].is_null();
  // Outside a form, 确认 / 收到 answers the latest reminder that asked for it.
  if (no_form && event.kind == "text" && event.channel == "wecom" && IsAcknowledgement(event.text)) {
    if (auto thanks =
            AcknowledgeBroadcast(c, catalogue_, out.person_id, out.locale, std::nullopt, event.channel, now)) {
      out.replies.push_back(*thanks);
      return out;
    }
  }
  // "我的": the person's whole picture, or one part of it; short on SMS.
  std::optional<TalkTurn> talk;
  if (!review_turn && no_form && event.kind == "text") {
    if (auto mine = AnswerMine(c, programme_, catalogue_, out.person_id, out.locale, event.text, ChinaDate(now),
                               event.channel == "sms")) {
      talk = TalkTurn{{std::move(*mine)}, {}};
    }
  }
  // The enterprise's commands on its matches, and detail talks: relayed unless the engine knows the words.
  if (!talk && !review_turn && no_form && event.kind == "text") {
    talk = HandleTalk(c, programme_, catalogue_, recommenders_.researchers, out.person_id, out.locale, event.text,
                      event.channel, engine_.Understands(event.text), now);
  }
  std::optional<std::string> proposal;
  if (!review_turn && !talk && no_form && event.kind == "text") {
    proposal = TakeProposal(c, catalogue_, out.person_id, out.locale, event.text, event.channel, now);
  }
  Turn turn;
  if (review_turn) {
    turn = std::move(*review_turn);
  } else if (talk) {
    turn.state = state.is_object() ? state : json::object();
    turn.replies = std::move(talk->replies);
    for (auto& m : talk->outbox) out.outbox.push_back(std::move(m));
  } else if (proposal) {
    turn.state = state.is_object() ? state : json::object();
    turn.replies = {*proposal};
  } else {
    turn = engine_.Handle(state, event, ctx);
  }
  const std::string saved_state = turn.state.dump();
  if (saved_state.size() > max_state_bytes_) {
    // Applying the effects but not the state would leave the two out of step: neither is kept.
    oversized_.fetch_add(1, std::memory_order_relaxed);
    out.replies = {catalogue_.Text(out.locale, "conversation.too_large")};
    return out;
  }
  out.replies = std::move(turn.replies);

  for (const auto& effect : turn.effects) {
    const json& v = effect.data;
    if (effect.kind == "register_enterprise") {
      auto& ins = c.Prepare(
          "INSERT INTO enterprises (name, credit_code, region, industry, sme_number, contact_person_id, status, "
          "programme_id, created_at, updated_at) VALUES (:name, :code, :region, :industry, :sme, :person, "
          "'pending', :programme, :now, :now) ON CONFLICT (credit_code) DO NOTHING");
      ins.bind(":name", v.value("name", ""));
      ins.bind(":code", v.value("credit_code", ""));
      ins.bind(":region", v.value("region", ""));
      ins.bind(":industry", v.value("industry", ""));
      BindOpt(ins, ":sme", Opt(v.value("sme_number", json())));
      ins.bind(":person", out.person_id);
      ins.bind(":programme", ProgrammeRow(c, programme_, now_ms));
      ins.bind(":now", now_ms);
      if (ins.exec() == 0) {
        // Someone registered the same code since the question was answered.
        out.replies.push_back(catalogue_.Text(out.locale, "invalid.credit_code_taken"));
        continue;
      }
      BecomePending(c, out.person_id, "enterprise_contact", v.value("contact_name", ""), v, event.channel, now_ms);
    } else if (effect.kind == "register_researcher") {
      auto& unit = c.Prepare(
          "INSERT INTO units (name, kind, created_at) VALUES (:name, :kind, :now) ON CONFLICT (name) DO NOTHING");
      const std::string unit_name = v.value("unit", "");
      unit.bind(":name", unit_name);
      unit.bind(":kind", unit_name.find("大学") != std::string::npos || unit_name.find("学院") != std::string::npos
                             ? "university"
                             : "institute");
      unit.bind(":now", now_ms);
      unit.exec();
      auto& unit_id = c.Prepare("SELECT id FROM units WHERE name = :name");
      unit_id.bind(":name", unit_name);
      const auto uid = OptionalId(unit_id);
      auto& ins = c.Prepare(
          "INSERT INTO researchers (person_id, unit_id, title, eligibility, fields, keywords, bio, region, capacity, "
          "status, programme_id, created_at, updated_at) VALUES (:person, :unit, :title, :eligibility, :fields, "
          ":keywords, :bio, :region, :capacity, 'pending', :programme, :now, :now) "
          "ON CONFLICT (person_id) DO UPDATE SET unit_id = excluded.unit_id, title = excluded.title, "
          "eligibility = excluded.eligibility, fields = excluded.fields, keywords = excluded.keywords, "
          "bio = excluded.bio, region = excluded.region, capacity = excluded.capacity, status = 'pending', "
          "updated_at = excluded.updated_at");
      ins.bind(":person", out.person_id);
      ins.bind(":unit", *uid);
      BindOpt(ins, ":title", Opt(v.value("title", json())));
      ins.bind(":eligibility", v.value("eligibility", ""));
      ins.bind(":fields", v.value("fields", json::array()).dump());
      json keywords = json::array();
      std::string words = v.value("keywords", "");
      for (const std::string_view sep : {"、", "，", ","}) {
        for (auto pos = words.find(sep); pos != std::string::npos; pos = words.find(sep))
          words.replace(pos, sep.size(), " ");
      }
      std::istringstream split(words);
      for (std::string w; split >> w;) keywords.push_back(w);
      ins.bind(":keywords", keywords.dump());
      ins.bind(":bio", v.value("bio", ""));
      ins.bind(":region", v.value("region", ""));
      ins.bind(":capacity", v.value("capacity", 1));
      ins.bind(":programme", ProgrammeRow(c, programme_, now_ms));
      ins.bind(":now", now_ms);
      ins.exec();
      BecomePending(c, out.person_id, "researcher", v.value("name", ""), v, event.channel, now_ms);
    } else if (effect.kind == "send_code") {
      // A mobile's code goes by SMS and an address's by mail, wherever the person writes from:
      // that is the proof.
      const std::string code_text = v.value("code", "");
      const bool email = v.value("channel", "sms") == "email";
      OutboundMessage code =
          TextMessage(email ? catalogue_.Text(out.locale, "verify.email.code_text",
                                              {{"code", code_text}, {"minutes", v.value("minutes", 15)}})
                            : catalogue_.Text(out.locale, "verify.code_text", {{"code", code_text}}));
      code.template_id = "verification_code";
      code.params = {{"code", code_text}};
      if (email) code.title = catalogue_.Text(out.locale, "verify.email.code_subject");
      store::NewOutboxMessage m;
      m.idempotency_key = "code:" + std::to_string(out.person_id) + ":" + std::to_string(now_ms);
      m.channel = email ? "email" : "sms";
      m.recipient = v.value("address", "");
      m.kind = "verification_code";
      m.payload = json(code).dump();
      m.person_id = out.person_id;
      m.priority = 30;
      m.max_attempts = 3;  // a code late by minutes is useless
      out.outbox.push_back(std::move(m));
    } else if (effect.kind == "verify_identity") {
      const std::string address = v.value("address", "");
      const std::string identity_kind = v.value("kind", "mobile");
      if (!LinkIdentity(c, out.person_id, identity_kind, address, event.channel, now_ms)) {
        out.replies.push_back(identity_kind == "email"
                                  ? catalogue_.Text(out.locale, "verify.email.taken", {{"email", MaskEmail(address)}})
                                  : catalogue_.Text(out.locale, "verify.taken", {{"mobile", MaskPhone(address)}}));
      }
    } else if (effect.kind == "staff_broadcast") {
      // The same rules as the admin API: role, region, caps, quiet hours, opt-outs. The inbox
      // makes a redelivered message a no-op; the key makes this message's broadcast one.
      const auto staff = facts.StaffMember();
      const auto request = facts.BroadcastRequest(v);  // nothing without a staff member
      std::string failure = request ? std::string() : request.error().message;
      if (staff && request) {
        const std::string key = "wecom-chat:" + std::to_string(out.person_id) + ":" + std::to_string(now_ms);
        const auto made = CreateBroadcast(c, programme_, catalogue_, *staff, *request, key, now);
        if (made) {
          const auto audience = ParseAudience((*request)["audience"], programme_, *staff);
          const auto count =
              audience ? CountAudience(c, *audience, programme_, WorkCalendar::Embedded().LocalDate(now)) : 0;
          out.replies.push_back(
              catalogue_.Text(out.locale, "staff.broadcast.started", {{"id", made->body["id"]}, {"count", count}}));
        } else {
          failure = made.error().message;
        }
      }
      if (!failure.empty()) {
        out.replies.push_back(catalogue_.Text(out.locale, "staff.broadcast.failed", {{"error", failure}}));
      }
    } else if (effect.kind == "review_need") {
      const std::int64_t need_id = v.value("need_id", std::int64_t{0});
      out.replies.push_back(ReviewByChat(c, programme_, catalogue_, facts, need_id, v, now, out));
    } else if (effect.kind == "set_locale") {
      auto& upd = c.Prepare("UPDATE people SET locale = :locale, updated_at = :now WHERE id = :person");
      upd.bind(":locale", v.value("locale", std::string(Catalogue::kDefaultLocale)));
      upd.bind(":now", now_ms);
      upd.bind(":person", out.person_id);
      upd.exec();
    } else if (effect.kind == "resubmit_need") {
      const json& n = v["values"];
      auto& upd = c.Prepare(
          "UPDATE needs SET title = :title, problem = :problem, targets = :targets, constraints_text = :constraints, "
          "category = :category, field = :field, amount_wan = :amount, deadline = :deadline, stage = 'submitted', "
          "returned_fields = NULL, updated_at = :now WHERE id = :id AND stage = 'returned' AND enterprise_id IN "
          "(SELECT id FROM enterprises WHERE contact_person_id = :person)");
      upd.bind(":title", n.value("title", ""));
      upd.bind(":problem", n.value("problem", ""));
      upd.bind(":targets", n.value("targets", ""));
      upd.bind(":constraints", Opt(n.value("constraints", json())).value_or(""));
      upd.bind(":category", n.value("category", ""));
      upd.bind(":field", n.value("field", ""));
      upd.bind(":amount", n.value("amount", 0.0));
      upd.bind(":deadline", n.value("deadline", ""));
      upd.bind(":now", now_ms);
      upd.bind(":id", v.value("need_id", std::int64_t{0}));
      upd.bind(":person", out.person_id);
      if (upd.exec() == 1) {
        const std::int64_t need_id = v.value("need_id", std::int64_t{0});
        Transition(c, "need", need_id, "returned", "submitted", out.person_id, event.channel, now_ms);
        for (auto& card : ReviewCards(c, programme_, catalogue_, need_id)) out.outbox.push_back(std::move(card));
      }
    } else if (effect.kind == "record_contract") {
      out.replies.push_back(
          RecordContract(c, programme_, catalogue_, facts, out.person_id, out.locale, v, event.channel, now_ms));
    } else if (effect.kind == "attach_evidence" || effect.kind == "file_report") {
      auto answer = AttachEvidence(c, programme_, catalogue_, out.person_id, out.locale, effect.kind == "file_report",
                                   v, event.channel, now);
      out.replies.push_back(std::move(answer.first));
      for (auto& m : answer.second) out.outbox.push_back(std::move(m));
    } else if (effect.kind == "submit_need") {
      const auto enterprise = facts.Enterprise();
      if (!enterprise) continue;  // the engine asks for a registration first; a race is dropped
      auto& ins = c.Prepare(
          "INSERT INTO needs (enterprise_id, programme_id, title, problem, targets, constraints_text, category, "
          "field, amount_wan, deadline, stage, created_at, updated_at) VALUES (:enterprise, :programme, :title, "
          ":problem, :targets, :constraints, :category, :field, :amount, :deadline, 'submitted', :now, :now)");
      ins.bind(":enterprise", *enterprise);
      ins.bind(":programme", ProgrammeRow(c, programme_, now_ms));
      ins.bind(":title", v.value("title", ""));
      ins.bind(":problem", v.value("problem", ""));
      ins.bind(":targets", v.value("targets", ""));
      ins.bind(":constraints", Opt(v.value("constraints", json())).value_or(""));
      ins.bind(":category", v.value("category", ""));
      ins.bind(":field", v.value("field", ""));
      ins.bind(":amount", v.value("amount", 0.0));
      ins.bind(":deadline", v.value("deadline", ""));
      ins.bind(":now", now_ms);
      ins.exec();
      const std::int64_t need_id = c.Db().getLastInsertRowid();
      Transition(c, "need", need_id, "draft", "submitted", out.person_id, event.channel, now_ms);
      for (auto& card : ReviewCards(c, programme_, catalogue_, need_id)) out.outbox.push_back(std::move(card));
    }
  }

  auto& save = c.Prepare(
      "INSERT INTO conversations (person_id, flow, state, last_channel, updated_at) "
      "VALUES (:person, :flow, :state, :channel, :now) ON CONFLICT (person_id) DO UPDATE SET "
      "flow = excluded.flow, state = excluded.state, last_channel = excluded.last_channel, "
      "updated_at = excluded.updated_at");
  save.bind(":person", out.person_id);
  BindOpt(save, ":flow", Opt(turn.state.value("form", json())));
  save.bind(":state", saved_state);
  save.bind(":channel", event.channel);
  save.bind(":now", now_ms);
  save.exec();
  return out;
}

}  // namespace duijie::dialogs
