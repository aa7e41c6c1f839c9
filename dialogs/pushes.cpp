#include "dialogs/pushes.hpp"

#include <algorithm>
#include <iomanip>
#include <optional>
#include <sstream>

#include "dialogs/message.hpp"
#include "dialogs/reply_grammar.hpp"
#include "matcher/utf8.hpp"
#include "store/person_data.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

struct NeedInfo {
  std::string title;
  std::string region;
  double amount = 0;
};

std::optional<NeedInfo> PublishedNeed(store::Connection& c, std::int64_t need_id) {
  auto& q = c.Prepare(
      "SELECT n.title, e.region, COALESCE(n.amount_wan, 0) FROM needs n JOIN enterprises e ON e.id = n.enterprise_id "
      "WHERE n.id = ? AND n.stage = 'published'");
  q.bind(1, need_id);
  std::optional<NeedInfo> out;
  if (q.executeStep())
    out = NeedInfo{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getDouble()};
  q.reset();
  return out;
}

// SMS variables are short: at most so many characters (not bytes), with an ellipsis when cut.
using matcher::Excerpt;

struct Address {
  std::string channel;
  std::string address;
};

// Where a researcher is reached, in order: the preferred channel, then SMS, email, WeCom.
std::vector<Address> AddressesOf(store::Connection& c, std::int64_t person) {
  auto& pref = c.Prepare("SELECT COALESCE(preferred_channel, ''), locale FROM people WHERE id = ?");
  pref.bind(1, person);
  const std::string preferred = pref.executeStep() ? pref.getColumn(0).getString() : "";
  pref.reset();
  auto& q = c.Prepare(
      "SELECT kind, address FROM identities WHERE person_id = ? AND kind IN ('mobile', 'email', 'wecom_userid') "
      "ORDER BY CASE status WHEN 'verified' THEN 0 ELSE 1 END, id");
  q.bind(1, person);
  std::vector<Address> found;
  while (q.executeStep()) {
    const std::string kind = q.getColumn(0).getString();
    const std::string channel = kind == "mobile" ? "sms" : kind == "email" ? "email" : "wecom";
    bool seen = false;
    for (const auto& a : found) seen = seen || a.channel == channel;
    if (!seen) found.push_back({channel, q.getColumn(1).getString()});
  }
  q.reset();
  const auto rank = [&preferred](const Address& a) {
    if (a.channel == preferred) return 0;
    return a.channel == "sms" ? 1 : a.channel == "email" ? 2 : 3;
  };
  std::stable_sort(found.begin(), found.end(),
                   [&rank](const Address& a, const Address& b) { return rank(a) < rank(b); });
  return found;
}

// A code none of the researcher's open pushes carries (codes are per person).
std::string FreshCode(store::Connection& c, std::int64_t person, Random& random) {
  auto& q = c.Prepare("SELECT 1 FROM pushes WHERE researcher_person_id = ? AND reply_code = ? AND status = 'sent'");
  std::string code;
  for (int tries = 0; tries < 50; ++tries) {
    code = MakeReplyCode(random.Uniform(), random.Uniform(), random.Uniform());
    q.bind(1, person);
    q.bind(2, code);
    const bool taken = q.executeStep();
    q.reset();
    if (!taken) break;
  }
  return code;
}

}  // namespace

std::string PushButtonKey(std::int64_t push_id, bool accept) {
  return "push:" + std::to_string(push_id) + (accept ? ":accept" : ":decline");
}

std::optional<std::pair<std::int64_t, bool>> ParsePushButtonKey(std::string_view key) {
  constexpr std::string_view kPrefix = "push:";
  if (key.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const auto rest = key.substr(kPrefix.size());
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 18) return std::nullopt;
  std::int64_t id = 0;
  for (const char c : rest.substr(0, colon)) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  const auto action = rest.substr(colon + 1);
  if (action != "accept" && action != "decline") return std::nullopt;
  return std::make_pair(id, action == "accept");
}

