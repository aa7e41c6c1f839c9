#include "matcher/index.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace duijie::matcher {
namespace {

std::vector<QueryTerm> Query(const Index& index, std::string_view text) {
  const std::array<WeightedText, 1> fields{WeightedText{text, 1}};
  return index.MakeQuery(fields);
}

DocId Add(Index& index, std::string_view text, std::uint16_t weight = 1) {
  const std::array<WeightedText, 1> fields{WeightedText{text, weight}};
  return index.Add(fields);
}

// Every document scored the slow way: the oracle MaxScore must agree with.
std::vector<Hit> BruteForce(const Index& index, const std::vector<QueryTerm>& query, std::size_t k,
                            const DocFactor& factor) {
  std::vector<Hit> hits;
  for (DocId d = 0; d < index.DocCount(); ++d) {
    if (!index.IsLive(d)) continue;
    float s = 0;
    for (const QueryTerm& t : query) s += index.TermScore(t, d);
    s *= factor ? factor(d) : 1.0F;
    if (s > 0) hits.push_back({d, s});
  }
  std::sort(hits.begin(), hits.end(),
            [](const Hit& x, const Hit& y) { return x.score != y.score ? x.score > y.score : x.doc < y.doc; });
  if (hits.size() > k) hits.resize(k);
  return hits;
}

// The search's top k must be the brute force's, document by document.
void ExpectSameAsBruteForce(const Index& index, const std::vector<QueryTerm>& query, std::size_t k,
                            const DocFactor& factor, const std::string& label) {
  const auto fast = index.Search(query, k, factor, 1.8F);
  const auto slow = BruteForce(index, query, k, factor);
  ASSERT_EQ(fast.size(), slow.size()) << label;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    EXPECT_EQ(fast[i].doc, slow[i].doc) << label << " rank " << i;
    EXPECT_NEAR(fast[i].score, slow[i].score, 1e-3F * slow[i].score);
  }
}

TEST(Index, ScoresAreBm25) {
  const Analyzer analyzer;
  Index index(analyzer, {.k1 = 1.2F, .b = 0.75F});
  Add(index, "ab cd");
  Add(index, "ab ab ef gh");
  Add(index, "xy");
  const auto query = Query(index, "ab");
  ASSERT_EQ(query.size(), 1U);
  // N = 3, df = 2, avgdl = 7/3; document 1 has tf = 2 and length 4.
  const double idf = std::log(1 + (3 - 2 + 0.5) / (2 + 0.5));
  const double norm = 1.2 * (1 - 0.75 + 0.75 * 4 / (7.0 / 3));
  EXPECT_NEAR(index.TermScore(query[0], 1), idf * 2 * 2.2 / (2 + norm), 1e-5);
  const auto hits = index.Search(query, 10, {}, 1);
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].doc, 1U);
  EXPECT_EQ(hits[1].doc, 0U);
}

TEST(Index, FieldWeightsCountAsTermFrequency) {
  const Analyzer analyzer;
  Index index(analyzer);
  const std::array<WeightedText, 2> a{WeightedText{"ab", 2}, WeightedText{"cd", 1}};
  const std::array<WeightedText, 2> b{WeightedText{"ab ab", 1}, WeightedText{"cd", 1}};
  Add(index, "zz");
  index.Add(a);
  index.Add(b);
  const auto query = Query(index, "ab");
  EXPECT_FLOAT_EQ(index.TermScore(query[0], 1), index.TermScore(query[0], 2));
}

