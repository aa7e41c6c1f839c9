// Matching quality (issue 6): nDCG@10, Recall@20 and MRR in both directions — researchers for
// each need, needs for each researcher — for duijie's matcher and, in the same run over the same
// texts, two baselines: SQLite FTS5 BM25 with the trigram tokenizer, and a character-bigram BM25.
// The same figures on the hard subset: the queries where the bigram baseline's nDCG@10 is below
// 0.8. --ablations adds duijie with one part taken away or added at a time, so each part shows
// what it pays. --per-query lists every query with duijie's and the bigram baseline's nDCG@10 and
// first three answers, where duijie does worst against the baseline first: where to look.
//
//   build-release/bench/match_quality [DIR] [--ablations] [--per-query]
//                                       DIR defaults to tests/data/matching-dev
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "match_data.hpp"
#include "matcher/analyzer.hpp"
#include "matcher/evaluation.hpp"
#include "matcher/index.hpp"
#include "matcher/matcher.hpp"
#include "matcher/utf8.hpp"

namespace {

using duijie::bench::MatchDataset;
using duijie::bench::PlainText;
namespace m = duijie::matcher;

constexpr std::size_t kDepth = 100;
constexpr const char* kOpenccConfig = "/usr/share/opencc/t2s.json";

// A ranked list of ids per query id, in each direction.
struct Rankings {
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> researchers_for_need;
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> needs_for_researcher;
};

Rankings RunMatcher(const MatchDataset& data, m::AnalyzerOptions analyzer_options, const m::MatcherOptions& options) {
  m::Matcher matcher(m::Analyzer(std::move(analyzer_options)), options);
  for (const auto& r : data.researchers) matcher.Upsert(r);
  for (const auto& n : data.needs) matcher.Upsert(n);
  Rankings out;
  for (const auto& n : data.needs) {
    auto& ranked = out.researchers_for_need[n.id];
    for (const auto& match : matcher.ResearchersFor(n, kDepth)) ranked.push_back(match.id);
  }
  for (const auto& r : data.researchers) {
    auto& ranked = out.needs_for_researcher[r.id];
    for (const auto& match : matcher.NeedsFor(r, kDepth)) ranked.push_back(match.id);
  }
  return out;
}

// Plain BM25 over character bigrams (and Latin words) of the whole record, no field weights.
Rankings RunBigram(const MatchDataset& data) {
  const m::Analyzer analyzer(
      m::AnalyzerOptions{.han_unigrams = false, .han_bigrams = true, .stop_unigrams = {}, .to_simplified = {}});
  auto run = [&](const auto& docs, const auto& queries, auto& out) {
    m::Index index(analyzer);
    std::vector<std::int64_t> ids;
    for (const auto& d : docs) {
      const std::string text = PlainText(d);
      const std::array<m::WeightedText, 1> fields{m::WeightedText{text, 1}};
      index.Add(fields);
      ids.push_back(d.id);
    }
    for (const auto& q : queries) {
      const std::string text = PlainText(q);
      const std::array<m::WeightedText, 1> fields{m::WeightedText{text, 1}};
      auto& ranked = out[q.id];
      for (const auto& hit : index.Search(index.MakeQuery(fields), kDepth, {}, 1)) {
        ranked.push_back(ids[hit.doc]);
      }
    }
  };
  Rankings out;
  run(data.researchers, data.needs, out.researchers_for_need);
  run(data.needs, data.researchers, out.needs_for_researcher);
  return out;
}

Rankings RunFts5(const MatchDataset& data) {
  auto run = [&](const auto& docs, const auto& queries, auto& out) {
    SQLite::Database db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize = 'trigram')");
    SQLite::Statement insert(db, "INSERT INTO docs(rowid, body) VALUES (?, ?)");
    SQLite::Transaction txn(db);
    for (const auto& d : docs) {
      insert.bind(1, d.id);
      insert.bind(2, PlainText(d));
      insert.exec();
      insert.reset();
    }
    txn.commit();
    SQLite::Statement search(db, "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?");
    for (const auto& q : queries) {
      auto& ranked = out[q.id];
      const std::string query = duijie::bench::Fts5TrigramQuery(PlainText(q));
      if (query.empty()) continue;
      search.bind(1, query);
      search.bind(2, static_cast<int>(kDepth));
      while (search.executeStep()) ranked.push_back(search.getColumn(0).getInt64());
      search.reset();
    }
  };
  Rankings out;
  run(data.researchers, data.needs, out.researchers_for_need);
  run(data.needs, data.researchers, out.needs_for_researcher);
  return out;
}

using Labels = std::unordered_map<std::int64_t, m::Judgements>;
using Ranked = std::unordered_map<std::int64_t, std::vector<std::int64_t>>;

std::unordered_map<std::int64_t, m::RankingScore> ScoreAll(const Ranked& ranked, const Labels& labels) {
  std::unordered_map<std::int64_t, m::RankingScore> out;
  static const std::vector<std::int64_t> kNone;
  for (const auto& [query, judgements] : labels) {
    const auto it = ranked.find(query);
    out[query] = m::ScoreRanking(it == ranked.end() ? kNone : it->second, judgements);
  }
  return out;
}

m::RankingSummary Summary(const std::unordered_map<std::int64_t, m::RankingScore>& scores,
                          const std::set<std::int64_t>* only) {
  std::vector<m::RankingScore> picked;
  for (const auto& [query, score] : scores) {
    if (only == nullptr || only->contains(query)) picked.push_back(score);
  }
  return m::Summarise(picked);
}

struct System {
  std::string name;
  Rankings rankings;
};