std::vector<std::int64_t> NeedsToPush(store::Connection& conn, int limit) {
  auto& q = conn.Prepare(
      "SELECT n.id FROM needs n WHERE n.stage = 'published' AND NOT EXISTS "
      "(SELECT 1 FROM push_rounds r WHERE r.need_id = n.id) ORDER BY n.updated_at, n.id LIMIT ?");
  q.bind(1, limit);
  std::vector<std::int64_t> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
  q.reset();
  return out;
}

std::vector<store::NewOutboxMessage> CreatePushes(store::Connection& conn, const Programme& programme,
                                                  const Catalogue& catalogue, std::int64_t need_id,
                                                  std::span<const PushCandidate> candidates, Random& random,
                                                  Clock::TimePoint now) {
  const std::int64_t now_ms = ToUnixMillis(now);
  std::vector<store::NewOutboxMessage> out;
  auto& done = conn.Prepare("SELECT 1 FROM push_rounds WHERE need_id = ?");
  done.bind(1, need_id);
  const bool planned_before = done.executeStep();
  done.reset();
  if (planned_before) return out;
  const auto need = PublishedNeed(conn, need_id);
  if (!need) return out;
  int created = 0;
  for (const auto& cand : candidates) {
    const auto addresses = AddressesOf(conn, cand.researcher);
    if (addresses.empty()) continue;  // nobody to tell: not pushed
    const std::string locale = store::PersonLocale(conn, cand.researcher, Catalogue::kDefaultLocale);
    const std::string code = FreshCode(conn, cand.researcher, random);
    std::string why;
    for (const auto& t : cand.terms) why += (why.empty() ? "" : "、") + t;
    why = why.empty()
              ? catalogue.Text(locale, "push.why_field", {{"field", ChoiceName(programme.fields, cand.shared_field)}})
              : catalogue.Text(locale, "push.why", {{"terms", why}});
    const std::string region = ChoiceName(programme.regions, need->region);
    const std::string enterprise = region.empty() ? catalogue.Text(locale, "push.enterprise_unknown")
                                                  : catalogue.Text(locale, "push.enterprise", {{"region", region}});
    auto& ins = conn.Prepare(
        "INSERT INTO pushes (need_id, researcher_person_id, score, explanation, reply_code, status, channel, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'sent', ?, ?, ?) ON CONFLICT (need_id, researcher_person_id) "
        "DO NOTHING");
    ins.bind(1, need_id);
    ins.bind(2, cand.researcher);
    ins.bind(3, cand.score);
    ins.bind(4, why);
    ins.bind(5, code);
    ins.bind(6, addresses.front().channel);
    ins.bind(7, now_ms);
    ins.bind(8, now_ms);
    const bool inserted = ins.exec() == 1;
    ins.reset();
    if (!inserted) continue;
    const std::int64_t push_id = conn.Db().getLastInsertRowid();
    store::RecordTransition(conn, {"push", push_id, "planned", "sent", std::nullopt, "system", why, now_ms});
    // One payload for every channel: SMS reads the template and its parameters, mail and
    // WeCom the text (a fallback carries the same message to the next address).
    const json params = {{"title", need->title},
                         {"enterprise", enterprise},
                         {"amount", FormatWan(need->amount)},
                         {"why", why},
                         {"code", code}};
    OutboundMessage msg = TextMessage(catalogue.Text(locale, "push.text", params));
    // WeCom shows it as a card with two buttons; SMS reads the template, mail the text and the
    // title as its subject (a fallback carries the same message to the next channel).
    msg.kind = "template";
    msg.title = catalogue.Text(locale, "push.card_title", {{"title", need->title}});
    msg.template_id = "match_push";
    msg.params = {{"title", Excerpt(need->title, 20)},
                  {"enterprise", Excerpt(enterprise, 12)},
                  {"amount", FormatWan(need->amount)},
                  {"why", Excerpt(why, 20)},
                  {"code", code},
                  {"locale", locale},
                  {"task_id", "push-" + std::to_string(push_id)},
                  {"buttons", json::array({{{"text", catalogue.Text(locale, "push.button_accept")},
                                            {"key", PushButtonKey(push_id, true)},
                                            {"style", 1}},
                                           {{"text", catalogue.Text(locale, "push.button_decline")},
                                            {"key", PushButtonKey(push_id, false)},
                                            {"style", 2}}})},
                  {"fields", json::array({{{"name", catalogue.Text(locale, "push.field_amount")},
                                           {"value", FormatWan(need->amount) + "万"}},
                                          {{"name", catalogue.Text(locale, "push.field_why")}, {"value", why}}})}};
    store::NewOutboxMessage m;
    m.idempotency_key = "push:" + std::to_string(push_id);
    m.channel = addresses.front().channel;
    m.recipient = addresses.front().address;
    m.kind = "match_push";
    m.payload = json(msg).dump();
    m.person_id = cand.researcher;
    for (std::size_t i = 1; i < addresses.size(); ++i)
      m.fallback.push_back({addresses[i].channel, addresses[i].address});
    out.push_back(std::move(m));
    ++created;
  }
  auto& round = conn.Prepare("INSERT INTO push_rounds (need_id, planned, created_at) VALUES (?, ?, ?)");
  round.bind(1, need_id);
  round.bind(2, created);
  round.bind(3, now_ms);
  round.exec();
  round.reset();
  return out;
}