TEST(Index, MaxScoreReturnsExactlyTheBruteForceTopK) {
  // A Zipf-like vocabulary over many documents, so some lists are long and some short, and the
  // factor both boosts and excludes: the pruning must never change the answer.
  const Analyzer analyzer;
  Index index(analyzer);
  std::mt19937 rng(7);
  std::vector<std::string> vocabulary;
  for (int i = 0; i < 400; ++i) vocabulary.push_back("w" + std::to_string(i));
  auto pick = [&] {
    const double u = std::uniform_real_distribution<>(0, 1)(rng);
    return vocabulary[static_cast<std::size_t>(std::pow(u, 3) * vocabulary.size())];
  };
  for (int d = 0; d < 3000; ++d) {
    std::string text;
    const int len = std::uniform_int_distribution<>(3, 40)(rng);
    for (int i = 0; i < len; ++i) text += pick() + " ";
    Add(index, text, static_cast<std::uint16_t>(1 + d % 2));
  }
  for (DocId d = 0; d < 3000; d += 7) index.Remove(d);
  const DocFactor factor = [](DocId d) { return d % 11 == 0 ? 0.0F : (d % 3 == 0 ? 1.8F : 1.0F); };
  for (int q = 0; q < 200; ++q) {
    std::string text;
    const int len = std::uniform_int_distribution<>(1, 30)(rng);
    for (int i = 0; i < len; ++i) text += pick() + " ";
    const auto query = Query(index, text);
    for (const std::size_t k : {1U, 5U, 20U}) ExpectSameAsBruteForce(index, query, k, factor, text);
  }
}

TEST(Index, BoundedSearchReturnsTrueScoresInOrderAndIsExactWithinItsBudget) {
  const Analyzer analyzer;
  Index index(analyzer);
  std::mt19937 rng(11);
  for (int d = 0; d < 2000; ++d) {
    std::string text;
    for (int i = 0; i < 30; ++i) text += "w" + std::to_string(rng() % 300) + " ";
    Add(index, text);
  }
  std::string text;
  for (int i = 0; i < 80; ++i) text += "w" + std::to_string(rng() % 300) + " ";
  const auto query = Query(index, text);
  const auto exact = BruteForce(index, query, 20, {});
  // A budget larger than all the postings changes nothing.
  EXPECT_EQ(index.Search(query, 20, {}, 1, {.postings_budget = 10'000'000, .max_candidates = 50, .negligible_share = 0})
                .size(),
            exact.size());
  // A tight one still answers k documents, best first, each with its true score.
  const auto bounded =
      index.Search(query, 20, {}, 1, {.postings_budget = 500, .max_candidates = 100, .negligible_share = 0});
  ASSERT_EQ(bounded.size(), 20U);
  for (std::size_t i = 0; i < bounded.size(); ++i) {
    float truth = 0;
    for (const QueryTerm& t : query) truth += index.TermScore(t, bounded[i].doc);
    EXPECT_NEAR(bounded[i].score, truth, 1e-3F * truth);
    if (i > 0) {
      EXPECT_GE(bounded[i - 1].score, bounded[i].score);
    }
  }
}

TEST(Index, ContributionsFromTheDocumentsOwnTermsAddUpToTheIndexedScore) {
  const Analyzer analyzer;
  Index index(analyzer);
  Add(index, "锂电池 电解液 低温");
  const DocId doc = Add(index, "锂电池 锂电池 隔膜");
  Add(index, "光伏");
  const auto query = Query(index, "锂电池隔膜");
  // The document's own terms with their frequencies, as a query over the same text has them.
  const auto own = Query(index, "锂电池 锂电池 隔膜");
  float indexed = 0;
  for (const QueryTerm& t : query) indexed += index.TermScore(t, doc);
  float from_own = 0;
  for (const QueryTerm& t : query) {
    const auto it = std::find_if(own.begin(), own.end(), [&t](const QueryTerm& o) { return o.term == t.term; });
    if (it != own.end()) {
      from_own += t.weight * index.Contribution(t.term, static_cast<std::uint32_t>(it->weight), index.Length(doc));
    }
  }
  EXPECT_GT(indexed, 0);
  EXPECT_FLOAT_EQ(from_own, indexed);
  EXPECT_EQ(index.Contribution(index.Lookup("隔膜"), 0, index.Length(doc)), 0);
  EXPECT_EQ(index.Contribution(kNoTerm, 1, index.Length(doc)), 0);
}