void Report(const char* direction, const std::vector<System>& systems, Ranked Rankings::*member, const Labels& labels) {
  // The hard subset comes from the bigram baseline, the second system.
  const auto bigram = ScoreAll(systems.at(1).rankings.*member, labels);
  std::set<std::int64_t> hard;
  for (const auto& [query, score] : bigram) {
    if (score.ndcg10 < 0.8) hard.insert(query);
  }
  std::printf("\n%s\n", direction);
  std::printf("  %-28s %7s %8s %7s %7s   %5s %8s %7s %7s\n", "system", "queries", "nDCG@10", "R@20", "MRR", "hard",
              "nDCG@10", "R@20", "MRR");
  for (const auto& system : systems) {
    const auto scores = ScoreAll(system.rankings.*member, labels);
    const auto all = Summary(scores, nullptr);
    const auto h = Summary(scores, &hard);
    std::printf("  %-28s %7zu %8.3f %7.3f %7.3f   %5zu %8.3f %7.3f %7.3f\n", system.name.c_str(), all.queries,
                all.ndcg10, all.recall20, all.mrr, h.queries, h.ndcg10, h.recall20, h.mrr);
  }
}

// Each query of one direction: duijie's nDCG@10 against the bigram baseline's, worst first.
void PerQuery(const char* direction, const std::vector<System>& systems, Ranked Rankings::*member,
              const Labels& labels) {
  const Ranked& ours = systems.at(0).rankings.*member;
  const Ranked& bigram = systems.at(1).rankings.*member;
  const auto our_scores = ScoreAll(ours, labels);
  const auto bigram_scores = ScoreAll(bigram, labels);
  std::vector<std::pair<double, std::int64_t>> order;
  order.reserve(our_scores.size());
  for (const auto& [query, score] : our_scores)
    order.emplace_back(score.ndcg10 - bigram_scores.at(query).ndcg10, query);
  std::sort(order.begin(), order.end());
  auto first_three = [](const Ranked& ranked, std::int64_t query) {
    std::string out;
    const auto it = ranked.find(query);
    if (it == ranked.end()) return out;
    for (std::size_t i = 0; i < it->second.size() && i < 3; ++i) {
      out += ' ';
      out += std::to_string(it->second[i]);
    }
    return out;
  };
  std::printf("\n%s, per query (id, nDCG@10 duijie / bigram, first three of each):\n", direction);
  for (const auto& [difference, query] : order) {
    std::printf("  %6lld  %.3f / %.3f  %+.3f  duijie:%s  bigram:%s\n", static_cast<long long>(query),
                our_scores.at(query).ndcg10, bigram_scores.at(query).ndcg10, difference,
                first_three(ours, query).c_str(), first_three(bigram, query).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = "tests/data/matching-dev";
  bool ablations = false;
  bool per_query = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ablations") == 0) {
      ablations = true;
    } else if (std::strcmp(argv[i], "--per-query") == 0) {
      per_query = true;
    } else if (argv[i][0] == '-') {
      std::cerr << "usage: match_quality [DIR] [--ablations] [--per-query]\n";
      return 2;
    } else {
      dir = argv[i];
    }
  }
  try {
    const MatchDataset data = duijie::bench::LoadMatchDataset(dir);
    std::printf("data: %s — %zu needs, %zu researchers\n", dir.c_str(), data.needs.size(), data.researchers.size());
    m::AnalyzerOptions analyzer;
    if (std::filesystem::exists(kOpenccConfig)) {
      analyzer.to_simplified = m::MakeOpenccConverter(kOpenccConfig);
    }
    const m::MatcherOptions options;
    std::vector<System> systems;
    systems.push_back({"duijie", RunMatcher(data, analyzer, options)});
    systems.push_back({"baseline: char-bigram BM25", RunBigram(data)});
    systems.push_back({"baseline: FTS5 trigram", RunFts5(data)});
    if (ablations) {
      auto variant = [&](const std::string& name, auto change) {
        m::AnalyzerOptions a = analyzer;
        m::MatcherOptions o = options;
        change(a, o);
        systems.push_back({name, RunMatcher(data, a, o)});
      };
      if (std::ifstream in("config/matcher/synonyms.json"); in) {
        const auto doc = nlohmann::json::parse(in);
        const auto groups = doc.at("groups").get<std::vector<std::vector<std::string>>>();
        for (float w : {0.15F, 0.3F, 0.6F}) {
          variant("+ synonyms " + std::to_string(w), [&groups, w](auto&, auto& o) {
            o.synonyms = groups;
            o.synonym_weight = w;
          });
        }
      }
      variant("- reciprocal", [](auto&, auto& o) { o.reciprocal_weight = 0; });
      variant("- query k3", [](auto&, auto& o) { o.query_k3 = 0; });
      variant("- field agreement", [](auto&, auto& o) { o.field_boost = 0; });
      variant("- unigrams", [](auto& a, auto&) { a.han_unigrams = false; });
      variant("- OpenCC", [](auto& a, auto&) { a.to_simplified = nullptr; });
      variant("+ keywords x2", [](auto&, auto& o) { o.keyword_weight = 2; });
      variant("+ stop characters", [](auto& a, auto&) {
        a.stop_unigrams = U"的了和与及是在我们有也都就要把被等这那个为对从到以其或而且但让能会将可";
      });
      variant("+ region x1.1", [](auto&, auto& o) { o.region_boost = 0.1F; });
    }
    Report("need -> researchers", systems, &Rankings::researchers_for_need, data.researchers_for_need);
    Report("researcher -> needs", systems, &Rankings::needs_for_researcher, data.needs_for_researcher);
    if (per_query) {
      PerQuery("need -> researchers", systems, &Rankings::researchers_for_need, data.researchers_for_need);
      PerQuery("researcher -> needs", systems, &Rankings::needs_for_researcher, data.needs_for_researcher);
    }
  } catch (const std::exception& e) {
    std::cerr << "match_quality: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
