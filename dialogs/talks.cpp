#include "dialogs/talks.hpp"

#include <algorithm>
#include <array>

#include "common/mask.hpp"
#include "dialogs/conversations.hpp"
#include "dialogs/message.hpp"
#include "dialogs/staff.hpp"
#include "matcher/normalize.hpp"
#include "matcher/utf8.hpp"
#include "store/matching.hpp"
#include "store/person_data.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

constexpr int kEnterpriseAgreed = 1;
constexpr int kResearcherAgreed = 2;
constexpr std::size_t kProposalExcerpt = 60;  // characters of a proposal in the list

enum class Verb { kList, kRecommend, kShortlist, kTalk, kChoose, kEnd, kExchange, kDecline };
constexpr std::size_t kRecommendations = 5;  // per need: fits a chat message

struct TalkCommand {
  Verb verb;
  std::vector<int> numbers;  // 初选 / 洽谈 / 选定 take candidate numbers
};

// "初选 1、3", "洽谈２", "选定 2": the verb, then numbers (ASCII or full-width digits) separated
// by spaces, commas or 、. Anything else after the verb: not a command.
std::optional<std::vector<int>> Numbers(std::string_view rest) {
  std::vector<int> out;
  int current = -1;
  const auto flush = [&] {
    if (current >= 0) out.push_back(current);
    current = -1;
  };
  for (std::size_t i = 0; i < rest.size();) {
    const auto c = static_cast<unsigned char>(rest[i]);
    int digit = -1;
    std::size_t len = 1;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (rest.substr(i, 2) == "\xEF\xBC" && i + 2 < rest.size() &&
               static_cast<unsigned char>(rest[i + 2]) >= 0x90 && static_cast<unsigned char>(rest[i + 2]) <= 0x99) {
      digit = static_cast<unsigned char>(rest[i + 2]) - 0x90;  // ０-９
      len = 3;
    } else if (c == ' ' || c == ',') {
      flush();
    } else if (rest.substr(i, 3) == "、" || rest.substr(i, 3) == "，") {
      flush();
      len = 3;
    } else {
      return std::nullopt;
    }
    if (digit >= 0) {
      current = current < 0 ? digit : current * 10 + digit;
      if (current > 9999) return std::nullopt;
    }
    i += len;
  }
  flush();
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<TalkCommand> ParseCommand(const std::string& text) {
  struct Word {
    std::string_view word;
    Verb verb;
  };
  static constexpr std::array<Word, 14> kWords = {{{"人选", Verb::kList},
                                                   {"推荐人选", Verb::kRecommend},
                                                   {"推荐专家", Verb::kRecommend},
                                                   {"查看人选", Verb::kList},
                                                   {"查看方案", Verb::kList},
                                                   {"方案", Verb::kList},
                                                   {"结束洽谈", Verb::kEnd},
                                                   {"结束沟通", Verb::kEnd},
                                                   {"交换联系方式", Verb::kExchange},
                                                   {"同意交换", Verb::kExchange},
                                                   {"不交换", Verb::kDecline},
                                                   {"不交换联系方式", Verb::kDecline},
                                                   {"拒绝交换", Verb::kDecline},
                                                   {"暂不交换", Verb::kDecline}}};
  for (const auto& w : kWords) {
    if (text == w.word) return TalkCommand{w.verb, {}};
  }
  struct Numbered {
    std::string_view word;
    Verb verb;
  };
  static constexpr std::array<Numbered, 3> kNumbered = {
      {{"初选", Verb::kShortlist}, {"洽谈", Verb::kTalk}, {"选定", Verb::kChoose}}};
  for (const auto& w : kNumbered) {
    if (text.rfind(w.word, 0) != 0) continue;
    if (auto numbers = Numbers(std::string_view(text).substr(w.word.size()))) return TalkCommand{w.verb, *numbers};
  }
  return std::nullopt;
}

struct Candidate {
  std::int64_t push = 0;
  std::int64_t need = 0;
  std::string need_title;
  std::string need_stage;
  std::string enterprise;
  std::int64_t researcher = 0;
  std::string name;  // 李四（华中科技大学·教授）
  std::string status;
  std::string talk;
  std::string proposal;
};

// The researchers who answered the needs of the enterprise `person` is the contact of, in the
// order they answered (push id): the numbers the enterprise uses stay the same as more answer.
std::vector<Candidate> Candidates(store::Connection& c, std::int64_t person) {
  auto& s = c.Prepare(
      "SELECT p.id, n.id, n.title, n.stage, p.researcher_person_id, COALESCE(pe.display_name, ''), "
      "COALESCE(u.name, ''), COALESCE(r.title, ''), p.status, COALESCE(p.talk, ''), COALESCE(pr.body, ''), e.name "
      "FROM pushes p JOIN needs n ON n.id = p.need_id JOIN enterprises e ON e.id = n.enterprise_id "
      "JOIN people pe ON pe.id = p.researcher_person_id LEFT JOIN researchers r ON r.person_id = "
      "p.researcher_person_id "
      "LEFT JOIN units u ON u.id = r.unit_id LEFT JOIN proposals pr ON pr.push_id = p.id "
      "WHERE e.contact_person_id = :person AND p.status IN ('interested', 'shortlisted', 'talking', 'chosen', "
      "'not_chosen') ORDER BY p.id");
  s.bind(":person", person);
  std::vector<Candidate> out;
  while (s.executeStep()) {
    Candidate k;
    k.push = s.getColumn(0).getInt64();
    k.need = s.getColumn(1).getInt64();
    k.need_title = s.getColumn(2).getString();
    k.need_stage = s.getColumn(3).getString();
    k.researcher = s.getColumn(4).getInt64();
    std::string about = s.getColumn(6).getString();
    const std::string title = s.getColumn(7).getString();
    if (!title.empty()) about += (about.empty() ? "" : "·") + title;
    k.name = s.getColumn(5).getString() + (about.empty() ? "" : "（" + about + "）");
    k.status = s.getColumn(8).getString();
    k.talk = s.getColumn(9).getString();
    k.proposal = s.getColumn(10).getString();
    k.enterprise = s.getColumn(11).getString();
    out.push_back(std::move(k));
  }
  s.reset();
  return out;
}

struct Talk {
  std::int64_t push = 0;
  std::int64_t need = 0;
  std::string need_title;
  std::string status;
  int exchange = 0;
  std::int64_t enterprise_person = 0;
  std::string enterprise_name;
  std::int64_t researcher = 0;
  std::string researcher_name;
  std::string contact_name;  // the enterprise's contact person
};

constexpr const char* kTalkColumns =
    "SELECT p.id, n.id, n.title, p.status, p.exchange, e.contact_person_id, e.name, p.researcher_person_id, "
    "COALESCE(pe.display_name, '') || COALESCE('（' || u.name || '）', ''), COALESCE(ep.display_name, '') "
    "FROM pushes p JOIN needs n ON n.id = p.need_id JOIN enterprises e ON e.id = n.enterprise_id "
    "JOIN people pe ON pe.id = p.researcher_person_id LEFT JOIN researchers r ON r.person_id = p.researcher_person_id "
    "LEFT JOIN units u ON u.id = r.unit_id LEFT JOIN people ep ON ep.id = e.contact_person_id ";

std::optional<Talk> ReadTalk(SQLite::Statement& s) {
  std::optional<Talk> out;
  if (s.executeStep()) {
    out = Talk{s.getColumn(0).getInt64(),  s.getColumn(1).getInt64(), s.getColumn(2).getString(),
               s.getColumn(3).getString(), s.getColumn(4).getInt(),   s.getColumn(5).getInt64(),
               s.getColumn(6).getString(), s.getColumn(7).getInt64(), s.getColumn(8).getString(),
               s.getColumn(9).getString()};
  }
  s.reset();
  return out;
}

// The open talk `person` is a side of that was active last: where their free text goes.
std::optional<Talk> CurrentTalk(store::Connection& c, std::int64_t person) {
  auto& s = c.Prepare(std::string(kTalkColumns) +
                      "WHERE p.talk = 'open' AND (p.researcher_person_id = :person OR e.contact_person_id = :person) "
                      "ORDER BY p.talk_at DESC, p.id DESC LIMIT 1");
  s.bind(":person", person);
  return ReadTalk(s);
}

// One talk command or relayed message: who speaks, where, when, and what it produced.
struct TalkContext {
  TalkContext(store::Connection& conn, const Catalogue& cat, std::int64_t who, const std::string& lang,
              const std::string& via, Clock::TimePoint at)
      : c(conn), catalogue(cat), person(who), locale(lang), channel(via), now(ToUnixMillis(at)) {}

  std::string Say(std::string_view key, const json& params = json::object()) const {
    return catalogue.Text(locale, key, params);
  }

  // A message to another person, in their language, on the channel they last used (the other
  // identities as fallback); nothing when they cannot be reached.
  void Tell(std::int64_t to, const std::string& key_suffix, std::string_view kind, std::string_view text_key,
            const json& params, const std::optional<std::string>& title_key = std::nullopt) {
    const auto reach = ReachPerson(c, to);
    if (!reach) return;
    const std::string their_locale = LocaleOf(to);
    OutboundMessage msg = TextMessage(catalogue.Text(their_locale, text_key, params));
    if (title_key) msg.title = catalogue.Text(their_locale, *title_key, params);
    store::NewOutboxMessage m;
    m.idempotency_key = "talk:" + key_suffix;
    m.channel = reach->channel;
    m.recipient = reach->recipient;
    m.kind = std::string(kind);
    m.payload = json(msg).dump();
    m.person_id = to;
    m.priority = 10;
    for (const auto& [ch, address] : reach->fallback) m.fallback.push_back({ch, address});
    out.outbox.push_back(std::move(m));
  }

  void PushTransition(std::int64_t push, const std::string& from, const std::string& to) {
    store::RecordTransition(c, {"push", push, from, to, person, DomainChannel(channel), "", now});
  }

  // The need moves on (to shortlisted, to in_talks) only forwards, from the stages listed.
  void AdvanceNeed(std::int64_t need, const std::string& to, std::initializer_list<const char*> from) {
    auto& sel = c.Prepare("SELECT stage FROM needs WHERE id = :id");
    sel.bind(":id", need);
    const std::string stage = sel.executeStep() ? sel.getColumn(0).getString() : "";
    sel.reset();
    if (std::find(from.begin(), from.end(), stage) == from.end()) return;
    auto& upd = c.Prepare("UPDATE needs SET stage = :to, updated_at = :now WHERE id = :id");
    upd.bind(":to", to);
    upd.bind(":now", now);
    upd.bind(":id", need);
    upd.exec();
    store::RecordTransition(c, {"need", need, stage, to, person, DomainChannel(channel), "", now});
  }

  void SetPush(std::int64_t push, const std::string& status, const std::optional<std::string>& talk) {
    auto& upd = c.Prepare(
        "UPDATE pushes SET status = :status, talk = COALESCE(:talk, talk), talk_at = CASE WHEN :talk = 'open' "
        "THEN :now ELSE talk_at END, updated_at = :now WHERE id = :id");
    upd.bind(":status", status);
    if (talk) {
      upd.bind(":talk", *talk);
    } else {
      upd.bind(":talk");
    }
    upd.bind(":now", now);
    upd.bind(":id", push);
    upd.exec();
  }

  std::string LocaleOf(std::int64_t who) { return store::PersonLocale(c, who, Catalogue::kDefaultLocale); }

  // A person's name and the verified mobile and email they can be reached at, for the other side.
  std::string ContactOf(std::int64_t who, const std::string& name) {
    auto& s = c.Prepare(
        "SELECT kind, address FROM identities WHERE person_id = :id AND status = 'verified' AND kind IN ('mobile', "
        "'email') ORDER BY kind DESC, id");
    s.bind(":id", who);
    std::string details;
    while (s.executeStep()) details += (details.empty() ? "" : "，") + s.getColumn(1).getString();
    s.reset();
    return Say("talk.contact", {{"name", name}, {"details", details.empty() ? Say("talk.contact_none") : details}});
  }

  store::Connection& c;
  const Catalogue& catalogue;
  std::int64_t person;
  const std::string& locale;
  const std::string& channel;
  std::int64_t now;
  TalkTurn out;
};

std::string StatusName(const TalkContext& t, const std::string& status) { return t.Say("talk.status." + status); }

TalkTurn List(TalkContext& t) {
  const auto all = Candidates(t.c, t.person);
  if (all.empty()) {
    t.out.replies.push_back(t.Say("talk.none"));
    return std::move(t.out);
  }
  std::string list;
  std::int64_t need = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& k = all[i];
    if (k.need != need) {
      need = k.need;
      list += (list.empty() ? "" : "\n") + t.Say("talk.need_header", {{"title", k.need_title}});
    }
    std::string status = StatusName(t, k.status);
    if (k.talk == "open") status += t.Say("talk.talking_now");
    const std::string proposal = k.proposal.empty()
                                     ? t.Say("talk.no_proposal")
                                     : matcher::Excerpt(matcher::CollapseSpaces(k.proposal), kProposalExcerpt);
    list += "\n" + t.Say("talk.item", {{"n", i + 1}, {"name", k.name}, {"status", status}, {"proposal", proposal}});
  }
  t.out.replies.push_back(t.Say("talk.list", {{"list", list}}));
  return std::move(t.out);
}

