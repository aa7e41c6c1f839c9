#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/asio.hpp"
#include "store/connection.hpp"

namespace duijie::store {

/// The single writer (DESIGN.md §3): every write transaction of the process goes through one
/// connection on one thread. Jobs queued while a commit is in progress are committed together in
/// the next transaction (group commit), so ingest is not limited to one fsync per message.
///
/// Completions are posted to the caller's executor, so the io_context a coroutine runs on must
/// outlive the writer's jobs: Stop() the writer before destroying the contexts that await it.
///
/// Each job runs inside a SAVEPOINT: a job that throws is rolled back alone and gets its
/// exception; the others in the batch still commit. A job's completion fires only after the
/// batch's COMMIT returned, so "done" always means "durable". Jobs must not BEGIN/COMMIT
/// themselves.
class Writer {
 public:
  using Work = std::function<void(Connection&)>;
  using Done = std::function<void(std::exception_ptr)>;

  struct Stats {
    std::uint64_t batches = 0;
    std::uint64_t jobs = 0;
  };

  /// Opens the write connection (throws SQLite::Exception when it cannot) and starts the thread.
  Writer(const std::string& path, const ConnectionOptions& options, std::size_t max_batch = 1024);
  ~Writer();

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Queues a job; thread-safe. After Stop() the job is refused at once: `done` gets an error.
  void Submit(Work work, Done done);

  /// Runs `fn(Connection&)` in the next batch and resumes the caller, on its own executor, with
  /// fn's result once the batch is committed. Exceptions from fn or the commit are rethrown.
  ///
  /// Pass `fn` as a named variable from coroutines: GCC 12 destroys lambda temporaries inside a
  /// co_await expression twice (GCC PR 105287 family), so Run takes it by reference and copies.
  template <class Fn>
  auto Run(const Fn& fn) -> net::awaitable<std::invoke_result_t<const Fn&, Connection&>>;

  /// Blocking variant for start-up, the CLI and tests. Never call it from an I/O thread.
  template <class Fn>
  auto RunSync(Fn fn) -> std::invoke_result_t<Fn&, Connection&>;

  /// Commits everything queued so far, then stops the thread. Idempotent.
  void Stop();

  [[nodiscard]] Stats GetStats() const;
  [[nodiscard]] std::size_t QueueDepth() const;

 private:
  struct Job {
    Work work;
    Done done;
  };

  void Loop();
  void RunBatch(std::vector<Job>& batch);

  Connection conn_;
  std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

template <class Fn>
auto Writer::Run(const Fn& fn) -> net::awaitable<std::invoke_result_t<const Fn&, Connection&>> {
  using R = std::invoke_result_t<const Fn&, Connection&>;
  auto shared_fn = std::make_shared<Fn>(fn);
  if constexpr (std::is_void_v<R>) {
    return net::async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr)>(
        [this, shared_fn](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          Submit([shared_fn](Connection& c) { (*shared_fn)(c); },
                 [h](std::exception_ptr e) mutable {
                   auto ex = net::get_associated_executor(*h);
                   net::post(ex, [h = std::move(h), e]() mutable { std::move (*h)(e); });
                 });
        },
        net::use_awaitable);
  } else {
    return net::async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr, R)>(
        [this, shared_fn](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto slot = std::make_shared<std::optional<R>>();
          Submit([shared_fn, slot](Connection& c) { slot->emplace((*shared_fn)(c)); },
                 [h, slot](const std::exception_ptr& e) mutable {
                   auto ex = net::get_associated_executor(*h);
                   net::post(ex, [h = std::move(h), slot, e]() mutable {
                     if (e || !slot->has_value()) {
                       std::move (*h)(e ? e : std::make_exception_ptr(std::logic_error("writer job gave no result")),
                                      R{});
                     } else {
                       std::move (*h)(nullptr, std::move(**slot));
                     }
                   });
                 });
        },
        net::use_awaitable);
  }
}

template <class Fn>
auto Writer::RunSync(Fn fn) -> std::invoke_result_t<Fn&, Connection&> {
  using R = std::invoke_result_t<Fn&, Connection&>;
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  if constexpr (std::is_void_v<R>) {
    Submit([f = std::make_shared<Fn>(std::move(fn))](Connection& c) { (*f)(c); },
           [promise](const std::exception_ptr& e) {
             if (e) {
               promise->set_exception(e);
             } else {
               promise->set_value();
             }
           });
  } else {
    auto slot = std::make_shared<std::optional<R>>();
    Submit([f = std::make_shared<Fn>(std::move(fn)), slot](Connection& c) { slot->emplace((*f)(c)); },
           [promise, slot](const std::exception_ptr& e) {
             if (e) {
               promise->set_exception(e);
             } else {
               promise->set_value(std::move(**slot));
             }
           });
  }
  return future.get();
}

}  // namespace duijie::store