TEST(Index, FrequenciesOfSeveralTermsInSeveralDocumentsFromDenseAndSparseLists) {
  const Analyzer analyzer;
  Index index(analyzer);
  // "d" in every other document (dense past 4,096 documents), "s" in one in 100 (sparse), "t"
  // three times in every 1,000th document and in 3,001; odd documents have weight 2.
  for (int d = 0; d < 5'000; ++d) {
    std::string text = d % 2 == 0 ? "d " : "e ";
    if (d % 100 == 0) text += "s ";
    if (d % 1000 == 0 || d == 3001) text += "t t t ";
    Add(index, text, static_cast<std::uint16_t>(1 + d % 2));
  }
  ASSERT_TRUE(index.IsDense(index.Lookup("d")));
  ASSERT_FALSE(index.IsDense(index.Lookup("s")));
  const std::vector<TermId> terms{index.Lookup("s"), kNoTerm, index.Lookup("d"), index.Lookup("t")};
  const std::vector<DocId> docs{0, 1, 100, 101, 2000, 2001, 3001, 4999};
  std::vector<std::uint8_t> out(terms.size() * docs.size(), 99);
  index.Frequencies(terms, docs, out);
  const std::vector<std::uint8_t> expected{
      1, 0, 1, 0, 1, 0, 0, 0,  // s
      0, 0, 0, 0, 0, 0, 0, 0,  // an unknown term
      1, 0, 1, 0, 1, 0, 0, 0,  // d
      3, 0, 0, 0, 3, 0, 6, 0,  // t
  };
  EXPECT_EQ(out, expected);
  const std::vector<DocId> descending{101, 100};
  std::vector<std::uint8_t> two(terms.size() * 2);
  EXPECT_THROW(index.Frequencies(terms, descending, two), std::invalid_argument);
}

TEST(Index, RemovedDocumentsAreNeverReturnedAndCompactKeepsTheRanking) {
  const Analyzer analyzer;
  Index index(analyzer);
  const DocId a = Add(index, "锂电池 电解液");
  const DocId b = Add(index, "锂电池 低温");
  Add(index, "光伏 组件");
  index.Remove(a);
  index.Remove(a);  // twice is harmless
  EXPECT_EQ(index.LiveCount(), 2U);
  const auto query = Query(index, "锂电池电解液");
  auto hits = index.Search(query, 10, {}, 1);
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].doc, b);
  index.Compact();
  hits = index.Search(query, 10, {}, 1);
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].doc, b);
  // Until Compact() the removed document's postings still count in the document frequency;
  // after it they do not, so the idf of 锂电池's terms is exact again.
  const auto terms = Query(index, "锂电");
  ASSERT_EQ(terms.size(), 3U);
  EXPECT_NEAR(index.Idf(terms[0].term), std::log(1 + (2 - 1 + 0.5) / (1 + 0.5)), 1e-6);
}