// The matcher's researchers for each of the enterprise's needs open to matching, with why and
// whether they were asked already.
TalkTurn Recommend(TalkContext& t, const Programme& programme, const ResearcherRecommender& recommend) {
  auto& needs = t.c.Prepare(
      "SELECT n.id, n.title FROM needs n JOIN enterprises e ON e.id = n.enterprise_id WHERE e.contact_person_id = "
      ":person AND n.stage IN ('published', 'matching', 'proposals', 'shortlisted', 'in_talks') ORDER BY n.id");
  needs.bind(":person", t.person);
  std::vector<std::pair<std::int64_t, std::string>> open;
  while (needs.executeStep()) open.emplace_back(needs.getColumn(0).getInt64(), needs.getColumn(1).getString());
  needs.reset();
  if (open.empty()) {
    t.out.replies.push_back(t.Say("talk.recommend_no_need"));
    return std::move(t.out);
  }
  std::string list;
  for (const auto& [id, title] : open) {
    list += (list.empty() ? "" : "\n") + t.Say("talk.need_header", {{"title", title}});
    const auto need = store::LoadNeed(t.c, id);
    const auto found = need && recommend ? recommend(*need, kRecommendations) : std::vector<matcher::Match>{};
    if (found.empty()) list += "\n" + t.Say("talk.recommend_none");
    for (std::size_t i = 0; i < found.size(); ++i) {
      const auto& m = found[i];
      auto& who = t.c.Prepare(
          "SELECT COALESCE(pe.display_name, '') || COALESCE('（' || u.name || '）', ''), (SELECT status FROM pushes "
          "WHERE need_id = :need AND researcher_person_id = :person) FROM people pe LEFT JOIN researchers r ON "
          "r.person_id = pe.id LEFT JOIN units u ON u.id = r.unit_id WHERE pe.id = :person");
      who.bind(":need", id);
      who.bind(":person", m.id);
      std::string name;
      std::string asked;
      if (who.executeStep()) {
        name = who.getColumn(0).getString();
        asked = who.getColumn(1).isNull() ? t.Say("talk.recommend_not_asked")
                                          : t.Say("talk.recommend_asked." + who.getColumn(1).getString());
      }
      who.reset();
      std::string why;
      for (const auto& term : m.terms) why += (why.empty() ? "" : "、") + term;
      if (!m.shared_field.empty()) {
        why += (why.empty() ? "" : "；") +
               t.Say("recommend.field", {{"field", ChoiceName(programme.fields, m.shared_field)}});
      }
      list += "\n" + t.Say("talk.recommend_item", {{"n", i + 1}, {"name", name}, {"why", why}, {"asked", asked}});
    }
  }
  t.out.replies.push_back(t.Say("talk.recommend_list", {{"list", list}}));
  return std::move(t.out);
}

