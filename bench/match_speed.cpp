// Matching speed (issue 6) at national scale: a synthetic corpus (bench/match_corpus: 1,000,000
// researchers and 100,000 needs grown from the dev set's vocabulary), duijie's index build time
// and resident memory, and top-20 query latency in both directions; next to SQLite FTS5 (trigram
// tokenizer, BM25) answering the same queries over the same texts in the same run.
//
//   build-release/bench/match_speed [--researchers N] [--needs N] [--queries N]
//                                   [--fts-queries N] [--exact-checks N] [--no-fts] [DIR]
//
// BUDGET, CANDS and NEGLIGIBLE in the environment override the matcher's SearchLimits
// (postings_budget, max_candidates, negligible_share) for tuning; the run reports how much of the
// exact top 20 the bounded search finds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>

#include "match_corpus.hpp"
#include "match_data.hpp"
#include "matcher/analyzer.hpp"
#include "matcher/matcher.hpp"
#include "matcher/utf8.hpp"

namespace {

namespace m = duijie::matcher;
using duijie::bench::PlainText;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kTop = 20;
constexpr const char* kOpenccConfig = "/usr/share/opencc/t2s.json";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Resident set size in MiB from /proc/self/status.
double ResidentMiB(const char* field = "VmRSS:") {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(std::strlen(field))) / 1024.0;
  }
  return 0;
}

struct Latency {
  std::vector<double> ms;
  [[nodiscard]] double Percentile(double p) const {
    if (ms.empty()) return 0;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const auto at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(at, sorted.size() - 1)];
  }
  [[nodiscard]] double Mean() const {
    double total = 0;
    for (const double x : ms) total += x;
    return ms.empty() ? 0 : total / static_cast<double>(ms.size());
  }
};

