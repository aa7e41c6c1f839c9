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
//   BENCH_DDL='DROP INDEX x; CREATE INDEX x ON ...' build-release/bench/store_bench ...
// BENCH_DDL is run after migrating: a way to weigh an index change before writing its migration.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include <SQLiteCpp/Transaction.h>
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include "broadcast_seed.hpp"
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
  if (const char* ddl = std::getenv("BENCH_DDL")) c.Db().exec(ddl);
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
// writer's own cost of one message through the outbox without any provider. Each round records
// the outcomes of the previous round's claim and claims the next one in the same transaction, as
// the dispatcher does under load. Recipients are spread over the number space, as researchers'
// numbers are, so index pages keyed by recipient are not artificially adjacent.
// Counter pages/msg: database pages the writer wrote per message (SQLITE_DBSTATUS_CACHE_WRITE),
// the cost that drives WAL writes and checkpoints.
void BM_OutboxClaimAndFinish(benchmark::State& state) {
  const auto path = FreshDb("cycle");
  Connection c(path, {});
  constexpr int kQueued = 20'000;
  const int claim = static_cast<int>(state.range(0));
  std::int64_t made = 0;
  const auto fill = [&] {
    SQLite::Transaction tx(c.Db(), SQLite::TransactionBehavior::IMMEDIATE);
    for (int i = 0; i < kQueued; ++i) {
      auto m = Message(made++);
      m.recipient = duijie::bench::BenchMobile(made);
      OutboxRepository::Enqueue(c, m, 1);
    }
    tx.commit();
  };
  fill();
  std::int64_t now = 2;
  std::vector<duijie::store::OutboxMessage> batch;
  int written = 0;
  int high = 0;
  sqlite3_db_status(c.Db().getHandle(), SQLITE_DBSTATUS_CACHE_WRITE, &written, &high, 1);
  std::int64_t pages = 0;
  for (auto _ : state) {
    SQLite::Transaction tx(c.Db(), SQLite::TransactionBehavior::IMMEDIATE);
    for (const auto& m : batch) {
      const duijie::store::AttemptRecord sent{duijie::store::AttemptOutcome::kSent, "tencent",
                                              "ref-" + std::to_string(m.id * 2'654'435'761 % 4'294'967'296), ""};
      OutboxRepository::Finish(c, m.id, m.attempts, sent, now, now);
    }
    batch = OutboxRepository::ClaimDue(c, "bench", "sms", now, claim);
    (void)OutboxRepository::NextDue(c);
    c.ResetStatements();
    tx.commit();
    sqlite3_db_status(c.Db().getHandle(), SQLITE_DBSTATUS_CACHE_WRITE, &written, &high, 1);
    pages += written;
    ++now;
    if (static_cast<int>(batch.size()) < claim) {
      state.PauseTiming();
      fill();
      sqlite3_db_status(c.Db().getHandle(), SQLITE_DBSTATUS_CACHE_WRITE, &written, &high, 1);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * claim);
  state.counters["pages/msg"] = static_cast<double>(pages) / static_cast<double>(state.iterations() * claim);
}
BENCHMARK(BM_OutboxClaimAndFinish)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond);

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