// The candidates the numbers name; an unknown number is said and nothing is done.
std::optional<std::vector<Candidate>> Pick(TalkContext& t, const std::vector<int>& numbers) {
  const auto all = Candidates(t.c, t.person);
  std::vector<Candidate> out;
  for (const int n : numbers) {
    if (n < 1 || static_cast<std::size_t>(n) > all.size()) {
      t.out.replies.push_back(t.Say("talk.bad_number", {{"n", n}}));
      return std::nullopt;
    }
    const auto& k = all[static_cast<std::size_t>(n) - 1];
    if (std::none_of(out.begin(), out.end(), [&k](const Candidate& o) { return o.push == k.push; })) out.push_back(k);
  }
  return out;
}

TalkTurn Shortlist(TalkContext& t, const std::vector<int>& numbers) {
  const auto picked = Pick(t, numbers);
  if (!picked) return std::move(t.out);
  std::string names;
  for (const auto& k : *picked) {
    if (k.status != "interested") {
      t.out.replies.push_back(t.Say("talk.already", {{"name", k.name}, {"status", StatusName(t, k.status)}}));
      continue;
    }
    t.SetPush(k.push, "shortlisted", std::nullopt);
    t.PushTransition(k.push, k.status, "shortlisted");
    t.AdvanceNeed(k.need, "shortlisted", {"published", "matching", "proposals"});
    t.Tell(k.researcher, std::to_string(k.push) + ":shortlisted", "notice", "talk.shortlisted_notice",
           {{"title", k.need_title}});
    names += (names.empty() ? "" : "、") + k.name;
  }
  if (!names.empty()) t.out.replies.push_back(t.Say("talk.shortlisted", {{"names", names}}));
  return std::move(t.out);
}