TEST(Index, DenseListsOfCommonTermsGiveTheSameAnswersAsTheBruteForce) {
  // Past a few thousand documents the lists of terms in more than one document in 16 are kept
  // dense; searches mixing them with sparse ones, with removed documents and a factor, must
  // still be exact, and a bounded search must still return true scores.
  const Analyzer analyzer;
  Index index(analyzer);
  std::mt19937 rng(23);
  auto coin = [&](int one_in) { return std::uniform_int_distribution<>(0, one_in - 1)(rng) == 0; };
  for (int d = 0; d < 12'000; ++d) {
    std::string text;
    for (int c = 0; c < 6; ++c) {
      if (coin(3)) text += "c" + std::to_string(c) + " ";
    }
    for (int m = 0; m < 20; ++m) {
      if (coin(9)) text += "m" + std::to_string(m) + " ";
    }
    for (int r = 0; r < 4; ++r) text += "r" + std::to_string(rng() % 3000) + " ";
    if (coin(4)) text += "c0 c0 ";
    Add(index, text, static_cast<std::uint16_t>(1 + d % 2));
  }
  EXPECT_TRUE(index.IsDense(index.Lookup("c0")));
  EXPECT_TRUE(index.IsDense(index.Lookup("m7")));
  EXPECT_FALSE(index.IsDense(index.Lookup("r7")));
  for (DocId d = 0; d < 12'000; d += 7) index.Remove(d);
  const DocFactor factor = [](DocId d) { return d % 13 == 0 ? 0.0F : (d % 3 == 0 ? 1.8F : 1.0F); };
  auto check = [&](const std::string& text) {
    const auto query = Query(index, text);
    for (const std::size_t k : {1U, 20U}) ExpectSameAsBruteForce(index, query, k, factor, text);
    const auto bounded =
        index.Search(query, 20, factor, 1.8F, {.postings_budget = 3'000, .max_candidates = 200, .negligible_share = 0});
    for (std::size_t i = 0; i < bounded.size(); ++i) {
      float truth = 0;
      for (const QueryTerm& t : query) truth += index.TermScore(t, bounded[i].doc);
      EXPECT_NEAR(bounded[i].score, truth * factor(bounded[i].doc), 1e-3F * bounded[i].score) << text;
    }
  };
  for (int q = 0; q < 60; ++q) {
    std::string text = "c" + std::to_string(q % 6) + " m" + std::to_string(q % 20) + " ";
    for (int r = 0; r < q % 5; ++r) text += "r" + std::to_string(rng() % 3000) + " ";
    check(text);
  }
  index.Compact();
  check("c0 c1 m3 m4 r10 r20");
}

TEST(Index, ADenseListTurnsSparseAgainWhenItsDocumentsAreRemoved) {
  const Analyzer analyzer;
  Index index(analyzer);
  for (int d = 0; d < 4096; ++d) Add(index, d < 400 ? "x y" : "y");
  const TermId x = index.Lookup("x");
  ASSERT_TRUE(index.IsDense(x));
  for (DocId d = 0; d < 300; ++d) index.Remove(d);
  index.Compact();
  EXPECT_FALSE(index.IsDense(x));
  const auto query = Query(index, "x");
  EXPECT_EQ(index.TermScore(query[0], 100), 0);
  EXPECT_GT(index.TermScore(query[0], 350), 0);
  const auto hits = index.Search(query, 200, {}, 1);
  ASSERT_EQ(hits.size(), 100U);
  EXPECT_EQ(hits.front().doc, 300U);
  EXPECT_EQ(hits.back().doc, 399U);
}

TEST(Index, ATermsFrequencyCountsUpTo255) {
  // Frequencies are kept in a byte; BM25 has saturated long before.
  const Analyzer analyzer;
  Index index(analyzer);
  std::string many;
  std::string clamped;
  for (int i = 0; i < 300; ++i) many += "x ";
  for (int i = 0; i < 255; ++i) clamped += "x ";
  for (int i = 0; i < 45; ++i) clamped += "y ";
  const DocId a = Add(index, many);
  const DocId b = Add(index, clamped);
  Add(index, "z");
  const auto query = Query(index, "x");
  EXPECT_EQ(index.Length(a), index.Length(b));
  EXPECT_FLOAT_EQ(index.TermScore(query[0], a), index.TermScore(query[0], b));
}

TEST(Index, TiesGoToTheLowerIdAndUnknownTermsMatchNothing) {
  const Analyzer analyzer;
  Index index(analyzer);
  Add(index, "涂层");
  Add(index, "涂层");
  const auto hits = index.Search(Query(index, "涂层"), 1, {}, 1);
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].doc, 0U);
  EXPECT_TRUE(Query(index, "量子").empty());
  EXPECT_TRUE(index.Search(Query(index, "量子"), 5, {}, 1).empty());
  EXPECT_TRUE(index.Search(Query(index, "涂层"), 0, {}, 1).empty());
}

TEST(Index, AnEmptyIndexAnswersNothing) {
  const Analyzer analyzer;
  const Index index(analyzer);
  EXPECT_TRUE(index.Search({}, 10, {}, 1).empty());
  EXPECT_EQ(index.Lookup("x"), kNoTerm);
}

}  // namespace
}  // namespace duijie::matcher
