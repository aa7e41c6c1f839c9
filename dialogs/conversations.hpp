#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dialogs/engine.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// What processing one inbound event produced, inside the caller's transaction.
struct Processed {
  std::int64_t person_id = 0;
  std::vector<std::string> replies;
  std::string locale;
};

/// The identity kind behind a channel address: wecom → wecom_userid, wecom_kf → wecom_external,
/// sms → mobile, email → email.
[[nodiscard]] std::string IdentityKind(std::string_view channel);
/// The other way round: the channel that reaches an identity of this kind.
[[nodiscard]] std::string ChannelOfIdentity(std::string_view identity_kind);

/// Runs the conversation of the person behind an inbound event, in the transaction the caller
/// holds (the one that also writes the inbox row and the outbox rows): finds the person by the
/// identity (a new address starts a new person in onboarding), loads the conversation, runs the
/// engine, applies its effects (an enterprise, a researcher, a need — each with its transition
/// record) and saves the conversation. Only reads and writes through `conn`.
class Conversations {
 public:
  Conversations(const Engine& engine, const Programme& programme, const Catalogue& catalogue)
      : engine_(engine), programme_(programme), catalogue_(catalogue) {}

  Processed Process(store::Connection& conn, const InboundEvent& event, Clock::TimePoint now) const;

 private:
  const Engine& engine_;
  const Programme& programme_;
  const Catalogue& catalogue_;
};

/// The civil date in China (UTC+8, no DST) at `t`: what "today" means to the people writing.
[[nodiscard]] Date ChinaDate(Clock::TimePoint t);

}  // namespace duijie::dialogs