void Row(const char* what, const Latency& l) {
  std::printf("  %-34s %6zu %9.2f %9.2f %9.2f\n", what, l.ms.size(), l.Percentile(0.5), l.Percentile(0.99), l.Mean());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t researchers = 1'000'000;
  std::size_t needs = 100'000;
  std::size_t queries = 1000;
  std::size_t fts_queries = 50;
  std::size_t exact_checks = 100;
  bool fts = true;
  std::filesystem::path dir = "tests/data/matching-dev";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::size_t {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a number");
      return std::stoul(argv[++i]);
    };
    if (arg == "--researchers") {
      researchers = value();
    } else if (arg == "--needs") {
      needs = value();
    } else if (arg == "--queries") {
      queries = value();
    } else if (arg == "--fts-queries") {
      fts_queries = value();
    } else if (arg == "--exact-checks") {
      exact_checks = value();
    } else if (arg == "--no-fts") {
      fts = false;
    } else if (arg[0] == '-') {
      std::cerr << "usage: match_speed [--researchers N] [--needs N] [--queries N] "
                   "[--fts-queries N] [--exact-checks N] [--no-fts] [DIR]\n";
      return 2;
    } else {
      dir = arg;
    }
  }
  const auto seed_data = duijie::bench::LoadMatchDataset(dir);
  duijie::bench::CorpusGenerator generator(seed_data, 20261122);

  std::vector<m::Researcher> pool;
  pool.reserve(researchers);
  for (std::size_t i = 0; i < researchers; ++i) {
    pool.push_back(generator.Researcher(static_cast<std::int64_t>(i + 1)));
  }
  std::vector<m::Need> published;
  published.reserve(needs);
  for (std::size_t i = 0; i < needs; ++i) {
    published.push_back(generator.Need(static_cast<std::int64_t>(i + 1)));
  }
  // New needs as queries (a need being published), researchers in the pool as queries.
  std::vector<m::Need> need_queries;
  for (std::size_t i = 0; i < queries; ++i) {
    need_queries.push_back(generator.Need(static_cast<std::int64_t>(needs + i + 1)));
  }
  std::vector<const m::Researcher*> researcher_queries;
  for (std::size_t i = 0; i < queries && !pool.empty(); ++i) {
    researcher_queries.push_back(&pool[(i * 7919) % pool.size()]);
  }
  std::printf("corpus: %zu researchers, %zu needs, %zu queries each way (synthetic, seed 20261122)\n", pool.size(),
              published.size(), queries);

  m::AnalyzerOptions analyzer;
  if (std::filesystem::exists(kOpenccConfig)) {
    analyzer.to_simplified = m::MakeOpenccConverter(kOpenccConfig);
  }
  const double rss_before = ResidentMiB();
  const auto build_start = Clock::now();
  m::Matcher matcher(m::Analyzer(std::move(analyzer)));
  for (const auto& r : pool) matcher.Upsert(r);
  for (const auto& n : published) matcher.Upsert(n);
  const double build_s = Seconds(Clock::now() - build_start);
  const double rss_after = ResidentMiB();

  {
    // Tuning knobs: the work bounds of SearchLimits from the environment.
    m::SearchLimits l = matcher.Options().limits;
    if (const char* share = std::getenv("NEGLIGIBLE")) l.negligible_share = std::stof(share);
    if (const char* budget = std::getenv("BUDGET")) l.postings_budget = std::stoul(budget);
    if (const char* cands = std::getenv("CANDS")) l.max_candidates = std::stoul(cands);
    matcher.SetSearchLimits(l);
  }
  Latency n2r;
  Latency r2n;
  for (const auto& need : need_queries) {
    const auto t = Clock::now();
    const auto matches = matcher.ResearchersFor(need, kTop);
    n2r.ms.push_back(Millis(Clock::now() - t));
  }
  for (const auto* researcher : researcher_queries) {
    const auto t = Clock::now();
    const auto matches = matcher.NeedsFor(*researcher, kTop);
    r2n.ms.push_back(Millis(Clock::now() - t));
  }
  // How much the work bounds cost: the first queries answered again exactly, and the share of
  // the exact top 20 the bounded search found.
  const std::size_t checked = std::min(exact_checks, need_queries.size());
  const m::SearchLimits bounded = matcher.Options().limits;
  matcher.SetSearchLimits({});
  double overlap_n2r = 0;
  for (std::size_t i = 0; i < checked; ++i) {
    const auto exact = matcher.ResearchersFor(need_queries[i], kTop);
    matcher.SetSearchLimits(bounded);
    const auto approx = matcher.ResearchersFor(need_queries[i], kTop);
    matcher.SetSearchLimits({});
    std::set<std::int64_t> ids;
    for (const auto& x : exact) ids.insert(x.id);
    std::size_t found = 0;
    for (const auto& x : approx) found += ids.count(x.id);
    overlap_n2r += exact.empty() ? 1.0 : static_cast<double>(found) / static_cast<double>(exact.size());
  }
  matcher.SetSearchLimits(bounded);
  std::printf("\nduijie\n  build: %.1f s; resident memory: %.0f MiB (index estimate %.0f MiB)\n", build_s,
              rss_after - rss_before, static_cast<double>(matcher.MemoryBytes()) / (1024.0 * 1024.0));
  std::printf("  %-34s %6s %9s %9s %9s\n", "top-20 latency (ms)", "n", "p50", "p99", "mean");
  Row("need -> researchers", n2r);
  Row("researcher -> needs", r2n);
  std::printf("  bounded search found %.1f%% of the exact top 20 (need -> researchers, %zu queries)\n",
              100.0 * overlap_n2r / static_cast<double>(std::max<std::size_t>(checked, 1)), checked);
  if (!fts) return 0;

  // FTS5 on a temporary file (an in-memory database of this size would not fit next to ours).
  const auto db_path = std::filesystem::temp_directory_path() / "duijie-match-speed-fts5.db";
  std::filesystem::remove(db_path);
  Latency fts_n2r;
  Latency fts_r2n;
  Latency same_n2r;
  Latency same_r2n;
  double fts_build_s = 0;
  {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF");
    const auto fts_start = Clock::now();
    db.exec("CREATE VIRTUAL TABLE researchers USING fts5(body, tokenize = 'trigram')");
    db.exec("CREATE VIRTUAL TABLE needs USING fts5(body, tokenize = 'trigram')");
    {
      SQLite::Transaction txn(db);
      SQLite::Statement insert(db, "INSERT INTO researchers(rowid, body) VALUES (?, ?)");
      for (const auto& r : pool) {
        insert.bind(1, r.id);
        insert.bind(2, PlainText(r));
        insert.exec();
        insert.reset();
      }
      SQLite::Statement insert_need(db, "INSERT INTO needs(rowid, body) VALUES (?, ?)");
      for (const auto& n : published) {
        insert_need.bind(1, n.id);
        insert_need.bind(2, PlainText(n));
        insert_need.exec();
        insert_need.reset();
      }
      txn.commit();
    }
    fts_build_s = Seconds(Clock::now() - fts_start);
    SQLite::Statement find_researchers(
        db, "SELECT rowid FROM researchers WHERE researchers MATCH ? ORDER BY bm25(researchers) LIMIT 20");
    SQLite::Statement find_needs(db, "SELECT rowid FROM needs WHERE needs MATCH ? ORDER BY bm25(needs) LIMIT 20");
    for (std::size_t i = 0; i < fts_queries && i < need_queries.size(); ++i) {
      const std::string q = duijie::bench::Fts5TrigramQuery(PlainText(need_queries[i]));
      const auto t = Clock::now();
      find_researchers.bind(1, q);
      while (find_researchers.executeStep()) {
      }
      find_researchers.reset();
      fts_n2r.ms.push_back(Millis(Clock::now() - t));
      same_n2r.ms.push_back(n2r.ms[i]);
    }
    for (std::size_t i = 0; i < fts_queries && i < researcher_queries.size(); ++i) {
      const std::string q = duijie::bench::Fts5TrigramQuery(PlainText(*researcher_queries[i]));
      const auto t = Clock::now();
      find_needs.bind(1, q);
      while (find_needs.executeStep()) {
      }
      find_needs.reset();
      fts_r2n.ms.push_back(Millis(Clock::now() - t));
      same_r2n.ms.push_back(r2n.ms[i]);
    }
  }
  std::filesystem::remove(db_path);
  std::printf("\nSQLite FTS5 (trigram, bm25) on the same texts\n  build: %.1f s\n", fts_build_s);
  std::printf("  %-34s %6s %9s %9s %9s\n", "top-20 latency (ms)", "n", "p50", "p99", "mean");
  Row("need -> researchers", fts_n2r);
  Row("researcher -> needs", fts_r2n);
  std::printf("\nsame queries, duijie\n");
  Row("need -> researchers", same_n2r);
  Row("researcher -> needs", same_r2n);
  std::printf(
      "\nspeed-up (FTS5 mean / duijie mean, same queries): need -> researchers %.1fx, "
      "researcher -> needs %.1fx\n",
      fts_n2r.Mean() / std::max(same_n2r.Mean(), 1e-9), fts_r2n.Mean() / std::max(same_r2n.Mean(), 1e-9));
  return 0;
}