TalkTurn Open(TalkContext& t, const std::vector<int>& numbers) {
  if (numbers.size() != 1) {
    t.out.replies.push_back(t.Say("talk.one_at_a_time"));
    return std::move(t.out);
  }
  const auto picked = Pick(t, numbers);
  if (!picked) return std::move(t.out);
  const auto& k = picked->front();
  if (k.talk == "open") {
    t.SetPush(k.push, k.status, "open");  // the current talk now
    t.out.replies.push_back(t.Say("talk.switched", {{"name", k.name}, {"title", k.need_title}}));
    return std::move(t.out);
  }
  const bool moves = k.status == "interested" || k.status == "shortlisted";
  t.SetPush(k.push, moves ? "talking" : k.status, "open");
  if (moves) t.PushTransition(k.push, k.status, "talking");
  t.AdvanceNeed(k.need, "in_talks", {"published", "matching", "proposals", "shortlisted"});
  t.Tell(k.researcher, std::to_string(k.push) + ":open:" + std::to_string(t.now), "relay", "talk.opened_notice",
         {{"enterprise", k.enterprise}, {"title", k.need_title}});
  t.out.replies.push_back(t.Say("talk.opened", {{"name", k.name}, {"title", k.need_title}}));
  return std::move(t.out);
}

TalkTurn Choose(TalkContext& t, const std::vector<int>& numbers) {
  const auto picked = Pick(t, numbers);
  if (!picked) return std::move(t.out);
  for (const auto& k : *picked) {
    if (k.status == "chosen") {
      t.out.replies.push_back(t.Say("talk.already", {{"name", k.name}, {"status", StatusName(t, k.status)}}));
      continue;
    }
    t.SetPush(k.push, "chosen", std::nullopt);
    t.PushTransition(k.push, k.status, "chosen");
    t.AdvanceNeed(k.need, "in_talks", {"published", "matching", "proposals", "shortlisted"});
    t.Tell(k.researcher, std::to_string(k.push) + ":chosen", "notice", "talk.chosen_notice",
           {{"enterprise", k.enterprise}, {"title", k.need_title}});
    t.out.replies.push_back(t.Say("talk.chosen", {{"name", k.name}, {"title", k.need_title}}));
  }
  return std::move(t.out);
}

