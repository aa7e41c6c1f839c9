// Group commit against its peer: the same outbox enqueues from 8 concurrent producers (the shape
// of webhook traffic), once through duijie's single writer (one transaction per batch) and once
// the usual way, each producer committing its own transaction on its own connection. Both on a
// WAL database with synchronous=FULL on this machine's disk, in the same run. Prints both rates
// and the ratio.
//
// Also BM_OutboxClaimAndFinish, the writer's cost per message through the outbox (no peer:
// a breakdown for bench/sms_dispatch.sh).
//
//   build-release/bench/store_bench [--benchmark_min_time=2]
#include <atomic>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include <SQLiteCpp/Transaction.h>
#include <benchmark/benchmark.h>

#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"
#include "store/writer.hpp"

namespace {

using duijie::store::Connection;
using duijie::store::NewOutboxMessage;
using duijie::store::OutboxRepository;

constexpr int kProducers = 8;
constexpr int kPerProducer = 64;

std::string FreshDb(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("duijie-bench-" + name + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  Connection c(path.string(), {});
  if (!duijie::store::Migrate(c)) throw std::runtime_error("migrate failed");
  return path.string();
}

NewOutboxMessage Message(std::int64_t n) {
  return NewOutboxMessage{"bench-" + std::to_string(n),
                          "sms",
                          "+8613800000000",
                          "reminder",
                          R"({"kind":"text","text":"合同签订截止提醒"})",
                          std::nullopt,
                          std::nullopt,
                          0,
                          8,
                          0,
                          {},
                          std::nullopt};
}

void BM_GroupCommitWriter(benchmark::State& state) {
  const auto path = FreshDb("writer");
  duijie::store::Writer writer(path, {});
  std::atomic<std::int64_t> next{0};
  for (auto _ : state) {
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&] {
        for (int i = 0; i < kPerProducer; ++i) {
          const auto msg = Message(next++);
          writer.RunSync([&msg](Connection& c) { return OutboxRepository::Enqueue(c, msg, 1).id; });
        }
      });
    }
    for (auto& t : producers) t.join();
  }
  state.SetItemsProcessed(state.iterations() * kProducers * kPerProducer);
}

void BM_TransactionPerWrite(benchmark::State& state) {
  const auto path = FreshDb("peer");
  std::vector<std::unique_ptr<Connection>> conns;
  for (int p = 0; p < kProducers; ++p)
    conns.push_back(std::make_unique<Connection>(path, duijie::store::ConnectionOptions{}));
  std::atomic<std::int64_t> next{0};
  for (auto _ : state) {
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kPerProducer; ++i) {
          SQLite::Transaction tx(conns[static_cast<std::size_t>(p)]->Db(), SQLite::TransactionBehavior::IMMEDIATE);
          OutboxRepository::Enqueue(*conns[static_cast<std::size_t>(p)], Message(next++), 1);
          tx.commit();
        }
      });
    }
    for (auto& t : producers) t.join();
  }
  state.SetItemsProcessed(state.iterations() * kProducers * kPerProducer);
}

// A breakdown for the SMS dispatch benchmark (bench/sms_dispatch.sh, which has the peer): the
// writer's own cost of one message through the outbox without any provider — claims of 16 due
// messages in one transaction, their outcomes in the next, as the dispatcher does under load.
void BM_OutboxClaimAndFinish(benchmark::State& state) {
  const auto path = FreshDb("cycle");
  Connection c(path, {});
  constexpr int kQueued = 20'000;
  constexpr int kClaim = 16;
  std::int64_t made = 0;
  const auto fill = [&] {
    SQLite::Transaction tx(c.Db(), SQLite::TransactionBehavior::IMMEDIATE);
    for (int i = 0; i < kQueued; ++i) {
      auto m = Message(made++);
      m.recipient = "+86139" + std::to_string(10'000'000 + made);
      OutboxRepository::Enqueue(c, m, 1);
    }
    tx.commit();
  };
  fill();
  std::int64_t now = 2;
  for (auto _ : state) {
    std::vector<duijie::store::OutboxMessage> batch;
    {
      SQLite::Transaction tx(c.Db(), SQLite::TransactionBehavior::IMMEDIATE);
      batch = OutboxRepository::ClaimDue(c, "bench", "sms", now, kClaim);
      (void)OutboxRepository::NextDue(c);
      c.ResetStatements();
      tx.commit();
    }
    {
      SQLite::Transaction tx(c.Db(), SQLite::TransactionBehavior::IMMEDIATE);
      for (const auto& m : batch) {
        const duijie::store::AttemptRecord sent{duijie::store::AttemptOutcome::kSent, "tencent",
                                                "ref-" + std::to_string(m.id), ""};
        OutboxRepository::Finish(c, m.id, m.attempts, sent, now, now);
      }
      c.ResetStatements();
      tx.commit();
    }
    ++now;
    if (static_cast<int>(batch.size()) < kClaim) {
      state.PauseTiming();
      fill();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * kClaim);
}
BENCHMARK(BM_OutboxClaimAndFinish)->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_GroupCommitWriter)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TransactionPerWrite)->UseRealTime()->Unit(benchmark::kMillisecond);

// Prints the usual table, then the ratio of the two rates.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      const auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates_[run.benchmark_name()] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const double ours = rates_["BM_GroupCommitWriter/real_time"];
    const double peer = rates_["BM_TransactionPerWrite/real_time"];
    if (ours > 0 && peer > 0) {
      std::printf(
          "\ngroup-commit writer: %.0f enqueues/s; transaction per write (peer): %.0f enqueues/s; ratio %.1fx\n", ours,
          peer, ours / peer);
    }
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