namespace {

// One push as a digest lists it: what the SMS shows and what mail or WeCom would.
struct DigestItem {
  std::string title;
  std::string code;
  std::string text;
};

// The pushes a message carries: its own, or a digest's list (a digest retried later may carry more).
std::vector<DigestItem> ItemsOf(const OutboundMessage& m) {
  std::vector<DigestItem> out;
  if (const auto it = m.params.find("items"); it != m.params.end() && it->is_array()) {
    for (const auto& i : *it) out.push_back({i.value("title", ""), i.value("code", ""), i.value("text", "")});
    return out;
  }
  out.push_back({m.params.value("title", ""), m.params.value("code", ""), m.text});
  return out;
}

}  // namespace

void CoalescePushes(store::Connection& conn, const Catalogue& catalogue, store::OutboxMessage& msg, std::int64_t now_ms,
                    int max) {
  if (msg.kind != "match_push" || max < 2) return;
  // Asked first: on the hot path almost every push goes alone, and then nothing is parsed.
  const auto waiting = store::OutboxRepository::Waiting(conn, msg.channel, msg.recipient, msg.kind, msg.id, max - 1);
  if (waiting.empty()) return;
  const auto own = json::parse(msg.payload, nullptr, false);
  if (own.is_discarded()) return;  // the sender fails it with the reason
  auto carrier = own.get<OutboundMessage>();
  // By message id, so the digest lists the pushes in the order they were made, whichever was claimed.
  std::vector<std::pair<std::int64_t, std::vector<DigestItem>>> parts{{msg.id, ItemsOf(carrier)}};
  std::size_t count = parts.front().second.size();
  std::vector<std::int64_t> merged;
  for (const auto& w : waiting) {
    const auto payload = json::parse(w.payload, nullptr, false);
    if (payload.is_discarded()) continue;
    auto more = ItemsOf(payload.get<OutboundMessage>());
    if (count + more.size() > static_cast<std::size_t>(max)) continue;
    count += more.size();
    parts.emplace_back(w.id, std::move(more));
    merged.push_back(w.id);
  }
  if (merged.empty()) return;
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<DigestItem> items;
  for (auto& [id, list] : parts) items.insert(items.end(), list.begin(), list.end());

  const std::string locale = carrier.params.value("locale", "");
  std::string titles;
  std::string text = catalogue.Text(locale, "push.digest_text", {{"count", items.size()}});
  json listed = json::array();
  for (const auto& i : items) {
    listed.push_back({{"title", i.title}, {"code", i.code}, {"text", i.text}});
    titles += (titles.empty() ? "" : "；") + Excerpt(i.title, 12) + "（" + i.code + "）";
    text += "\n\n" + i.text;
  }
  OutboundMessage digest = TextMessage(std::move(text));
  digest.title = catalogue.Text(locale, "push.digest_title", {{"count", items.size()}});
  digest.template_id = "match_digest";
  digest.params = {{"count", std::to_string(items.size())},
                   {"titles", titles},
                   {"code", items.front().code},
                   {"locale", locale},
                   {"items", std::move(listed)}};
  msg.payload = json(digest).dump();
  store::OutboxRepository::Rewrite(conn, msg.id, msg.payload);
  store::OutboxRepository::Merge(conn, merged, msg.id, now_ms);
}