// Who is on the other side of `talk` from the person speaking, and how each side is named.
struct Sides {
  std::int64_t other = 0;
  std::string me;
  std::string them;
  int my_bit = 0;
  int their_bit = 0;
};
Sides SidesOf(const Talk& talk, std::int64_t person) {
  if (person == talk.enterprise_person) {
    return {talk.researcher, talk.enterprise_name, talk.researcher_name, kEnterpriseAgreed, kResearcherAgreed};
  }
  return {talk.enterprise_person, talk.researcher_name, talk.enterprise_name, kResearcherAgreed, kEnterpriseAgreed};
}

TalkTurn End(TalkContext& t, const Talk& talk) {
  const Sides s = SidesOf(talk, t.person);
  const std::string status = talk.status == "talking" ? "shortlisted" : talk.status;
  t.SetPush(talk.push, status, "ended");
  if (status != talk.status) t.PushTransition(talk.push, talk.status, status);
  t.Tell(s.other, std::to_string(talk.push) + ":ended:" + std::to_string(t.now), "relay", "talk.ended_notice",
         {{"name", s.me}, {"title", talk.need_title}});
  t.out.replies.push_back(t.Say("talk.ended", {{"name", s.them}, {"title", talk.need_title}}));
  return std::move(t.out);
}

void SetExchange(TalkContext& t, std::int64_t push, int exchange) {
  auto& upd = t.c.Prepare("UPDATE pushes SET exchange = :x, updated_at = :now WHERE id = :id");
  upd.bind(":x", exchange);
  upd.bind(":now", t.now);
  upd.bind(":id", push);
  upd.exec();
}

