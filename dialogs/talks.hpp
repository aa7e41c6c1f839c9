#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/conversations.hpp"
#include "dialogs/programme.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// What a talk command or a relayed message produced: the answer to the person (may be empty: a
/// relayed message needs none) and the messages for the other side.
struct TalkTurn {
  std::vector<std::string> replies;
  std::vector<store::NewOutboxMessage> outbox;
};

/// The enterprise's side of its matches and the detail talks between the two sides (issue 7,
/// Hubei 三（二）, Jilin 五): outside a form, on any channel.
///
/// An enterprise contact says 人选 (or 查看方案) for the researchers who answered their needs —
/// numbered in a stable order (the order they answered), with their unit, title and proposal —
/// then 初选 1、3 (shortlist: 优中选优), 洽谈 2 (open a talk through the platform) or 选定 2 (the
/// researcher to contract with). Each step is a transition of the push (and of the need: to
/// shortlisted, then in_talks), and the researcher is told.
///
/// In a talk, whatever either side writes that is not a command the engine knows is relayed to
/// the other on the channel they last used (WeCom ↔ SMS ↔ email), kept with the need
/// (`relay_messages`), with phone numbers and addresses masked until both said 交换联系方式;
/// then each gets the other's contact details. 不交换 declines a request; 结束洽谈 ends the
/// talk on both sides. With several talks open, free text goes to the one last active; 洽谈 N
/// makes talk N the current one.
///
/// 推荐人选 lists, for each of the enterprise's needs open to matching, the researchers the matcher
/// recommends with why (the phrases found, the shared field), and who of them was already asked
/// and how they answered — the pool beyond those who answered, for staff to invite.
///
/// `engine_understands`: the engine answers this text (帮助, 菜单, 我的需求 …), so it is not
/// relayed. nullopt: neither a talk command nor a relayed message; the conversation takes it.
[[nodiscard]] std::optional<TalkTurn> HandleTalk(store::Connection& c, const Programme& programme,
                                                 const Catalogue& catalogue, const ResearcherRecommender& recommend,
                                                 std::int64_t person, const std::string& locale,
                                                 const std::string& text, const std::string& channel,
                                                 bool engine_understands, Clock::TimePoint now);

}  // namespace duijie::dialogs
