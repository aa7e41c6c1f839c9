#include "bot/handlers/health_handler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "bot/http/responses.hpp"
#include "store/inbox_repository.hpp"
#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::bot {
void AddHealthRoutes(Router& router, const HealthDeps& deps) {
  router.Add(http::verb::get, "/healthz", [](const HttpRequest&) -> net::awaitable<HttpResponse> {
    co_return JsonResponse(http::status::ok, {{"status", "ok"}});
  });

  // Ready means: the writer commits (a write transaction goes through the same queue as every
  // other write) and the schema is the one this binary expects.
  router.Add(http::verb::get, "/readyz", [deps](const HttpRequest&) -> net::awaitable<HttpResponse> {
    // The probe must answer even when the writer is stuck, so the job is not awaited directly:
    // its completion cancels a timer that otherwise ends the wait at the deadline.
    struct Probe {
      explicit Probe(const net::any_io_executor& ex) : timer(ex) {}
      net::steady_timer timer;
      bool done = false;
      int version = 0;
      std::string error;
    };
    auto ex = co_await net::this_coro::executor;
    auto probe = std::make_shared<Probe>(ex);
    probe->timer.expires_after(deps.ready_timeout);
    deps.writer.Submit([probe](store::Connection& c) { probe->version = store::SchemaVersion(c); },
                       [probe, ex](const std::exception_ptr& e) {
                         net::post(ex, [probe, e] {
                           probe->done = true;
                           if (e) {
                             try {
                               std::rethrow_exception(e);
                             } catch (const std::exception& err) {
                               probe->error = err.what();
                             }
                           }
                           probe->timer.cancel();
                         });
                       });
    co_await probe->timer.async_wait(net::as_tuple(net::use_awaitable));
    if (!probe->done) {
      co_return JsonError(http::status::service_unavailable, "store_timeout",
                          "database did not commit within " + std::to_string(deps.ready_timeout.count()) + " ms");
    }
    if (!probe->error.empty()) {
      co_return JsonError(http::status::service_unavailable, "store_unavailable",
                          "database not writable: " + probe->error);
    }
    if (probe->version != store::LatestSchemaVersion()) {
      co_return JsonError(http::status::service_unavailable, "schema_mismatch",
                          "schema version " + std::to_string(probe->version) + ", expected " +
                              std::to_string(store::LatestSchemaVersion()) + "; run duijie migrate");
    }
    co_return JsonResponse(http::status::ok, {{"status", "ready"}, {"schema_version", probe->version}});
  });

  router.Add(http::verb::get, "/metrics", [deps](const HttpRequest&) -> net::awaitable<HttpResponse> {
    const auto count = [](store::Connection& c) {
      Metrics::Snapshot s;
      s.inbox_by_status = store::InboxRepository::CountByStatus(c);
      s.outbox_by_status = store::OutboxRepository::CountByStatus(c);
      return s;
    };
    Metrics::Snapshot snap = co_await deps.readers.Run(count);
    const auto stats = deps.writer.GetStats();
    snap.writer_batches = stats.batches;
    snap.writer_jobs = stats.jobs;
    snap.writer_queue = deps.writer.QueueDepth();
    if (deps.conversations != nullptr) snap.conversation_states_refused = deps.conversations->OversizedStatesRefused();
    co_return TextResponse(http::status::ok, deps.metrics.Render(snap), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace duijie::bot