TalkTurn Exchange(TalkContext& t, const Talk& talk) {
  const Sides s = SidesOf(talk, t.person);
  if ((talk.exchange & s.my_bit) != 0) {
    t.out.replies.push_back(
        t.Say((talk.exchange & s.their_bit) != 0 ? "talk.exchanged_already" : "talk.exchange_waiting"));
    return std::move(t.out);
  }
  const int exchange = talk.exchange | s.my_bit;
  SetExchange(t, talk.push, exchange);
  const std::string key = std::to_string(talk.push) + ":exchange:" + std::to_string(exchange);
  if (exchange != (kEnterpriseAgreed | kResearcherAgreed)) {
    t.Tell(s.other, key, "relay", "talk.exchange_asked", {{"name", s.me}, {"title", talk.need_title}});
    t.out.replies.push_back(t.Say("talk.exchange_waiting"));
    return std::move(t.out);
  }
  // Both agreed: each side gets the other's details.
  const auto name_of = [&talk](std::int64_t person) {
    if (person != talk.enterprise_person) return talk.researcher_name;
    return talk.enterprise_name + (talk.contact_name.empty() ? "" : "（" + talk.contact_name + "）");
  };
  t.Tell(s.other, key, "relay", "talk.contacts", {{"contact", t.ContactOf(t.person, name_of(t.person))}});
  t.out.replies.push_back(t.Say("talk.contacts", {{"contact", t.ContactOf(s.other, name_of(s.other))}}));
  return std::move(t.out);
}

