#pragma once
#include <cstdint>

#include "store/connection.hpp"

namespace duijie::store {

/// What one ScrubOldMessages call changed.
struct Scrubbed {
  std::int64_t inbox = 0;    // inbound messages whose body and sender were dropped
  std::int64_t outbox = 0;   // outbound messages whose body was dropped and address masked
  std::int64_t sandbox = 0;  // sandbox records deleted
  bool more = false;         // the limit was reached: call again

  [[nodiscard]] std::int64_t Total() const { return inbox + outbox + sandbox; }
  Scrubbed& operator+=(const Scrubbed& other) {
    inbox += other.inbox;
    outbox += other.outbox;
    sandbox += other.sandbox;
    more = other.more;
    return *this;
  }
};

/// Message retention (docs/SECURITY.md): drops the bodies of messages finished before
/// `before_ms`, at most `limit` rows of each table per call so that one call stays a short
/// write transaction. Inbound: the payload, the stored reply and the sender go (the row and its
/// provider key stay, so a late redelivery is still known as one). Outbound in a final state
/// (sent, delivered, failed, dead, cancelled, sandbox): the payload and the fallback addresses go
/// and the recipient is masked (the row, its person and status stay for reports). Sandbox records
/// are deleted. Nothing in flight or waiting is touched, and nothing else (needs, contracts,
/// documents, relayed talks, transitions: records the programme keeps).
[[nodiscard]] Scrubbed ScrubOldMessages(Connection& conn, std::int64_t before_ms, int limit);

}  // namespace duijie::store
