#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "dialogs/catalogue.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// How long after their last part a proposal still takes additions (SMS splits long text), and
/// how long after saying "interested" the next message is taken as the proposal.
inline constexpr std::chrono::minutes kProposalJoinWindow{30};
inline constexpr std::chrono::hours kProposalWindow{72};
/// Messages shorter than this are commands or questions, never a proposal.
inline constexpr std::size_t kProposalMinChars = 10;

/// If the person said they are interested in a push within kProposalWindow and `text` is long
/// enough to be a proposal, keeps it as that push's proposal (the first message starts it; more
/// within kProposalJoinWindow of the last part join it) and returns the confirmation to send.
/// nullopt: not a proposal (the conversation takes the text).
[[nodiscard]] std::optional<std::string> TakeProposal(store::Connection& conn, const Catalogue& catalogue,
                                                      std::int64_t person_id, const std::string& locale,
                                                      const std::string& text, const std::string& channel,
                                                      Clock::TimePoint now);

/// Digests for the enterprises: the proposals they have not been told of, one message per need
/// to its contact (on the channel they last used, the others as fallback), once the newest part
/// is `quiet_for` old — a digest, not one message each. Marks them told.
[[nodiscard]] std::vector<store::NewOutboxMessage> ProposalDigests(store::Connection& conn, const Catalogue& catalogue,
                                                                   Clock::TimePoint now,
                                                                   std::chrono::minutes quiet_for);

}  // namespace duijie::dialogs