TalkTurn Decline(TalkContext& t, const Talk& talk) {
  const Sides s = SidesOf(talk, t.person);
  if ((talk.exchange & s.their_bit) == 0 || (talk.exchange & s.my_bit) != 0) {
    t.out.replies.push_back(t.Say("talk.exchange_none"));
    return std::move(t.out);
  }
  SetExchange(t, talk.push, talk.exchange & ~s.their_bit);
  t.Tell(s.other, std::to_string(talk.push) + ":declined:" + std::to_string(t.now), "relay", "talk.exchange_declined",
         {{"name", s.me}});
  t.out.replies.push_back(t.Say("talk.exchange_declined_ok"));
  return std::move(t.out);
}

// What one side wrote, kept with the need and carried to the other; contact details masked until
// both agreed to exchange them.
TalkTurn Relay(TalkContext& t, const Talk& talk, const std::string& text) {
  const Sides s = SidesOf(talk, t.person);
  auto& ins = t.c.Prepare(
      "INSERT INTO relay_messages (push_id, from_person_id, body, channel, created_at) "
      "VALUES (:push, :from, :body, :channel, :now)");
  ins.bind(":push", talk.push);
  ins.bind(":from", t.person);
  ins.bind(":body", text);
  ins.bind(":channel", DomainChannel(t.channel));
  ins.bind(":now", t.now);
  ins.exec();
  const std::int64_t id = t.c.Db().getLastInsertRowid();
  auto& touch = t.c.Prepare("UPDATE pushes SET talk_at = :now WHERE id = :id");
  touch.bind(":now", t.now);
  touch.bind(":id", talk.push);
  touch.exec();
  const bool exchanged = talk.exchange == (kEnterpriseAgreed | kResearcherAgreed);
  t.Tell(s.other, "relay:" + std::to_string(id), "relay", "talk.relayed",
         {{"from", s.me}, {"text", exchanged ? text : RedactText(text)}, {"title", talk.need_title}},
         std::string("talk.relayed_subject"));
  return std::move(t.out);
}

}  // namespace

std::optional<TalkTurn> HandleTalk(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                                   const ResearcherRecommender& recommend, std::int64_t person,
                                   const std::string& locale, const std::string& text, const std::string& channel,
                                   bool engine_understands, Clock::TimePoint now) {
  const std::string normalized = matcher::NormalizeSpaces(text);
  TalkContext t(c, catalogue, person, locale, channel, now);
  if (const auto command = ParseCommand(normalized)) {
    switch (command->verb) {
      case Verb::kList:
      case Verb::kRecommend:
      case Verb::kShortlist:
      case Verb::kTalk:
      case Verb::kChoose: {
        // The enterprise's commands: to anyone else these are ordinary words.
        auto& s = c.Prepare("SELECT 1 FROM enterprises WHERE contact_person_id = :p LIMIT 1");
        s.bind(":p", person);
        const bool contact = s.executeStep();
        s.reset();
        if (!contact) break;
        if (command->verb == Verb::kList) return List(t);
        if (command->verb == Verb::kRecommend) return Recommend(t, programme, recommend);
        if (command->verb == Verb::kShortlist) return Shortlist(t, command->numbers);
        if (command->verb == Verb::kTalk) return Open(t, command->numbers);
        return Choose(t, command->numbers);
      }
      case Verb::kEnd:
      case Verb::kExchange:
      case Verb::kDecline: {
        const auto talk = CurrentTalk(c, person);
        if (!talk) {
          t.out.replies.push_back(t.Say("talk.no_talk"));
          return std::move(t.out);
        }
        if (command->verb == Verb::kEnd) return End(t, *talk);
        if (command->verb == Verb::kExchange) return Exchange(t, *talk);
        return Decline(t, *talk);
      }
    }
  }
  if (engine_understands || normalized.empty()) return std::nullopt;
  const auto talk = CurrentTalk(c, person);
  if (!talk) return std::nullopt;
  return Relay(t, *talk, text);
}

}  // namespace duijie::dialogs
