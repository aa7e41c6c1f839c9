#include "dialogs/broadcasts.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <sstream>

#include "common/digest.hpp"
#include "common/html.hpp"
#include "common/mask.hpp"
#include "dialogs/message.hpp"
#include "dialogs/reply_grammar.hpp"
#include "dialogs/templates.hpp"
#include "store/outbox_repository.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
// An acknowledgement answers a reminder of the last week; older ones are not waiting any more.
constexpr std::int64_t kAckLookbackMs = 7 * kDayMs;
constexpr std::size_t kMaxBroadcastTextBytes = 2000;
constexpr std::size_t kMaxBroadcastTitleBytes = 200;

Error InvalidBroadcast(std::string message) { return {Errc::kInvalidArgument, "broadcast: " + std::move(message)}; }

bool CanSend(const Staff& staff) {
  return staff.role == "admin" || staff.role == "platform_reviewer" || staff.role == "bureau_reviewer";
}

// "now", an ISO time with an offset or Z, or a local (China) time without one.
Result<std::int64_t> ParseSendAt(const json& v, Clock::TimePoint now) {
  if (v.is_string() && v.get<std::string>() == "now") return ToUnixMillis(now);
  if (!v.is_string()) return InvalidBroadcast("send_at: \"now\" or a time like \"2026-12-01T09:00:00+08:00\"");
  const std::string s = v.get<std::string>();
  const auto day = ParseIsoDate(std::string_view(s).substr(0, 10));
  int h = 0;
  int m = 0;
  int sec = 0;
  std::size_t at = 10;
  const auto two = [&s](std::size_t pos, int& out) {
    if (pos + 2 > s.size()) return false;
    const auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + pos + 2, out);
    return ec == std::errc{} && ptr == s.data() + pos + 2;
  };
  bool ok = day.has_value() && s.size() >= 16 && (s[10] == 'T' || s[10] == ' ') && two(11, h) && s[13] == ':' &&
            two(14, m) && h < 24 && m < 60;
  at = 16;
  if (ok && at < s.size() && s[at] == ':') {
    ok = two(at + 1, sec) && sec < 60;
    at += 3;
    // Fractions of a second (as FormatUtc writes them) change nothing that matters here.
    if (ok && at < s.size() && s[at] == '.') {
      do {
        ++at;
      } while (at < s.size() && s[at] >= '0' && s[at] <= '9');
    }
  }
  int offset_min = 480;
  if (ok && at < s.size()) {
    if (s[at] == 'Z' && at + 1 == s.size()) {
      offset_min = 0;
    } else if ((s[at] == '+' || s[at] == '-') && s.size() == at + 6 && s[at + 3] == ':') {
      int oh = 0;
      int om = 0;
      ok = two(at + 1, oh) && two(at + 4, om);
      offset_min = (s[at] == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
      ok = false;
    }
  }
  if (!ok) return InvalidBroadcast("send_at: '" + s + "' is not \"now\" or a time like \"2026-12-01T09:00:00+08:00\"");
  const auto local = std::chrono::sys_seconds(*day) + std::chrono::hours(h) + std::chrono::minutes(m) +
                     std::chrono::seconds(sec) - std::chrono::minutes(offset_min);
  const std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(local.time_since_epoch()).count();
  if (ms < ToUnixMillis(now) - 60'000) return InvalidBroadcast("send_at: '" + s + "' is in the past");
  return ms;
}

struct Stored {
  std::int64_t id = 0;
  std::string title;
  std::string kind;
  std::string status;
  json audience;
  json tmpl;
  std::optional<std::int64_t> scheduled_at;
  std::optional<int> ack_minutes;
  std::optional<std::int64_t> audience_size;
  std::string created_by;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> finished_at;
  std::string request_sha;
};

std::optional<Stored> Load(store::Connection& c, std::int64_t id) {
  auto& q = c.Prepare(
      "SELECT id, title, kind, status, audience, template, scheduled_at, ack_minutes, audience_size, "
      "COALESCE(created_by, ''), created_at, finished_at, COALESCE(request_sha256, '') FROM broadcasts WHERE id = ?");
  q.bind(1, id);
  std::optional<Stored> out;
  if (q.executeStep()) {
    Stored s;
    s.id = q.getColumn(0).getInt64();
    s.title = q.getColumn(1).getString();
    s.kind = q.getColumn(2).getString();
    s.status = q.getColumn(3).getString();
    s.audience = json::parse(q.getColumn(4).getString(), nullptr, false);
    s.tmpl = json::parse(q.getColumn(5).getString(), nullptr, false);
    if (!q.getColumn(6).isNull()) s.scheduled_at = q.getColumn(6).getInt64();
    if (!q.getColumn(7).isNull()) s.ack_minutes = q.getColumn(7).getInt();
    if (!q.getColumn(8).isNull()) s.audience_size = q.getColumn(8).getInt64();
    s.created_by = q.getColumn(9).getString();
    s.created_at = q.getColumn(10).getInt64();
    if (!q.getColumn(11).isNull()) s.finished_at = q.getColumn(11).getInt64();
    s.request_sha = q.getColumn(12).getString();
    out = std::move(s);
  }
  q.reset();
  return out;
}

json Counts(store::Connection& c, const char* sql, std::int64_t id) {
  auto& q = c.Prepare(sql);
  q.bind(1, id);
  json out = json::object();
  while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
  q.reset();
  return out;
}

json View(store::Connection& c, const Stored& s) {
  json out = {{"id", s.id},
              {"title", s.title},
              {"kind", s.kind},
              {"status", s.status},
              {"audience", s.audience},
              {"message", s.tmpl},
              {"ack_minutes", s.ack_minutes ? json(*s.ack_minutes) : json(nullptr)},
              {"scheduled_at", s.scheduled_at ? json(FormatUtc(FromUnixMillis(*s.scheduled_at))) : json(nullptr)},
              {"audience_size", s.audience_size ? json(*s.audience_size) : json(nullptr)},
              {"created_by", s.created_by},
              {"created_at", FormatUtc(FromUnixMillis(s.created_at))},
              {"finished_at", s.finished_at ? json(FormatUtc(FromUnixMillis(*s.finished_at))) : json(nullptr)}};
  const json people =
      Counts(c, "SELECT status, count(*) FROM broadcast_recipients WHERE broadcast_id = ? GROUP BY status", s.id);
  const json messages = Counts(c, "SELECT status, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY status", s.id);
  std::int64_t reached = 0;
  for (const auto& [status, n] : people.items()) {
    if (status != "queued") reached += n.get<std::int64_t>();
  }
  out["progress"] = {{"people", people},
                     {"messages", messages},
                     {"people_done", reached},
                     {"people_total", s.audience_size.value_or(0)}};
  return out;
}

// A broadcast's message for one locale: a saved template (kept with the broadcast when it was
// made), a catalogue template, or the staff's own text.
Rendition RenditionFor(const Catalogue& catalogue, const json& tmpl, const std::string& locale, const json& vars) {
  if (tmpl.contains("custom")) return RenderTemplate(tmpl["custom"], locale, vars);
  json body = json::object();
  if (tmpl.contains("template")) {
    const std::string key = tmpl["template"].get<std::string>();
    body["text"] = catalogue.Text(locale, key + ".text", vars);
    body["title"] = catalogue.Text(locale, key + ".title", vars);
  } else {
    const json& m = tmpl["message"];
    body["text"] = FillPlaceholders(m.value("text", ""), vars);
    body["title"] = FillPlaceholders(m.value("title", ""), vars);
  }
  return RenderTemplate(body, locale, json::object());
}

struct Person {
  std::int64_t id = 0;
  std::string name;
  std::string locale;
  std::string preferred;
};

std::optional<Person> LoadPerson(store::Connection& c, std::int64_t id) {
  auto& q =
      c.Prepare("SELECT COALESCE(display_name, ''), locale, COALESCE(preferred_channel, '') FROM people WHERE id = ?");
  q.bind(1, id);
  std::optional<Person> out;
  if (q.executeStep())
    out = Person{id, q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()};
  q.reset();
  return out;
}

using Addresses = std::vector<std::pair<std::string, std::string>>;  // (channel, address)

// Whether an address may not be used: its channel opted out by the person, or the address
// suppressed (an SMS opt-out, a mail bounce).
#define DUIJIE_BLOCKED                                                                                              \
  "(EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = CASE i.kind WHEN 'mobile' THEN 'sms' WHEN 'email' THEN " \
  "'email' ELSE 'wecom' END AND s.address = i.address) OR EXISTS (SELECT 1 FROM channel_consents cc WHERE "         \
  "cc.person_id = i.person_id AND cc.state = 'opted_out' AND cc.channel = CASE i.kind WHEN 'mobile' THEN 'sms' "    \
  "WHEN 'email' THEN 'email' ELSE 'wecom' END))"

// Collects one person's addresses from identity rows (best first): one per channel, blocked ones
// left out (`opted_out` says some were), then in the broadcast's channel order with the
// person's preferred channel first.
class AddressBook {
 public:
  void Add(const std::string& kind, std::string address, bool blocked, const std::vector<std::string>& order) {
    const std::string channel = kind == "mobile" ? "sms" : kind == "email" ? "email" : "wecom";
    if (blocked) {
      opted_out_ = true;
      return;
    }
    if (std::find(order.begin(), order.end(), channel) == order.end()) return;
    const bool seen =
        std::any_of(found_.begin(), found_.end(), [&channel](const auto& a) { return a.first == channel; });
    if (!seen) found_.emplace_back(channel, std::move(address));
  }
  Addresses Take(const std::string& preferred, const std::vector<std::string>& order) {
    const auto rank = [&order, &preferred](const std::string& ch) {
      if (ch == preferred) return -1;
      return static_cast<int>(std::find(order.begin(), order.end(), ch) - order.begin());
    };
    std::stable_sort(found_.begin(), found_.end(),
                     [&rank](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
    return std::move(found_);
  }
  [[nodiscard]] bool OptedOut() const { return opted_out_; }

 private:
  Addresses found_;
  bool opted_out_ = false;
};

Addresses Reachable(store::Connection& c, const Person& p, const std::vector<std::string>& order, bool& opted_out) {
  auto& q = c.Prepare("SELECT i.kind, i.address, " DUIJIE_BLOCKED
                      " FROM identities i WHERE i.person_id = ? AND i.kind IN ('wecom_userid', 'mobile', 'email') "
                      "ORDER BY CASE i.status WHEN 'verified' THEN 0 ELSE 1 END, i.id");
  q.bind(1, p.id);
  AddressBook book;
  while (q.executeStep())
    book.Add(q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt() != 0, order);
  q.reset();
  opted_out = book.OptedOut();
  return book.Take(p.preferred, order);
}

// The message for one person, one payload for every channel: WeCom reads kind, title and text;
// SMS its template and variables; email params.mail. With acknowledgement each asks for it in
// its own way (a card button on WeCom).
OutboundMessage Compose(const Catalogue& catalogue, const Stored& b, const Person& p, const json& person_vars) {
  json vars = b.tmpl.value("vars", json::object());
  vars["name"] = p.name.empty() ? catalogue.Text(p.locale, "broadcast.name_unknown") : p.name;
  for (const auto& [k, v] : person_vars.items()) vars[k] = v;
  const auto r = RenditionFor(catalogue, b.tmpl, p.locale, vars);
  const bool ack = b.ack_minutes.has_value();
  OutboundMessage msg = TextMessage(r.wecom_text);
  if (!r.wecom_title.empty()) msg.title = r.wecom_title;
  if (r.wecom_format == "markdown") {
    msg.kind = "markdown";
  } else if (r.wecom_format == "card") {
    msg.kind = "card";
    if (!r.wecom_url.empty()) msg.params["url"] = r.wecom_url;
  } else if (!r.wecom_title.empty()) {
    msg.text = r.wecom_title + "\n" + r.wecom_text;
  }
  json mail{{"subject", r.email_subject}, {"text", r.email_text}};
  if (!r.email_html.empty()) mail["html"] = r.email_html;
  for (const auto& [k, v] : r.sms_params.items()) msg.params[k] = v;
  if (ack) {
    // The approved reminder template carries free text; a template of its own must ask itself.
    if (msg.params.contains("text") && r.sms_template == "reminder") {
      msg.params["text"] = msg.params["text"].get<std::string>() + catalogue.Text(p.locale, "broadcast.ack_sms");
    }
    const std::string ask = catalogue.Text(p.locale, "broadcast.ack_email");
    mail["text"] = r.email_text + "\n\n" + ask;
    if (!r.email_html.empty()) mail["html"] = r.email_html + "<p>" + EscapeHtml(ask) + "</p>";
    // Markdown cannot carry a button: the card shows the plain text.
    msg.kind = "template";
    msg.text = r.wecom_format == "markdown" ? r.text : r.wecom_text;
    if (!msg.title) msg.title = catalogue.Text(p.locale, "broadcast.card_title");
    msg.params.erase("url");
    msg.params["task_id"] = "bc-" + std::to_string(b.id) + "-" + std::to_string(p.id);
    msg.params["buttons"] = json::array(
        {{{"text", catalogue.Text(p.locale, "broadcast.ack_button")}, {"key", AckButtonKey(b.id)}, {"style", 1}}});
  }
  msg.template_id = r.sms_template;
  msg.params["locale"] = p.locale;
  msg.params["mail"] = std::move(mail);
  return msg;
}

std::string MessageKey(std::int64_t broadcast, std::int64_t person, int step) {
  return "broadcast:" + std::to_string(broadcast) + ":" + std::to_string(person) + ":" + std::to_string(step);
}

void Enqueue(store::Connection& c, const Stored& b, const Person& p, const Addresses& addresses, std::size_t index,
             const OutboundMessage& msg, bool with_fallback, std::int64_t now_ms) {
  store::NewOutboxMessage m;
  m.idempotency_key = MessageKey(b.id, p.id, static_cast<int>(index));
  m.channel = addresses[index].first;
  m.recipient = addresses[index].second;
  m.kind = "reminder";
  m.payload = json(msg).dump();
  m.person_id = p.id;
  m.broadcast_id = b.id;
  if (with_fallback) {
    for (std::size_t i = index + 1; i < addresses.size(); ++i)
      m.fallback.push_back({addresses[i].first, addresses[i].second});
  }
  store::OutboxRepository::Enqueue(c, m, now_ms);
}

void SetRecipient(store::Connection& c, std::int64_t broadcast, std::int64_t person, const std::string& status,
                  const std::optional<std::string>& channel, const std::optional<std::string>& reason, int step,
                  const std::optional<std::string>& addresses, std::optional<std::int64_t> next_at,
                  std::int64_t now_ms) {
  auto& u = c.Prepare(
      "UPDATE broadcast_recipients SET status = ?, channel = ?, reason = ?, step = ?, addresses = COALESCE(?, "
      "addresses), next_at = ?, updated_at = ? WHERE broadcast_id = ? AND person_id = ?");
  u.bind(1, status);
  channel ? u.bind(2, *channel) : u.bind(2);
  reason ? u.bind(3, *reason) : u.bind(3);
  u.bind(4, step);
  addresses ? u.bind(5, *addresses) : u.bind(5);
  next_at ? u.bind(6, *next_at) : u.bind(6);
  u.bind(7, now_ms);
  u.bind(8, broadcast);
  u.bind(9, person);
  u.exec();
  u.reset();
}

std::vector<std::string> ChannelOrder(const Stored& b, const BroadcastPolicy& policy) {
  if (b.tmpl.contains("channels")) return b.tmpl["channels"].get<std::vector<std::string>>();
  return policy.channel_order;
}

// Expands a due broadcast's audience into its recipients: who they are is fixed now.
bool Start(store::Connection& c, const Programme& programme, const Stored& b, Clock::TimePoint now) {
  const std::int64_t now_ms = ToUnixMillis(now);
  auto parsed = ParseAudience(b.audience, programme, Staff{"system", "admin", std::nullopt});
  auto& upd = c.Prepare(
      "UPDATE broadcasts SET status = ?, audience_size = ?, updated_at = ?, finished_at = ? WHERE id = ? AND status = "
      "'scheduled'");
  if (!parsed) {
    // The programme changed under a stored audience: nothing is sent, and the reason is kept.
    upd.bind(1, "cancelled");
    upd.bind(2, 0);
    upd.bind(3, now_ms);
    upd.bind(4, now_ms);
    upd.bind(5, b.id);
    upd.exec();
    upd.reset();
    store::RecordTransition(
        c, {"broadcast", b.id, "scheduled", "cancelled", std::nullopt, "system", parsed.error().message, now_ms});
    return false;
  }
  const auto q = BuildAudienceSql(*parsed, programme, WorkCalendar::Embedded().LocalDate(now));
  SQLite::Statement ins(c.Db(),
                        "INSERT OR IGNORE INTO broadcast_recipients (broadcast_id, person_id, status, updated_at) "
                        "SELECT ?, p.id, 'queued', ? FROM people p WHERE " +
                            q.where);
  ins.bind(1, b.id);
  ins.bind(2, now_ms);
  BindAudience(ins, q, 3);
  ins.exec();
  auto& count = c.Prepare("SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = ?");
  count.bind(1, b.id);
  count.executeStep();
  const std::int64_t size = count.getColumn(0).getInt64();
  count.reset();
  upd.bind(1, "sending");
  upd.bind(2, size);
  upd.bind(3, now_ms);
  upd.bind(4);
  upd.bind(5, b.id);
  upd.exec();
  upd.reset();
  store::RecordTransition(c, {"broadcast", b.id, "scheduled", "sending", std::nullopt, "system",
                              std::to_string(size) + " recipients", now_ms});
  return true;
}

// One person of a planning batch, with where they can be reached.
struct Planned {
  Person person;
  std::string vars;
  Addresses addresses;
  bool opted_out = false;
};

// The next `limit` people of broadcast `b` still queued, with their addresses: one query for the
// whole batch (the gateway plans a million people in batches; a query per person would be most
// of the time).
std::vector<Planned> NextBatch(store::Connection& c, const Stored& b, const std::vector<std::string>& order,
                               int limit) {
  auto& q = c.Prepare(
      "SELECT br.person_id, COALESCE(br.vars, '{}'), COALESCE(p.display_name, ''), p.locale, "
      "COALESCE(p.preferred_channel, ''), i.kind, i.address, " DUIJIE_BLOCKED
      " FROM (SELECT person_id, vars FROM broadcast_recipients WHERE broadcast_id = ? AND status = 'queued' "
      "ORDER BY person_id LIMIT ?) br JOIN people p ON p.id = br.person_id "
      "LEFT JOIN identities i ON i.person_id = br.person_id AND i.kind IN ('wecom_userid', 'mobile', 'email') "
      "ORDER BY br.person_id, CASE i.status WHEN 'verified' THEN 0 ELSE 1 END, i.id");
  q.bind(1, b.id);
  q.bind(2, limit);
  std::vector<Planned> out;
  out.reserve(static_cast<std::size_t>(limit));
  AddressBook book;
  const auto close = [&out, &book, &order] {
    if (out.empty()) return;
    out.back().opted_out = book.OptedOut();
    out.back().addresses = book.Take(out.back().person.preferred, order);
    book = AddressBook();
  };
  while (q.executeStep()) {
    const std::int64_t id = q.getColumn(0).getInt64();
    if (out.empty() || out.back().person.id != id) {
      close();
      out.push_back({Person{id, q.getColumn(2).getString(), q.getColumn(3).getString(), q.getColumn(4).getString()},
                     q.getColumn(1).getString(),
                     {},
                     false});
    }
    if (!q.getColumn(5).isNull()) {
      book.Add(q.getColumn(5).getString(), q.getColumn(6).getString(), q.getColumn(7).getInt() != 0, order);
    }
  }
  close();
  q.reset();
  return out;
}

// How many staff broadcasts each person of the batch got in the last 24 hours (the cap).
std::map<std::int64_t, std::int64_t> RecentCounts(store::Connection& c, const Stored& b,
                                                  const std::vector<Planned>& batch, std::int64_t now_ms) {
  json ids = json::array();
  for (const auto& p : batch) ids.push_back(p.person.id);
  auto& q = c.Prepare(
      "SELECT person_id, count(*) FROM broadcast_recipients WHERE person_id IN (SELECT value FROM json_each(?)) AND "
      "broadcast_id <> ? AND updated_at >= ? AND status IN ('sent', 'delivered', 'acknowledged') GROUP BY person_id");
  q.bind(1, ids.dump());
  q.bind(2, b.id);
  q.bind(3, now_ms - kDayMs);
  std::map<std::int64_t, std::int64_t> out;
  while (q.executeStep()) out[q.getColumn(0).getInt64()] = q.getColumn(1).getInt64();
  q.reset();
  return out;
}

// Plans up to `limit` recipients of broadcast `b`; returns how many were looked at.
int Plan(store::Connection& c, const Catalogue& catalogue, const BroadcastPolicy& policy, const Stored& b,
         Clock::TimePoint now, int limit, BroadcastRound& round) {
  const std::int64_t now_ms = ToUnixMillis(now);
  const auto order = ChannelOrder(b, policy);
  const auto batch = NextBatch(c, b, order, limit);
  const auto recent = b.kind == "manual" ? RecentCounts(c, b, batch, now_ms) : std::map<std::int64_t, std::int64_t>{};
  const bool ack = b.ack_minutes.has_value();
  for (const auto& p : batch) {
    const std::int64_t person_id = p.person.id;
    if (p.addresses.empty()) {
      SetRecipient(c, b.id, person_id, p.opted_out ? "opted_out" : "failed", std::nullopt,
                   p.opted_out ? "opted_out" : "no_address", 0, std::nullopt, std::nullopt, now_ms);
      ++round.skipped;
      continue;
    }
    if (const auto it = recent.find(person_id); it != recent.end() && it->second >= policy.max_per_person_per_day) {
      SetRecipient(c, b.id, person_id, "cancelled", std::nullopt, "capped", 0, std::nullopt, std::nullopt, now_ms);
      ++round.skipped;
      continue;
    }
    const json person_vars = json::parse(p.vars, nullptr, false);
    const auto msg = Compose(catalogue, b, p.person, person_vars.is_object() ? person_vars : json::object());
    Enqueue(c, b, p.person, p.addresses, 0, msg, !ack, now_ms);
    if (ack) {
      // The ladder moves on through these addresses when nobody acknowledges.
      json list = json::array();
      for (const auto& [ch, addr] : p.addresses) list.push_back({ch, addr});
      const std::int64_t next = now_ms + static_cast<std::int64_t>(*b.ack_minutes) * 60'000;
      SetRecipient(c, b.id, person_id, "sent", p.addresses.front().first, std::nullopt, 1, list.dump(), next, now_ms);
    } else {
      SetRecipient(c, b.id, person_id, "sent", p.addresses.front().first, std::nullopt, 1, std::nullopt, std::nullopt,
                   now_ms);
    }
    ++round.planned;
  }
  return static_cast<int>(batch.size());
}

// With acknowledgement: those whose time is up (or whose message failed) move to their next
// address; after the last one they are closed as unacknowledged.
void FollowUp(store::Connection& c, const Catalogue& catalogue, Clock::TimePoint now, int limit,
              BroadcastRound& round) {
  const std::int64_t now_ms = ToUnixMillis(now);
  // Two ways in, each on its own index: the time is up (next_at), or the message on the current
  // address failed (the few failed rows of the outbox).
  auto& due = c.Prepare(
      "SELECT br.broadcast_id, br.person_id, br.step, COALESCE(br.addresses, '[]'), COALESCE(br.vars, '{}') "
      "FROM broadcast_recipients br JOIN broadcasts b ON b.id = br.broadcast_id "
      "WHERE br.next_at IS NOT NULL AND br.next_at <= ? AND b.status = 'sending' "
      "UNION "
      "SELECT br.broadcast_id, br.person_id, br.step, COALESCE(br.addresses, '[]'), COALESCE(br.vars, '{}') "
      "FROM outbox o JOIN broadcast_recipients br ON br.broadcast_id = o.broadcast_id AND br.person_id = o.person_id "
      "JOIN broadcasts b ON b.id = br.broadcast_id "
      "WHERE o.status IN ('failed', 'dead') AND o.broadcast_id IS NOT NULL AND br.next_at IS NOT NULL "
      "AND b.status = 'sending' "
      "AND o.idempotency_key = 'broadcast:' || br.broadcast_id || ':' || br.person_id || ':' || (br.step - 1) "
      "LIMIT ?");
  due.bind(1, now_ms);
  due.bind(2, limit);
  struct Due {
    std::int64_t broadcast;
    std::int64_t person;
    int step;
    std::string addresses;
    std::string vars;
  };
  std::vector<Due> list;
  while (due.executeStep()) {
    list.push_back({due.getColumn(0).getInt64(), due.getColumn(1).getInt64(), due.getColumn(2).getInt(),
                    due.getColumn(3).getString(), due.getColumn(4).getString()});
  }
  due.reset();
  std::map<std::int64_t, Stored> cache;
  for (const auto& d : list) {
    if (!cache.contains(d.broadcast)) cache.emplace(d.broadcast, *Load(c, d.broadcast));
    const Stored& b = cache.at(d.broadcast);
    const json stored = json::parse(d.addresses, nullptr, false);
    Addresses addresses;
    if (stored.is_array()) {
      for (const auto& a : stored) addresses.emplace_back(a.at(0).get<std::string>(), a.at(1).get<std::string>());
    }
    const auto index = static_cast<std::size_t>(d.step);
    const auto person = LoadPerson(c, d.person);
    if (index >= addresses.size() || !person) {
      SetRecipient(c, b.id, d.person, "sent", std::nullopt, "unacknowledged", d.step, std::nullopt, std::nullopt,
                   now_ms);
      continue;
    }
    const json vars = json::parse(d.vars, nullptr, false);
    const auto msg = Compose(catalogue, b, *person, vars.is_object() ? vars : json::object());
    Enqueue(c, b, *person, addresses, index, msg, false, now_ms);
    SetRecipient(c, b.id, d.person, "sent", addresses[index].first, std::nullopt, d.step + 1, std::nullopt,
                 now_ms + static_cast<std::int64_t>(b.ack_minutes.value_or(60)) * 60'000, now_ms);
    ++round.escalated;
  }
}

}  // namespace

std::string AckButtonKey(std::int64_t broadcast_id) { return "ack:" + std::to_string(broadcast_id); }

std::optional<std::int64_t> ParseAckButtonKey(std::string_view key) {
  constexpr std::string_view kPrefix = "ack:";
  if (key.substr(0, kPrefix.size()) != kPrefix || key.size() == kPrefix.size() || key.size() > kPrefix.size() + 18) {
    return std::nullopt;
  }
  std::int64_t id = 0;
  const auto rest = key.substr(kPrefix.size());
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
  if (ec != std::errc{} || ptr != rest.data() + rest.size() || id <= 0) return std::nullopt;
  return id;
}

Result<BroadcastCreated> CreateBroadcast(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                                         const Staff& staff, const json& request,
                                         const std::optional<std::string>& idempotency_key, Clock::TimePoint now,
                                         std::string_view kind) {
  if (!CanSend(staff)) return Error(Errc::kPermissionDenied, "broadcast: this token may not send broadcasts");
  if (!request.is_object()) return InvalidBroadcast("expected a JSON object");
  if (idempotency_key && (idempotency_key->empty() || idempotency_key->size() > 200)) {
    return InvalidBroadcast("the idempotency key is 1 to 200 characters");
  }
  const std::string sha = Sha256Hex(request.dump());
  if (idempotency_key) {
    auto& q = c.Prepare("SELECT id, COALESCE(request_sha256, '') FROM broadcasts WHERE idempotency_key = ?");
    q.bind(1, *idempotency_key);
    std::optional<std::pair<std::int64_t, std::string>> found;
    if (q.executeStep()) found.emplace(q.getColumn(0).getInt64(), q.getColumn(1).getString());
    q.reset();
    if (found) {
      if (found->second != sha) {
        return Error(Errc::kConflict, "broadcast: the idempotency key '" + *idempotency_key +
                                          "' was used for a different request (broadcast " +
                                          std::to_string(found->first) + ")");
      }
      return BroadcastCreated{View(c, *Load(c, found->first)), false};
    }
  }
  static const std::set<std::string> kKeys = {"title", "audience", "audience_id", "message", "template",
                                              "vars",  "ack",      "channels",    "send_at"};
  for (const auto& [key, value] : request.items()) {
    if (!kKeys.contains(key)) return InvalidBroadcast("'" + key + "' is not a field of a broadcast");
  }
  const std::string title = request.value("title", "");
  if (title.empty() || title.size() > kMaxBroadcastTitleBytes)
    return InvalidBroadcast("title: 1 to 200 bytes naming the broadcast");
  json audience_doc;
  if (request.contains("audience_id")) {
    if (!request["audience_id"].is_number_integer()) return InvalidBroadcast("audience_id: the id of a saved audience");
    auto saved = FindSavedAudience(c, request["audience_id"].get<std::int64_t>());
    if (!saved) return Error(Errc::kNotFound, "broadcast: no saved audience " + request["audience_id"].dump());
    audience_doc = *saved;
  } else if (request.contains("audience")) {
    audience_doc = request["audience"];
  } else {
    return InvalidBroadcast("audience: give the conditions (\"audience\") or a saved audience (\"audience_id\")");
  }
  auto audience = ParseAudience(audience_doc, programme, staff);
  if (!audience) return audience.error();

  json tmpl = json::object();
  json vars = request.value("vars", json::object());
  if (!vars.is_object() || vars.size() > 20) return InvalidBroadcast("vars: an object of at most 20 values");
  for (const auto& [k, v] : vars.items()) {
    if (!v.is_string() && !v.is_number()) return InvalidBroadcast("vars: '" + k + "' must be a string or a number");
  }
  std::set<std::string> allowed = {"name"};
  for (const auto& [k, v] : vars.items()) allowed.insert(k);
  std::string sample_text;
  for (const auto& [k, v] : vars.items()) sample_text += v.is_string() ? v.get<std::string>() : "";
  if (request.contains("template")) {
    const auto& key = request["template"];
    const auto found = key.is_string() ? FindTemplate(c, catalogue, key.get<std::string>()) : std::nullopt;
    if (!found)
      return InvalidBroadcast("template: " + key.dump() + " is neither a saved template nor one of the catalogue");
    if (found->value("source", "") == "saved") {
      for (const auto& v : found->value("variables", json::array())) {
        if (!vars.contains(v.get<std::string>())) {
          return InvalidBroadcast("vars: the template " + key.dump() + " needs {" + v.get<std::string>() + "}");
        }
      }
      // Kept as it is now: a template changed later does not change a broadcast under way.
      json body = *found;
      for (const char* meta : {"id", "source", "created_by", "created_at", "updated_at"}) body.erase(meta);
      tmpl["custom"] = std::move(body);
    } else {
      tmpl["template"] = key;
    }
  } else if (request.contains("message") && request["message"].is_object()) {
    const json& m = request["message"];
    for (const auto& [k, v] : m.items()) {
      if (k != "text" && k != "title") return InvalidBroadcast("message: '" + k + "' is not text or title");
      if (!v.is_string()) return InvalidBroadcast("message." + k + ": a string");
    }
    const std::string text = m.value("text", "");
    const std::string mtitle = m.value("title", "");
    if (text.empty() || text.size() > kMaxBroadcastTextBytes) return InvalidBroadcast("message.text: 1 to 2000 bytes");
    if (mtitle.size() > kMaxBroadcastTitleBytes) return InvalidBroadcast("message.title: at most 200 bytes");
    for (const auto& text_of : {text, mtitle}) {
      for (const auto& ph : Placeholders(text_of)) {
        if (!allowed.contains(ph)) {
          std::string names;
          for (const auto& a : allowed) names += (names.empty() ? "{" : ", {") + a + "}";
          return InvalidBroadcast("message: {" + ph + "} is not a variable; use " + names);
        }
      }
    }
    sample_text += text + mtitle;
    tmpl["message"] = {{"text", text}, {"title", mtitle}};
  } else {
    return InvalidBroadcast("message: give {\"text\": ..., \"title\": ...} or a catalogue \"template\"");
  }
  if (!vars.empty()) tmpl["vars"] = vars;
  if (request.contains("channels")) {
    const auto& ch = request["channels"];
    static const std::set<std::string> kChannels = {"wecom", "sms", "email"};
    std::vector<std::string> list;
    if (!ch.is_array() || ch.empty())
      return InvalidBroadcast("channels: a list of wecom, sms, email in the order to try");
    for (const auto& x : ch) {
      if (!x.is_string() || !kChannels.contains(x.get<std::string>())) {
        return InvalidBroadcast("channels: " + x.dump() + " is not wecom, sms or email");
      }
      if (std::find(list.begin(), list.end(), x.get<std::string>()) == list.end()) list.push_back(x.get<std::string>());
    }
    tmpl["channels"] = list;
  }
  const bool sms_possible = !tmpl.contains("channels") || std::find(tmpl["channels"].begin(), tmpl["channels"].end(),
                                                                    "sms") != tmpl["channels"].end();
  if (sms_possible && HasLink(sample_text)) {
    return InvalidBroadcast(
        "message: a link cannot go by SMS (the providers refuse it); remove it or leave sms out of channels");
  }
  std::optional<int> ack_minutes;
  if (request.contains("ack")) {
    const auto& a = request["ack"];
    if (a.is_boolean()) {
      if (a.get<bool>()) ack_minutes = BroadcastPolicy{}.default_ack_minutes;
    } else if (a.is_object() && a.contains("within_minutes") && a["within_minutes"].is_number_integer() &&
               a["within_minutes"].get<int>() >= 5 && a["within_minutes"].get<int>() <= 14 * 24 * 60) {
      ack_minutes = a["within_minutes"].get<int>();
    } else {
      return InvalidBroadcast("ack: true, or {\"within_minutes\": 5 to 20160}");
    }
  }
  std::optional<std::int64_t> send_at;
  if (request.contains("send_at")) {
    auto at = ParseSendAt(request["send_at"], now);
    if (!at) return at.error();
    send_at = *at;
  }
  const std::int64_t now_ms = ToUnixMillis(now);
  auto& ins = c.Prepare(
      "INSERT INTO broadcasts (idempotency_key, title, audience, template, scheduled_at, status, kind, request_sha256, "
      "ack_minutes, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  idempotency_key ? ins.bind(1, *idempotency_key) : ins.bind(1);
  ins.bind(2, title);
  ins.bind(3, ToJson(*audience).dump());
  ins.bind(4, tmpl.dump());
  send_at ? ins.bind(5, *send_at) : ins.bind(5);
  ins.bind(6, send_at ? "scheduled" : "draft");
  ins.bind(7, std::string(kind));
  ins.bind(8, sha);
  ack_minutes ? ins.bind(9, *ack_minutes) : ins.bind(9);
  ins.bind(10, staff.name);
  ins.bind(11, now_ms);
  ins.bind(12, now_ms);
  ins.exec();
  ins.reset();
  const std::int64_t id = c.Db().getLastInsertRowid();
  store::RecordTransition(c, {"broadcast", id, std::nullopt, send_at ? "scheduled" : "draft", std::nullopt, "api",
                              "by " + staff.name, now_ms});
  auto& audit =
      c.Prepare("INSERT INTO audit_log (actor, action, target, detail, at) VALUES (?, 'broadcast.create', ?, ?, ?)");
  audit.bind(1, staff.name);
  audit.bind(2, "broadcast:" + std::to_string(id));
  audit.bind(3, json{{"title", title}, {"audience", ToJson(*audience)}}.dump());
  audit.bind(4, now_ms);
  audit.exec();
  audit.reset();
  return BroadcastCreated{View(c, *Load(c, id)), true};
}

Result<json> SendBroadcast(store::Connection& c, const Staff& staff, std::int64_t id, const json& request,
                           Clock::TimePoint now) {
  if (!CanSend(staff)) return Error(Errc::kPermissionDenied, "broadcast: this token may not send broadcasts");
  const auto b = Load(c, id);
  if (!b) return Error(Errc::kNotFound, "broadcast: no broadcast " + std::to_string(id));
  if (b->status != "draft") {
    if (b->status == "scheduled" || b->status == "sending" || b->status == "done") return View(c, *b);
    return Error(Errc::kConflict, "broadcast: " + std::to_string(id) + " is " + b->status);
  }
  auto at = ParseSendAt(request.is_object() && request.contains("send_at") ? request["send_at"] : json("now"), now);
  if (!at) return at.error();
  auto& upd = c.Prepare("UPDATE broadcasts SET status = 'scheduled', scheduled_at = ?, updated_at = ? WHERE id = ?");
  upd.bind(1, *at);
  upd.bind(2, ToUnixMillis(now));
  upd.bind(3, id);
  upd.exec();
  upd.reset();
  store::RecordTransition(
      c, {"broadcast", id, "draft", "scheduled", std::nullopt, "api", "by " + staff.name, ToUnixMillis(now)});
  return View(c, *Load(c, id));
}

Result<json> CancelBroadcast(store::Connection& c, const Staff& staff, std::int64_t id, Clock::TimePoint now) {
  if (!CanSend(staff)) return Error(Errc::kPermissionDenied, "broadcast: this token may not cancel broadcasts");
  const auto b = Load(c, id);
  if (!b) return Error(Errc::kNotFound, "broadcast: no broadcast " + std::to_string(id));
  if (b->status == "done") return Error(Errc::kConflict, "broadcast: " + std::to_string(id) + " is done already");
  if (b->status == "cancelled") return View(c, *b);
  const std::int64_t now_ms = ToUnixMillis(now);
  auto& upd = c.Prepare("UPDATE broadcasts SET status = 'cancelled', updated_at = ?, finished_at = ? WHERE id = ?");
  upd.bind(1, now_ms);
  upd.bind(2, now_ms);
  upd.bind(3, id);
  upd.exec();
  upd.reset();
  auto& people = c.Prepare(
      "UPDATE broadcast_recipients SET status = CASE status WHEN 'queued' THEN 'cancelled' ELSE status END, "
      "reason = CASE status WHEN 'queued' THEN 'cancelled' ELSE reason END, next_at = NULL, updated_at = ? "
      "WHERE broadcast_id = ? AND (status = 'queued' OR next_at IS NOT NULL)");
  people.bind(1, now_ms);
  people.bind(2, id);
  people.exec();
  people.reset();
  auto& msgs = c.Prepare(
      "UPDATE outbox SET status = 'cancelled', last_error = 'broadcast cancelled', updated_at = ?, finished_at = ? "
      "WHERE broadcast_id = ? AND status = 'pending'");
  msgs.bind(1, now_ms);
  msgs.bind(2, now_ms);
  msgs.bind(3, id);
  msgs.exec();
  msgs.reset();
  store::RecordTransition(c,
                          {"broadcast", id, b->status, "cancelled", std::nullopt, "api", "by " + staff.name, now_ms});
  return View(c, *Load(c, id));
}

Result<json> GetBroadcast(store::Connection& c, std::int64_t id) {
  const auto b = Load(c, id);
  if (!b) return Error(Errc::kNotFound, "broadcast: no broadcast " + std::to_string(id));
  return View(c, *b);
}

json ListBroadcasts(store::Connection& c, int limit) {
  auto& q = c.Prepare("SELECT id FROM broadcasts ORDER BY id DESC LIMIT ?");
  q.bind(1, limit);
  std::vector<std::int64_t> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
  q.reset();
  json out = json::array();
  for (const auto id : ids) out.push_back(View(c, *Load(c, id)));
  return out;
}

Result<json> BroadcastReport(store::Connection& c, std::int64_t id) {
  const auto b = Load(c, id);
  if (!b) return Error(Errc::kNotFound, "broadcast: no broadcast " + std::to_string(id));
  json channels = json::object();
  for (const char* ch : {"wecom", "sms", "email"}) {
    channels[ch] = {{"queued", 0},
                    {"sent", 0},
                    {"delivered", 0},
                    {"failed", 0},
                    {"cancelled", 0},
                    {"acknowledged", 0},
                    {"failures", json::object()}};
  }
  auto& q = c.Prepare(
      "SELECT channel, CASE WHEN status IN ('pending', 'sending', 'unknown') THEN 'queued' WHEN status IN ('sent', "
      "'sandbox') THEN 'sent' WHEN status IN ('failed', 'dead') THEN 'failed' ELSE status END AS s, count(*) "
      "FROM outbox WHERE broadcast_id = ? GROUP BY channel, s");
  q.bind(1, id);
  while (q.executeStep()) {
    const std::string ch = q.getColumn(0).getString();
    if (channels.contains(ch)) channels[ch][q.getColumn(1).getString()] = q.getColumn(2).getInt64();
  }
  q.reset();
  auto& why = c.Prepare(
      "SELECT channel, COALESCE(last_error, 'unknown'), count(*) FROM outbox WHERE broadcast_id = ? AND status IN "
      "('failed', 'dead') GROUP BY channel, last_error ORDER BY count(*) DESC LIMIT 50");
  why.bind(1, id);
  while (why.executeStep()) {
    const std::string ch = why.getColumn(0).getString();
    if (channels.contains(ch)) channels[ch]["failures"][why.getColumn(1).getString()] = why.getColumn(2).getInt64();
  }
  why.reset();
  auto& acks = c.Prepare(
      "SELECT channel, count(*) FROM broadcast_recipients WHERE broadcast_id = ? AND status = 'acknowledged' GROUP BY "
      "channel");
  acks.bind(1, id);
  while (acks.executeStep()) {
    const std::string ch = acks.getColumn(0).getString();
    if (channels.contains(ch)) channels[ch]["acknowledged"] = acks.getColumn(1).getInt64();
  }
  acks.reset();
  const json people =
      Counts(c,
             "SELECT COALESCE(reason, status), count(*) FROM broadcast_recipients WHERE broadcast_id = ? AND "
             "status IN ('failed', 'opted_out', 'cancelled') GROUP BY COALESCE(reason, status)",
             id);
  json out = View(c, *b);
  out["channels"] = std::move(channels);
  out["skipped"] = people;
  return out;
}

Result<std::string> BroadcastReportCsv(store::Connection& c, std::int64_t id) {
  if (!Load(c, id)) return Error(Errc::kNotFound, "broadcast: no broadcast " + std::to_string(id));
  std::ostringstream out;
  out << "person_id,name,role,status,channel,reason,acknowledged_at,messages\r\n";
  const auto csv = [](const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (const char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  SQLite::Statement q(c.Db(),
                      "SELECT br.person_id, COALESCE(p.display_name, ''), p.role, br.status, COALESCE(br.channel, ''), "
                      "COALESCE(br.reason, ''), br.acknowledged_at, "
                      "(SELECT group_concat(o.channel || ':' || o.status || ':' || o.recipient, ';') FROM outbox o "
                      "WHERE o.broadcast_id = br.broadcast_id AND o.person_id = br.person_id) "
                      "FROM broadcast_recipients br JOIN people p ON p.id = br.person_id WHERE br.broadcast_id = ? "
                      "ORDER BY br.person_id");
  q.bind(1, id);
  while (q.executeStep()) {
    std::string messages;
    std::istringstream parts(q.getColumn(7).isNull() ? "" : q.getColumn(7).getString());
    for (std::string part; std::getline(parts, part, ';');) {
      // channel:status:address, the address masked.
      const auto a = part.find(':');
      const auto b2 = part.find(':', a + 1);
      if (a == std::string::npos || b2 == std::string::npos) continue;
      const std::string ch = part.substr(0, a);
      const std::string addr = part.substr(b2 + 1);
      const std::string masked = MaskAddress(addr);
      messages += (messages.empty() ? "" : " ") + part.substr(0, b2) + ":" + masked;
    }
    out << q.getColumn(0).getInt64() << ',' << csv(q.getColumn(1).getString()) << ',' << q.getColumn(2).getString()
        << ',' << q.getColumn(3).getString() << ',' << q.getColumn(4).getString() << ','
        << csv(q.getColumn(5).getString()) << ','
        << (q.getColumn(6).isNull() ? "" : FormatUtc(FromUnixMillis(q.getColumn(6).getInt64()))) << ',' << csv(messages)
        << "\r\n";
  }
  return out.str();
}

namespace {

// A preview: the message as `person` gets it, listed for each channel they can be reached on.
json RenderFor(store::Connection& c, const Catalogue& catalogue, const BroadcastPolicy& policy, const Stored& b,
               const Person& person) {
  bool opted_out = false;
  const auto addresses = Reachable(c, person, ChannelOrder(b, policy), opted_out);
  const json message = Compose(catalogue, b, person, json::object());
  json out = {{"person_id", person.id},
              {"locale", person.locale},
              {"channels", json::array()},
              {"opted_out_somewhere", opted_out}};
  for (const auto& [channel, address] : addresses) {
    out["channels"].push_back({{"channel", channel}, {"address", MaskAddress(address)}, {"message", message}});
  }
  return out;
}

}  // namespace

Result<json> PreviewBroadcast(store::Connection& c, const Catalogue& catalogue, const BroadcastPolicy& policy,
                              std::int64_t id, std::int64_t person_id) {
  const auto b = Load(c, id);
  if (!b) return Error(Errc::kNotFound, "broadcast: no broadcast " + std::to_string(id));
  const auto person = LoadPerson(c, person_id);
  if (!person) return Error(Errc::kNotFound, "broadcast: no person " + std::to_string(person_id));
  json out = RenderFor(c, catalogue, policy, *b, *person);
  out["broadcast_id"] = id;
  return out;
}

Result<json> PreviewTemplate(store::Connection& c, const Catalogue& catalogue, const BroadcastPolicy& policy,
                             std::string_view name, std::int64_t person_id, const json& vars, bool ack) {
  const auto found = FindTemplate(c, catalogue, name);
  if (!found) return Error(Errc::kNotFound, "template: no template named '" + std::string(name) + "'");
  if (!vars.is_object()) return InvalidBroadcast("vars: an object of the template's variables");
  const auto person = LoadPerson(c, person_id);
  if (!person) return Error(Errc::kNotFound, "template: no person " + std::to_string(person_id));
  Stored b;
  if (found->value("source", "") == "saved") {
    b.tmpl["custom"] = *found;
  } else {
    b.tmpl["template"] = found->at("name");
  }
  b.tmpl["vars"] = vars;
  if (ack) b.ack_minutes = policy.default_ack_minutes;
  json missing = json::array();
  for (const auto& v : found->value("variables", json::array())) {
    if (!vars.contains(v.get<std::string>())) missing.push_back(v);
  }
  json out = RenderFor(c, catalogue, policy, b, *person);
  out["template"] = found->at("name");
  out["missing_vars"] = missing;
  return out;
}

BroadcastRound RunBroadcasts(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                             const BroadcastPolicy& policy, Clock::TimePoint now, int limit) {
  const std::int64_t now_ms = ToUnixMillis(now);
  BroadcastRound round;
  auto& due =
      c.Prepare("SELECT id FROM broadcasts WHERE status = 'scheduled' AND scheduled_at <= ? ORDER BY id LIMIT 20");
  due.bind(1, now_ms);
  std::vector<std::int64_t> starting;
  while (due.executeStep()) starting.push_back(due.getColumn(0).getInt64());
  due.reset();
  for (const auto id : starting) {
    if (Start(c, programme, *Load(c, id), now)) ++round.started;
  }
  auto& sending = c.Prepare("SELECT id FROM broadcasts WHERE status = 'sending' ORDER BY id");
  std::vector<std::int64_t> active;
  while (sending.executeStep()) active.push_back(sending.getColumn(0).getInt64());
  sending.reset();
  int budget = limit;
  for (const auto id : active) {
    if (budget <= 0) {
      round.more = true;
      break;
    }
    const auto b = Load(c, id);
    int allowed = budget;
    if (policy.window > 0) {
      auto& waiting = c.Prepare(
          "SELECT count(*) FROM outbox INDEXED BY outbox_broadcast_waiting WHERE broadcast_id = ? "
          "AND (status = 'pending' OR status = 'sending' OR status = 'unknown')");
      waiting.bind(1, id);
      waiting.executeStep();
      allowed = std::min(allowed, policy.window - waiting.getColumn(0).getInt());
      waiting.reset();
    }
    if (allowed <= 0) continue;  // the window is full: planned on as messages go out
    const int looked = Plan(c, catalogue, policy, *b, now, allowed, round);
    // The batch was full (not the window): there may be more to plan at once.
    if (looked == allowed && allowed == budget) round.more = true;
    budget -= looked;
  }
  FollowUp(c, catalogue, now, limit, round);
  // Done: everyone planned, no acknowledgement awaited, no message still on its way.
  auto& finish = c.Prepare(
      "UPDATE broadcasts SET status = 'done', finished_at = ?, updated_at = ? WHERE status = 'sending' "
      "AND NOT EXISTS (SELECT 1 FROM broadcast_recipients br WHERE br.broadcast_id = broadcasts.id AND "
      "br.status = 'queued') "
      "AND NOT EXISTS (SELECT 1 FROM broadcast_recipients br WHERE br.broadcast_id = broadcasts.id AND "
      "br.next_at IS NOT NULL) "
      "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.broadcast_id = broadcasts.id AND o.status IN ('pending', "
      "'sending', 'unknown')) RETURNING id");
  finish.bind(1, now_ms);
  finish.bind(2, now_ms);
  std::vector<std::int64_t> done;
  while (finish.executeStep()) done.push_back(finish.getColumn(0).getInt64());
  finish.reset();
  for (const auto id : done) {
    store::RecordTransition(c, {"broadcast", id, "sending", "done", std::nullopt, "system", "", now_ms});
    ++round.finished;
  }
  return round;
}

bool IsAcknowledgement(std::string_view text) {
  const std::string word = NormalizeReply(text);
  static const std::set<std::string, std::less<>> kWords = {"1",    "确认",   "收到", "已收到", "确认收到",
                                                            "好的", "知道了", "ok",   "yes",    "y"};
  return kWords.contains(word);
}

std::optional<std::string> AcknowledgeBroadcast(store::Connection& c, const Catalogue& catalogue,
                                                std::int64_t person_id, const std::string& locale,
                                                std::optional<std::int64_t> broadcast_id, std::string_view channel,
                                                Clock::TimePoint now) {
  const std::int64_t now_ms = ToUnixMillis(now);
  auto& q = c.Prepare(
      "SELECT br.broadcast_id, b.title FROM broadcast_recipients br JOIN broadcasts b ON b.id = br.broadcast_id "
      "WHERE br.person_id = ? AND b.ack_minutes IS NOT NULL AND br.acknowledged_at IS NULL AND br.step > 0 "
      "AND br.status IN ('sent', 'delivered') AND br.updated_at >= ? AND (? IS NULL OR br.broadcast_id = ?) "
      "ORDER BY br.updated_at DESC LIMIT 1");
  q.bind(1, person_id);
  q.bind(2, now_ms - kAckLookbackMs);
  broadcast_id ? q.bind(3, *broadcast_id) : q.bind(3);
  broadcast_id ? q.bind(4, *broadcast_id) : q.bind(4);
  std::optional<std::int64_t> found;
  if (q.executeStep()) found = q.getColumn(0).getInt64();
  q.reset();
  if (!found) return std::nullopt;
  auto& upd = c.Prepare(
      "UPDATE broadcast_recipients SET status = 'acknowledged', acknowledged_at = ?, channel = ?, next_at = NULL, "
      "updated_at = ? WHERE broadcast_id = ? AND person_id = ?");
  upd.bind(1, now_ms);
  upd.bind(2, std::string(channel));
  upd.bind(3, now_ms);
  upd.bind(4, *found);
  upd.bind(5, person_id);
  upd.exec();
  upd.reset();
  // Acknowledged on one channel closes the others: what has not gone out yet does not.
  auto& cancel = c.Prepare(
      "UPDATE outbox SET status = 'cancelled', last_error = 'acknowledged', updated_at = ?, finished_at = ? WHERE "
      "broadcast_id = ? AND person_id = ? AND status = 'pending'");
  cancel.bind(1, now_ms);
  cancel.bind(2, now_ms);
  cancel.bind(3, *found);
  cancel.bind(4, person_id);
  cancel.exec();
  cancel.reset();
  return catalogue.Text(locale, "broadcast.acknowledged");
}

}  // namespace duijie::dialogs
