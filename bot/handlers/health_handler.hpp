#pragma once
#include "bot/http/router.hpp"
#include "bot/metrics.hpp"
#include "dialogs/conversations.hpp"
#include "store/readers.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

/// GET /healthz, GET /readyz and GET /metrics.
struct HealthDeps {
  store::Writer& writer;
  store::Readers& readers;
  Metrics& metrics;
  const dialogs::Conversations* conversations = nullptr;  // its refusals counted in /metrics
  std::chrono::milliseconds ready_timeout{2000};
};

/// Registers the three routes on `router`.
void AddHealthRoutes(Router& router, const HealthDeps& deps);

}  // namespace duijie::bot
