#include "bot/metrics.hpp"

#include <algorithm>
#include <sstream>

namespace duijie::bot {
namespace {

// Label values are our own route names and statuses, but escape anyway: the format breaks on a
// stray quote or backslash.
std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void Metrics::SetRoutes(std::vector<RouteLabel> routes) {
  labels_ = std::move(routes);
  labels_.push_back({"", "unmatched"});
  stats_.clear();
  for (std::size_t i = 0; i < labels_.size(); ++i) stats_.push_back(std::make_unique<RouteStats>());
}

void Metrics::ObserveRequest(std::size_t route, int status, double seconds) {
  auto& s = *stats_[std::min(route, stats_.size() - 1)];
  s.by_status[static_cast<std::size_t>(std::clamp(status, 0, 599))].fetch_add(1, std::memory_order_relaxed);
  const auto bucket = static_cast<std::size_t>(
      std::upper_bound(kBuckets.begin(), kBuckets.end(), seconds, [](double v, double b) { return v <= b; }) -
      kBuckets.begin());
  s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountAttempt(std::string_view channel, std::string_view outcome) {
  std::lock_guard lock(mu_);
  ++attempts_[{std::string(channel), std::string(outcome)}];
}

std::string Metrics::Render(const Snapshot& snapshot) const {
  std::ostringstream os;
  os << "# HELP duijie_http_requests_total HTTP requests by route and status.\n"
        "# TYPE duijie_http_requests_total counter\n";
  for (std::size_t r = 0; r < labels_.size(); ++r) {
    for (std::size_t st = 0; st < stats_[r]->by_status.size(); ++st) {
      const auto n = stats_[r]->by_status[st].load(std::memory_order_relaxed);
      if (n == 0) continue;
      os << "duijie_http_requests_total{method=\"" << Escape(labels_[r].method) << "\",route=\""
         << Escape(labels_[r].path) << "\",status=\"" << st << "\"} " << n << "\n";
    }
  }
  os << "# HELP duijie_http_request_duration_seconds Time from the first byte read to the response written.\n"
        "# TYPE duijie_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < labels_.size(); ++r) {
    const auto& s = *stats_[r];
    const auto count = s.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string lbl = "method=\"" + Escape(labels_[r].method) + "\",route=\"" + Escape(labels_[r].path) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += s.buckets[b].load(std::memory_order_relaxed);
      os << "duijie_http_request_duration_seconds_bucket{" << lbl << ",le=\"" << kBuckets[b] << "\"} " << cumulative
         << "\n";
    }
    os << "duijie_http_request_duration_seconds_bucket{" << lbl << ",le=\"+Inf\"} " << count << "\n";
    os << "duijie_http_request_duration_seconds_sum{" << lbl << "} "
       << static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9 << "\n";
    os << "duijie_http_request_duration_seconds_count{" << lbl << "} " << count << "\n";
  }
  os << "# HELP duijie_http_connections Open HTTP connections.\n# TYPE duijie_http_connections gauge\n"
     << "duijie_http_connections " << ActiveConnections() << "\n";
  os << "# HELP duijie_http_connections_refused_total Connections answered 503 at http.max_connections.\n"
     << "# TYPE duijie_http_connections_refused_total counter\n"
     << "duijie_http_connections_refused_total " << refused_.load(std::memory_order_relaxed) << "\n";

  os << "# HELP duijie_inbox_messages Inbox rows by status.\n# TYPE duijie_inbox_messages gauge\n";
  for (const auto& [status, n] : snapshot.inbox_by_status) {
    os << "duijie_inbox_messages{status=\"" << Escape(status) << "\"} " << n << "\n";
  }
  os << "# HELP duijie_outbox_messages Outbox rows by status.\n# TYPE duijie_outbox_messages gauge\n";
  for (const auto& [status, n] : snapshot.outbox_by_status) {
    os << "duijie_outbox_messages{status=\"" << Escape(status) << "\"} " << n << "\n";
  }
  os << "# HELP duijie_dispatcher_attempts_total Send attempts by channel and outcome.\n"
        "# TYPE duijie_dispatcher_attempts_total counter\n";
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, n] : attempts_) {
      os << "duijie_dispatcher_attempts_total{channel=\"" << Escape(key.first) << "\",outcome=\"" << Escape(key.second)
         << "\"} " << n << "\n";
    }
  }
  os << "# HELP duijie_store_write_batches_total Write transactions committed (group commit).\n"
        "# TYPE duijie_store_write_batches_total counter\n"
     << "duijie_store_write_batches_total " << snapshot.writer_batches << "\n"
     << "# HELP duijie_store_write_jobs_total Write jobs committed.\n# TYPE duijie_store_write_jobs_total counter\n"
     << "duijie_store_write_jobs_total " << snapshot.writer_jobs << "\n"
     << "# HELP duijie_store_write_queue Write jobs waiting for the writer.\n# TYPE duijie_store_write_queue gauge\n"
     << "duijie_store_write_queue " << snapshot.writer_queue << "\n"
     << "# HELP duijie_conversation_states_refused_total Turns refused because the conversation state would "
        "exceed dialogs.max_state_bytes.\n# TYPE duijie_conversation_states_refused_total counter\n"
     << "duijie_conversation_states_refused_total " << snapshot.conversation_states_refused << "\n";
  return os.str();
}

}  // namespace duijie::bot
