#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "matcher/analyzer.hpp"

namespace duijie::matcher {

using DocId = std::uint32_t;
using TermId = std::uint32_t;
inline constexpr TermId kNoTerm = std::numeric_limits<TermId>::max();

struct Bm25Params {
  float k1 = 1.2F;
  float b = 0.75F;
};

/// One field of a document or a query with its weight (BM25F: a term in the keywords counts
/// twice, in the bio once).
struct WeightedText {
  std::string_view text;
  std::uint16_t weight = 1;
};

struct QueryTerm {
  TermId term = kNoTerm;
  float weight = 0;  // how often the term occurs in the query, field weights applied
};

struct Hit {
  DocId doc = 0;
  float score = 0;  // BM25 times the document's factor
};

/// A bag of (term, count) pairs sorted by term with the counts of each term added up: how a
/// text's terms become a document's frequencies or a query's weights.
template <class Count>
void MergeTerms(std::vector<std::pair<TermId, Count>>& bag) {
  std::sort(bag.begin(), bag.end());
  std::size_t out = 0;
  for (std::size_t i = 0; i < bag.size(); ++i) {
    if (out > 0 && bag[out - 1].first == bag[i].first) {
      bag[out - 1].second += bag[i].second;
    } else {
      bag[out++] = bag[i];
    }
  }
  bag.resize(out);
}

/// Bounds on the work of one search, for queries too long to answer exactly in time (a need's
/// description is hundreds of terms). Zero means no bound: the answer is exact.
struct SearchLimits {
  /// Once this many postings have been walked, no new document becomes a candidate; the lists
  /// left (the least weighty: common characters) only add to the candidates' scores.
  std::size_t postings_budget = 0;
  /// At that point only this many candidates, the best so far, are kept.
  std::size_t max_candidates = 0;
  /// Lists whose remaining contribution together is below this share of the k-th best score are
  /// not probed at all (common characters over a million documents: the costliest probes, the
  /// smallest change to the order).
  float negligible_share = 0;
};

/// Multiplies a document's text score (field agreement, region); 0 excludes the document
/// (ineligible, opted out, at capacity). Must not exceed the max_factor given to Search.
using DocFactor = std::function<float(DocId)>;

/// An in-memory inverted index with field-weighted BM25 and exact top-k retrieval by MaxScore:
/// query terms are taken in order of their best possible contribution; once the terms left
/// cannot lift a new document into the top k, only the documents already seen are scored, and
/// those that can no longer reach the top k are dropped. Long posting lists of common characters
/// are then only probed, never walked.
///
/// Documents are added incrementally (ids are dense and increasing) and removed by a tombstone;
/// Compact() drops tombstoned postings. Adding and removing must not run concurrently with each
/// other or with Search; Search is const and may run on several threads at once.
class Index {
 public:
  explicit Index(const Analyzer& analyzer, Bm25Params params = {});

  DocId Add(std::span<const WeightedText> fields);
  void Remove(DocId doc);
  /// Removes the tombstoned documents' postings; document ids do not change.
  void Compact();

  [[nodiscard]] bool IsLive(DocId doc) const { return doc < live_.size() && live_[doc] != 0; }
  [[nodiscard]] std::size_t LiveCount() const { return live_count_; }
  [[nodiscard]] std::size_t DocCount() const { return live_.size(); }
  [[nodiscard]] std::size_t TermCount() const { return lists_.size(); }
  [[nodiscard]] std::size_t MemoryBytes() const;

  [[nodiscard]] TermId Lookup(std::string_view term) const;
  /// Whether the term's postings are kept dense (one frequency per document): for tests and
  /// memory reports.
  [[nodiscard]] bool IsDense(TermId term) const { return term < lists_.size() && lists_[term].dense; }
  /// The terms of the texts that occur in the index, with their weighted frequencies.
  [[nodiscard]] std::vector<QueryTerm> MakeQuery(std::span<const WeightedText> fields) const;

  /// The k best live documents by BM25 × factor, best first, ties by lower id; documents whose
  /// factor is 0 or that match no term are left out. Exact unless limits cut the work short;
  /// even then every returned score is the true score unless negligible_share is set.
  [[nodiscard]] std::vector<Hit> Search(std::span<const QueryTerm> query, std::size_t k, const DocFactor& factor,
                                        float max_factor, const SearchLimits& limits = {}) const;

  /// The BM25 contribution of one query term to one document (0 when the document lacks it).
  [[nodiscard]] float TermScore(const QueryTerm& term, DocId doc) const;
  /// The BM25 contribution of a term at frequency tf in a document of the given length, for a
  /// query weight of 1: scoring a document from its own terms, with no posting list searched.
  [[nodiscard]] float Contribution(TermId term, std::uint32_t tf, std::uint32_t doc_length) const;
  /// The frequency of each term in each document, term-major (out[t × docs.size() + d]; 0 where
  /// absent, kNoTerm included): what scoring a few documents from their own side wants, with no
  /// forward index kept. `docs` ascending, `out` holds terms.size() × docs.size().
  void Frequencies(std::span<const TermId> terms, std::span<const DocId> docs, std::span<std::uint8_t> out) const;
  [[nodiscard]] std::uint32_t Length(DocId doc) const { return doc < lengths_.size() ? lengths_[doc] : 0; }
  [[nodiscard]] float Idf(TermId term) const;

 private:
  // Sparse, a term's documents in ascending order with their frequencies; dense, for a term in
  // a large share of the documents (a common character): no ids and one frequency per document,
  // 0 where the term is absent. The dense form is the smaller one there, and a probe is one load
  // instead of a search.
  struct PostingList {
    std::vector<DocId> docs;
    std::vector<std::uint8_t> tfs;
    std::uint32_t df = 0;  // postings, tombstoned ones included until Compact()
    bool dense = false;
    std::uint8_t max_tf = 0;
    std::uint32_t min_len = std::numeric_limits<std::uint32_t>::max();

    [[nodiscard]] std::uint8_t DenseTf(DocId doc) const { return doc < tfs.size() ? tfs[doc] : 0; }
  };
  struct StringHash {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard library's name
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  [[nodiscard]] float AverageLength() const;
  // Turns lists dense or sparse by their share of the documents now.
  void Rebalance();
  [[nodiscard]] float UpperBound(const PostingList& list, float idf, float avg) const;
  // BM25's length normalisation, k1 × (1 − b + b × length / avg).
  [[nodiscard]] float Norm(std::uint32_t length, float avg) const {
    return params_.k1 * (1 - params_.b + params_.b * static_cast<float>(length) / avg);
  }

  const Analyzer& analyzer_;
  Bm25Params params_;
  // Open addressing: a lookup is one probe of a metadata group and one slot, where a node-based
  // map costs a bucket and a node miss; there are hundreds of lookups per indexed text or query.
  boost::unordered_flat_map<std::string, TermId, StringHash, std::equal_to<>> terms_;
  std::vector<PostingList> lists_;
  std::vector<std::uint32_t> lengths_;
  std::vector<std::uint8_t> live_;
  std::size_t live_count_ = 0;
  std::uint64_t live_length_ = 0;
  static constexpr std::size_t kFirstRebalance = 4096;
  std::size_t next_rebalance_ = kFirstRebalance;
  Analysis scratch_;
};

}  // namespace duijie::matcher
