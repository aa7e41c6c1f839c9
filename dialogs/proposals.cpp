#include "dialogs/proposals.hpp"

#include <algorithm>
#include <map>

#include "dialogs/message.hpp"
#include "store/person_data.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

std::size_t CharCount(const std::string& utf8) {
  std::size_t n = 0;
  for (const char c : utf8) n += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  return n;
}

std::int64_t Ms(std::chrono::milliseconds d) { return d.count(); }

// Where a person is reached: the channel of their last conversation first, then the rest.
std::vector<store::Address> ReachByLastChannel(store::Connection& c, std::int64_t person) {
  auto& last = c.Prepare("SELECT COALESCE(last_channel, '') FROM conversations WHERE person_id = ?");
  last.bind(1, person);
  std::string first = last.executeStep() ? last.getColumn(0).getString() : "";
  last.reset();
  auto& q = c.Prepare(
      "SELECT kind, address FROM identities WHERE person_id = ? AND kind IN "
      "('wecom_userid', 'wecom_external', 'mobile', 'email') ORDER BY id");
  q.bind(1, person);
  std::vector<store::Address> out;
  while (q.executeStep()) {
    const std::string kind = q.getColumn(0).getString();
    const std::string channel = kind == "wecom_userid"     ? "wecom"
                                : kind == "wecom_external" ? "wecom_kf"
                                : kind == "mobile"         ? "sms"
                                                           : "email";
    out.push_back({channel, q.getColumn(1).getString()});
  }
  q.reset();
  std::stable_sort(out.begin(), out.end(), [&first](const store::Address& a, const store::Address& b) {
    return (a.channel == first) > (b.channel == first);
  });
  return out;
}

}  // namespace

std::optional<std::string> TakeProposal(store::Connection& conn, const Catalogue& catalogue, std::int64_t person_id,
                                        const std::string& locale, const std::string& text, const std::string& channel,
                                        Clock::TimePoint now) {
  if (CharCount(text) < kProposalMinChars) return std::nullopt;
  const std::int64_t now_ms = ToUnixMillis(now);
  // The push the person most recently said yes to, with its proposal so far (if any).
  auto& q = conn.Prepare(
      "SELECT p.id, n.title, pr.id, COALESCE(pr.updated_at, pr.created_at) FROM pushes p "
      "JOIN needs n ON n.id = p.need_id LEFT JOIN proposals pr ON pr.push_id = p.id "
      "WHERE p.researcher_person_id = ? AND p.status = 'interested' AND p.updated_at >= ? "
      "ORDER BY p.updated_at DESC LIMIT 1");
  q.bind(1, person_id);
  q.bind(2, now_ms - Ms(std::chrono::duration_cast<std::chrono::milliseconds>(kProposalWindow)));
  if (!q.executeStep()) {
    q.reset();
    return std::nullopt;
  }
  const std::int64_t push = q.getColumn(0).getInt64();
  const std::string title = q.getColumn(1).getString();
  const bool started = !q.getColumn(2).isNull();
  const std::int64_t proposal = started ? q.getColumn(2).getInt64() : 0;
  const std::int64_t last_part = started ? q.getColumn(3).getInt64() : 0;
  q.reset();
  if (!started) {
    auto& ins =
        conn.Prepare("INSERT INTO proposals (push_id, body, channel, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
    ins.bind(1, push);
    ins.bind(2, text);
    ins.bind(3, channel);
    ins.bind(4, now_ms);
    ins.bind(5, now_ms);
    ins.exec();
    ins.reset();
    return catalogue.Text(locale, "proposal.received", {{"title", title}});
  }
  if (now_ms - last_part > Ms(std::chrono::duration_cast<std::chrono::milliseconds>(kProposalJoinWindow))) {
    return std::nullopt;  // the proposal is complete; this is something else
  }
  auto& add = conn.Prepare(
      "UPDATE proposals SET body = body || char(10) || ?, updated_at = ?, notified_at = NULL WHERE id = ?");
  add.bind(1, text);
  add.bind(2, now_ms);
  add.bind(3, proposal);
  add.exec();
  add.reset();
  return catalogue.Text(locale, "proposal.received", {{"title", title}});
}

std::vector<store::NewOutboxMessage> ProposalDigests(store::Connection& conn, const Catalogue& catalogue,
                                                     Clock::TimePoint now, std::chrono::minutes quiet_for) {
  const std::int64_t now_ms = ToUnixMillis(now);
  const std::int64_t quiet_ms = Ms(std::chrono::duration_cast<std::chrono::milliseconds>(quiet_for));
  struct Item {
    std::int64_t id;
    std::string name;
    std::string unit;
    std::string body;
  };
  struct NeedDigest {
    std::string title;
    std::int64_t contact = 0;
    std::int64_t newest = 0;
    std::vector<Item> items;
  };
  std::map<std::int64_t, NeedDigest> needs;
  auto& q = conn.Prepare(
      "SELECT pr.id, n.id, n.title, e.contact_person_id, COALESCE(pe.display_name, ''), COALESCE(u.name, ''), "
      "pr.body, COALESCE(pr.updated_at, pr.created_at) FROM proposals pr JOIN pushes p ON p.id = pr.push_id "
      "JOIN needs n ON n.id = p.need_id JOIN enterprises e ON e.id = n.enterprise_id "
      "JOIN people pe ON pe.id = p.researcher_person_id LEFT JOIN researchers r ON r.person_id = pe.id "
      "LEFT JOIN units u ON u.id = r.unit_id WHERE pr.notified_at IS NULL ORDER BY pr.id LIMIT 1000");
  while (q.executeStep()) {
    auto& d = needs[q.getColumn(1).getInt64()];
    d.title = q.getColumn(2).getString();
    d.contact = q.getColumn(3).getInt64();
    d.newest = std::max(d.newest, q.getColumn(7).getInt64());
    d.items.push_back({q.getColumn(0).getInt64(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                       q.getColumn(6).getString()});
  }
  q.reset();
  std::vector<store::NewOutboxMessage> out;
  for (const auto& [need_id, d] : needs) {
    if (now_ms - d.newest < quiet_ms) continue;  // more may come: wait for a quiet spell
    const auto reach = ReachByLastChannel(conn, d.contact);
    const std::string locale = store::PersonLocale(conn, d.contact, Catalogue::kDefaultLocale);
    std::string list;
    int n = 0;
    for (const auto& item : d.items) {
      list += (list.empty() ? "" : "\n") +
              catalogue.Text(locale, "proposal.digest_item",
                             {{"n", ++n}, {"name", item.name}, {"unit", item.unit}, {"text", item.body}});
      auto& mark = conn.Prepare("UPDATE proposals SET notified_at = ? WHERE id = ?");
      mark.bind(1, now_ms);
      mark.bind(2, item.id);
      mark.exec();
      mark.reset();
    }
    if (reach.empty()) continue;  // nobody to tell; kept as told so it is not retried forever
    OutboundMessage msg = TextMessage(
        catalogue.Text(locale, "proposal.digest", {{"title", d.title}, {"count", d.items.size()}, {"list", list}}));
    msg.params["locale"] = locale;
    store::NewOutboxMessage m;
    m.idempotency_key =
        "digest:" + std::to_string(need_id) + ":" + std::to_string(d.items.back().id) + ":" + std::to_string(d.newest);
    m.channel = reach.front().channel;
    m.recipient = reach.front().recipient;
    m.kind = "proposal_digest";
    m.payload = json(msg).dump();
    m.person_id = d.contact;
    m.fallback.assign(reach.begin() + 1, reach.end());
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace duijie::dialogs
