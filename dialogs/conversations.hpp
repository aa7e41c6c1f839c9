#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dialogs/engine.hpp"
#include "matcher/matcher.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// What processing one inbound event produced, inside the caller's transaction.
struct Processed {
  std::int64_t person_id = 0;
  std::vector<std::string> replies;
  std::string locale;
  /// Messages for elsewhere than the answer (a verification code by SMS): the caller queues
  /// them with the answer.
  std::vector<store::NewOutboxMessage> outbox;
  /// Messages the turn queued itself (a reviewer's decision tells the enterprise and the next
  /// reviewers): the caller wakes the dispatcher for them too.
  bool queued_elsewhere = false;
};

/// The channel as the domain tables (transitions, relayed messages) record it: 微信客服 is WeCom
/// to them.
[[nodiscard]] std::string DomainChannel(std::string_view channel);

/// The identity kind behind a channel address: wecom → wecom_userid, wecom_kf → wecom_external,
/// sms → mobile, email → email.
[[nodiscard]] std::string IdentityKind(std::string_view channel);
/// The other way round: the channel that reaches an identity of this kind.
[[nodiscard]] std::string ChannelOfIdentity(std::string_view identity_kind);

/// Published needs for a researcher, best first (the gateway's matcher); empty: none known.
using NeedRecommender =
    std::function<std::vector<matcher::Match>(const matcher::Researcher& researcher, std::size_t limit)>;
/// Researchers for a need, best first (the gateway's matcher); empty: none known.
using ResearcherRecommender = std::function<std::vector<matcher::Match>(const matcher::Need& need, std::size_t limit)>;
/// What the matcher answers in a conversation: 推荐需求 (a researcher) and 推荐人选 (an enterprise).
struct Recommenders {
  NeedRecommender needs;
  ResearcherRecommender researchers;
};

/// Runs the conversation of the person behind an inbound event, in the transaction the caller
/// holds (the one that also writes the inbox row and the outbox rows): finds the person by the
/// identity (a new address starts a new person in onboarding), loads the conversation, runs the
/// engine, applies its effects (an enterprise, a researcher, a need — each with its transition
/// record) and saves the conversation. Only reads and writes through `conn`.
class Conversations {
 public:
  static constexpr std::size_t kDefaultMaxStateBytes = 64U << 10U;

  /// `random` makes verification codes; null: the operating system's generator. A turn whose
  /// state would exceed `max_state_bytes` (serialised) is refused whole: nothing it did is kept,
  /// the person is told, the conversation stays where it was.
  Conversations(const Engine& engine, const Programme& programme, const Catalogue& catalogue,
                Recommenders recommenders = {}, Random* random = nullptr,
                std::size_t max_state_bytes = kDefaultMaxStateBytes);

  Processed Process(store::Connection& conn, const InboundEvent& event, Clock::TimePoint now) const;

  /// Turns refused for their state's size since start (for /metrics).
  [[nodiscard]] std::uint64_t OversizedStatesRefused() const { return oversized_.load(std::memory_order_relaxed); }

 private:
  const Engine& engine_;
  const Programme& programme_;
  const Catalogue& catalogue_;
  Recommenders recommenders_;
  Random* random_;
  std::size_t max_state_bytes_;
  mutable std::atomic<std::uint64_t> oversized_{0};
};

/// The store's row of a programme definition (made on first use): what needs, enterprises and
/// researchers refer to.
[[nodiscard]] std::int64_t ProgrammeRow(store::Connection& c, const Programme& p, std::int64_t now);

/// The civil date in China (UTC+8, no DST) at `t`: what "today" means to the people writing.
[[nodiscard]] Date ChinaDate(Clock::TimePoint t);

}  // namespace duijie::dialogs