FollowUps FollowUpPushes(store::Connection& conn, const Catalogue& catalogue, Clock::TimePoint now,
                         std::chrono::hours remind_after, std::chrono::hours close_after) {
  const std::int64_t now_ms = ToUnixMillis(now);
  const std::int64_t remind_before =
      now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(remind_after).count();
  const std::int64_t close_before = now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(close_after).count();
  FollowUps out;
  auto& stale = conn.Prepare("SELECT id FROM pushes WHERE status = 'sent' AND created_at < ? ORDER BY id LIMIT 500");
  stale.bind(1, close_before);
  std::vector<std::int64_t> to_close;
  while (stale.executeStep()) to_close.push_back(stale.getColumn(0).getInt64());
  stale.reset();
  for (const auto id : to_close) {
    auto& upd =
        conn.Prepare("UPDATE pushes SET status = 'unanswered', updated_at = ? WHERE id = ? AND status = 'sent'");
    upd.bind(1, now_ms);
    upd.bind(2, id);
    if (upd.exec() == 1) {
      store::RecordTransition(conn, {"push", id, "sent", "unanswered", std::nullopt, "system", "no answer", now_ms});
      ++out.closed;
    }
    upd.reset();
  }
  auto& due = conn.Prepare(
      "SELECT p.id, p.researcher_person_id, p.reply_code, n.title, o.channel, o.recipient FROM pushes p "
      "JOIN needs n ON n.id = p.need_id "
      "JOIN outbox o ON o.idempotency_key = 'push:' || p.id "
      "WHERE p.status = 'sent' AND p.reminded_at IS NULL AND p.created_at < ? ORDER BY p.id LIMIT 500");
  due.bind(1, remind_before);
  struct Due {
    std::int64_t id;
    std::int64_t person;
    std::string code;
    std::string title;
    std::string channel;
    std::string recipient;
  };
  std::vector<Due> reminders;
  while (due.executeStep()) {
    reminders.push_back({due.getColumn(0).getInt64(), due.getColumn(1).getInt64(), due.getColumn(2).getString(),
                         due.getColumn(3).getString(), due.getColumn(4).getString(), due.getColumn(5).getString()});
  }
  due.reset();
  for (const auto& d : reminders) {
    auto& mark = conn.Prepare("UPDATE pushes SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL");
    mark.bind(1, now_ms);
    mark.bind(2, d.id);
    const bool marked = mark.exec() == 1;
    mark.reset();
    if (!marked) continue;
    const std::string locale = store::PersonLocale(conn, d.person, Catalogue::kDefaultLocale);
    const std::string text = catalogue.Text(locale, "push.reminder", {{"title", d.title}, {"code", d.code}});
    OutboundMessage msg = TextMessage(text);
    msg.template_id = "reminder";
    msg.params = {{"text", text}, {"locale", locale}};
    store::NewOutboxMessage m;
    m.idempotency_key = "push:" + std::to_string(d.id) + ":reminder";
    m.channel = d.channel;
    m.recipient = d.recipient;
    m.kind = "reminder";
    m.payload = json(msg).dump();
    m.person_id = d.person;
    out.reminders.push_back(std::move(m));
  }
  return out;
}

}  // namespace duijie::dialogs
