#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duijie::bot {

/// Process metrics in the Prometheus text format. Request counters and histograms are lock-free
/// (routes are known when the router is built); the rarer dispatcher counters take a mutex.
class Metrics {
 public:
  struct RouteLabel {
    std::string method;
    std::string path;
  };

  Metrics() { SetRoutes({}); }
  /// `routes` are the router's routes in order; index routes.size() counts unmatched requests.
  /// Call once, before any request is observed.
  void SetRoutes(std::vector<RouteLabel> routes);

  void ObserveRequest(std::size_t route, int status, double seconds);
  void CountAttempt(std::string_view channel, std::string_view outcome);
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t ActiveConnections() const { return connections_.load(std::memory_order_relaxed); }
  void ConnectionRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }

  /// Values read at scrape time from the store and the writer.
  struct Snapshot {
    std::map<std::string, std::int64_t> inbox_by_status;
    std::map<std::string, std::int64_t> outbox_by_status;
    std::uint64_t writer_batches = 0;
    std::uint64_t writer_jobs = 0;
    std::size_t writer_queue = 0;
    std::uint64_t conversation_states_refused = 0;
  };
  [[nodiscard]] std::string Render(const Snapshot& snapshot) const;

  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1,     2.5,  5,     10};

 private:
  struct RouteStats {
    std::array<std::atomic<std::uint64_t>, 600> by_status{};
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_ns{0};
    std::atomic<std::uint64_t> count{0};
  };

  std::vector<RouteLabel> labels_;
  std::vector<std::unique_ptr<RouteStats>> stats_;
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::uint64_t> refused_{0};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> attempts_;
};

}  // namespace duijie::bot
