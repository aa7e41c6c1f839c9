#include "matcher/index.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <utility>

namespace duijie::matcher {
namespace {

constexpr std::uint32_t kMaxTf = std::numeric_limits<std::uint16_t>::max();

// Galloping search: the first position at or after `from` whose doc is >= target.
std::size_t Seek(const std::vector<DocId>& docs, std::size_t from, DocId target) {
  std::size_t step = 1;
  std::size_t hi = from;
  while (hi < docs.size() && docs[hi] < target) {
    from = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = std::min(hi, docs.size());
  return static_cast<std::size_t>(std::lower_bound(docs.begin() + static_cast<std::ptrdiff_t>(from),
                                                   docs.begin() + static_cast<std::ptrdiff_t>(hi), target) -
                                  docs.begin());
}

// Per-thread accumulators, so a query over a million documents does not allocate megabytes.
struct Scratch {
  std::vector<float> score;   // BM25 so far, 0 = not a candidate yet
  std::vector<float> factor;  // the document's factor, fetched once
  std::vector<DocId> candidates;
  std::vector<float> ranked;

  void Reset(std::size_t docs) {
    for (const DocId d : candidates) {
      score[d] = 0;
    }
    candidates.clear();
    if (score.size() < docs) {
      score.resize(docs, 0);
      factor.resize(docs, 0);
    }
  }
};

}  // namespace

Index::Index(const Analyzer& analyzer, Bm25Params params) : analyzer_(analyzer), params_(params) {}

DocId Index::Add(std::span<const WeightedText> fields) {
  std::vector<std::pair<TermId, std::uint32_t>> bag;
  for (const WeightedText& field : fields) {
    analyzer_.Analyze(field.text, scratch_);
    bag.reserve(bag.size() + scratch_.terms.size());
    for (const TermSpan& span : scratch_.terms) {
      const std::string_view term = scratch_.Term(span);
      auto it = terms_.find(term);
      if (it == terms_.end()) {
        it = terms_.emplace(std::string(term), static_cast<TermId>(lists_.size())).first;
        lists_.emplace_back();
      }
      bag.emplace_back(it->second, field.weight);
    }
  }
  MergeTerms(bag);
  const auto doc = static_cast<DocId>(lengths_.size());
  std::uint32_t length = 0;
  for (const auto& [term, tf] : bag) {
    length += tf;
  }
  for (const auto& [term, tf] : bag) {
    PostingList& list = lists_[term];
    const auto clamped = static_cast<std::uint16_t>(std::min(tf, kMaxTf));
    list.docs.push_back(doc);
    list.tfs.push_back(clamped);
    list.max_tf = std::max(list.max_tf, clamped);
    list.min_len = std::min(list.min_len, length);
  }
  lengths_.push_back(length);
  live_.push_back(1);
  ++live_count_;
  live_length_ += length;
  return doc;
}

void Index::Remove(DocId doc) {
  if (!IsLive(doc)) return;
  live_[doc] = 0;
  --live_count_;
  live_length_ -= lengths_[doc];
}

void Index::Compact() {
  for (PostingList& list : lists_) {
    std::size_t out = 0;
    list.max_tf = 0;
    list.min_len = std::numeric_limits<std::uint32_t>::max();
    for (std::size_t i = 0; i < list.docs.size(); ++i) {
      if (live_[list.docs[i]] == 0) continue;
      list.docs[out] = list.docs[i];
      list.tfs[out] = list.tfs[i];
      list.max_tf = std::max(list.max_tf, list.tfs[i]);
      list.min_len = std::min(list.min_len, lengths_[list.docs[i]]);
      ++out;
    }
    list.docs.resize(out);
    list.tfs.resize(out);
    list.docs.shrink_to_fit();
    list.tfs.shrink_to_fit();
  }
}

std::size_t Index::MemoryBytes() const {
  std::size_t bytes = lengths_.capacity() * sizeof(std::uint32_t) + live_.capacity();
  for (const PostingList& list : lists_) {
    bytes += sizeof(PostingList) + list.docs.capacity() * sizeof(DocId) + list.tfs.capacity() * sizeof(std::uint16_t);
  }
  for (const auto& [term, id] : terms_) {
    // Node, key and bucket: roughly what libstdc++ allocates per entry.
    bytes += 64 + (term.size() > 15 ? term.size() + 1 : 0);
  }
  return bytes;
}

TermId Index::Lookup(std::string_view term) const {
  const auto it = terms_.find(term);
  return it == terms_.end() ? kNoTerm : it->second;
}

std::vector<QueryTerm> Index::MakeQuery(std::span<const WeightedText> fields) const {
  std::vector<std::pair<TermId, std::uint32_t>> bag;
  Analysis analysis;
  for (const WeightedText& field : fields) {
    analyzer_.Analyze(field.text, analysis);
    for (const TermSpan& span : analysis.terms) {
      const TermId id = Lookup(analysis.Term(span));
      if (id != kNoTerm) bag.emplace_back(id, field.weight);
    }
  }
  MergeTerms(bag);
  std::vector<QueryTerm> query;
  query.reserve(bag.size());
  for (const auto& [term, tf] : bag) {
    query.push_back({term, static_cast<float>(tf)});
  }
  return query;
}

float Index::AverageLength() const {
  return live_count_ == 0 ? 1.0F
                          : static_cast<float>(static_cast<double>(live_length_) / static_cast<double>(live_count_));
}

float Index::Idf(TermId term) const {
  if (term >= lists_.size()) return 0;
  // Tombstoned postings still count until Compact(); clamp so idf stays positive.
  const double n = static_cast<double>(live_count_);
  const double df = std::min(static_cast<double>(lists_[term].docs.size()), n);
  return static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
}

float Index::UpperBound(const PostingList& list, float idf, float avg) const {
  const float tf = list.max_tf;
  const float norm = params_.k1 * (1 - params_.b + params_.b * static_cast<float>(list.min_len) / avg);
  return idf * tf * (params_.k1 + 1) / (tf + norm);
}

float Index::TermScore(const QueryTerm& term, DocId doc) const {
  if (term.term >= lists_.size() || !IsLive(doc)) return 0;
  const PostingList& list = lists_[term.term];
  const auto it = std::lower_bound(list.docs.begin(), list.docs.end(), doc);
  if (it == list.docs.end() || *it != doc) return 0;
  const float tf = list.tfs[static_cast<std::size_t>(it - list.docs.begin())];
  const float norm = params_.k1 * (1 - params_.b + params_.b * static_cast<float>(lengths_[doc]) / AverageLength());
  return term.weight * Idf(term.term) * tf * (params_.k1 + 1) / (tf + norm);
}

float Index::DocScore(std::span<const QueryTerm> query, std::span<const std::pair<TermId, std::uint32_t>> doc_terms,
                      std::uint32_t doc_length) const {
  const float norm = params_.k1 * (1 - params_.b + params_.b * static_cast<float>(doc_length) / AverageLength());
  float total = 0;
  for (const QueryTerm& term : query) {
    const auto it = std::lower_bound(doc_terms.begin(), doc_terms.end(), term.term,
                                     [](const auto& entry, TermId id) { return entry.first < id; });
    if (it == doc_terms.end() || it->first != term.term) continue;
    const auto tf = static_cast<float>(std::min(it->second, kMaxTf));
    total += term.weight * Idf(term.term) * tf * (params_.k1 + 1) / (tf + norm);
  }
  return total;
}

std::vector<Hit> Index::Search(std::span<const QueryTerm> query, std::size_t k, const DocFactor& factor,
                               float max_factor, const SearchLimits& limits) const {
  if (k == 0 || live_count_ == 0) return {};
  const float avg = AverageLength();
  const float k1 = params_.k1;
  const float b = params_.b;

  struct Term {
    const PostingList* list;
    float weight;  // query weight × idf
    float bound;   // the most this term can add to one document
  };
  std::vector<Term> terms;
  terms.reserve(query.size());
  for (const QueryTerm& q : query) {
    if (q.term >= lists_.size() || q.weight <= 0) continue;
    const PostingList& list = lists_[q.term];
    if (list.docs.empty()) continue;
    const float idf = Idf(q.term);
    terms.push_back({&list, q.weight * idf, q.weight * UpperBound(list, idf, avg)});
  }
  std::sort(terms.begin(), terms.end(), [](const Term& x, const Term& y) { return x.bound > y.bound; });
  // rest[i]: the most the terms from i on can add together.
  std::vector<float> rest(terms.size() + 1, 0);
  for (std::size_t i = terms.size(); i-- > 0;) {
    rest[i] = rest[i + 1] + terms[i].bound;
  }

  thread_local Scratch scratch;
  scratch.Reset(lengths_.size());
  std::vector<float>& score = scratch.score;
  std::vector<float>& doc_factor = scratch.factor;
  std::vector<DocId>& candidates = scratch.candidates;

  auto contribution = [&](const Term& term, std::size_t pos, DocId doc) {
    const float tf = term.list->tfs[pos];
    const float norm = k1 * (1 - b + b * static_cast<float>(lengths_[doc]) / avg);
    return term.weight * tf * (k1 + 1) / (tf + norm);
  };
  // The k-th best final score among the candidates: a lower bound of the final k-th score.
  // Factors are fetched when first needed, not for every document a list touches: most
  // candidates of a long query never get near the top.
  auto factor_of = [&](DocId d) {
    if (doc_factor[d] < 0) doc_factor[d] = factor ? factor(d) : 1.0F;
    return doc_factor[d];
  };
  auto kth_best = [&]() -> float {
    if (candidates.size() < k) return 0;
    std::vector<float>& ranked = scratch.ranked;
    ranked.clear();
    for (const DocId d : candidates) {
      ranked.push_back(score[d] * factor_of(d));
    }
    std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(k - 1), ranked.end(),
                     std::greater<>());
    return ranked[k - 1];
  };

  // Phase 1: walk whole lists while a document not seen yet could still reach the top k.
  float threshold = 0;
  float best = 0;
  std::size_t next = 0;
  std::size_t walked = 0;
  bool cut_short = false;
  for (; next < terms.size(); ++next) {
    if (candidates.size() >= k && rest[next] * max_factor <= threshold) break;
    if (limits.postings_budget > 0 && walked >= limits.postings_budget) {
      cut_short = true;
      break;
    }
    walked += terms[next].list->docs.size();
    const Term& term = terms[next];
    const std::vector<DocId>& docs = term.list->docs;
    for (std::size_t pos = 0; pos < docs.size(); ++pos) {
      const DocId d = docs[pos];
      if (live_[d] == 0) continue;
      if (score[d] == 0) {
        candidates.push_back(d);
        doc_factor[d] = -1;
      }
      score[d] += contribution(term, pos, d);
      best = std::max(best, score[d]);
    }
    // The k-th best is at most best × max_factor, so while the lists left could lift a new
    // document above that, the phase cannot end and the k-th best (a pass over all candidates)
    // is not worth computing.
    if (candidates.size() >= k && rest[next + 1] <= best) threshold = kth_best();
  }

  // Phase 2: only the candidates that can still reach the top k, scored by probing the rest.
  auto prune = [&](float left) {
    std::erase_if(candidates, [&](DocId d) {
      const float f = factor_of(d);
      const bool drop = f == 0 || (score[d] + left) * f < threshold;
      if (drop) score[d] = 0;
      return drop;
    });
  };
  if (cut_short && limits.max_candidates >= k && candidates.size() > limits.max_candidates) {
    // Keep the best candidates so far; the rest are dropped without a bound to say they could
    // not have made it (this is where the answer stops being exact).
    // First by text score alone (a few times more than needed, so the factors can reorder
    // them), then by final score.
    auto keep_best = [&](std::size_t n) {
      if (candidates.size() <= n) return;
      std::vector<float>& ranked = scratch.ranked;
      ranked.clear();
      for (const DocId d : candidates) ranked.push_back(score[d] * factor_of(d));
      const auto nth = ranked.begin() + static_cast<std::ptrdiff_t>(n - 1);
      std::nth_element(ranked.begin(), nth, ranked.end(), std::greater<>());
      const float keep = *nth;
      std::size_t kept = 0;
      std::erase_if(candidates, [&](DocId d) {
        const float s = score[d] * factor_of(d);
        const bool drop = s < keep || (s == keep && kept >= n);
        if (drop) {
          score[d] = 0;
        } else {
          ++kept;
        }
        return drop;
      });
    };
    // The first cut by a histogram of the text scores (one pass, no sort): keep the buckets
    // from the top down until they hold enough.
    const std::size_t wanted = 4 * limits.max_candidates;
    if (candidates.size() > wanted && best > 0) {
      constexpr std::size_t kBuckets = 1024;
      std::array<std::uint32_t, kBuckets> histogram{};
      const float scale = static_cast<float>(kBuckets - 1) / best;
      for (const DocId d : candidates) ++histogram[static_cast<std::size_t>(score[d] * scale)];
      std::size_t bucket = kBuckets;
      std::size_t held = 0;
      while (bucket > 0 && held < wanted) held += histogram[--bucket];
      const float keep = static_cast<float>(bucket) / scale;
      std::erase_if(candidates, [&](DocId d) {
        const bool drop = score[d] < keep;
        if (drop) score[d] = 0;
        return drop;
      });
    }
    keep_best(limits.max_candidates);
  }
  if (next < terms.size()) {
    threshold = kth_best();
    prune(rest[next]);
    std::sort(candidates.begin(), candidates.end());
    for (; next < terms.size() && !candidates.empty(); ++next) {
      if (rest[next] * max_factor < limits.negligible_share * threshold) break;
      const Term& term = terms[next];
      const std::vector<DocId>& docs = term.list->docs;
      std::size_t pos = 0;
      for (const DocId d : candidates) {
        pos = Seek(docs, pos, d);
        if (pos == docs.size()) break;
        if (docs[pos] == d) score[d] += contribution(term, pos, d);
      }
      // Pruning costs a pass over the candidates; every few lists is enough.
      if (next % 4 == 3 || next + 1 == terms.size()) {
        threshold = std::max(threshold, kth_best());
        prune(rest[next + 1]);
      }
    }
  }

  std::vector<Hit> hits;
  hits.reserve(candidates.size());
  for (const DocId d : candidates) {
    const float s = score[d] * factor_of(d);
    if (s > 0) hits.push_back({d, s});
  }
  const std::size_t top = std::min(k, hits.size());
  auto better = [](const Hit& x, const Hit& y) { return x.score != y.score ? x.score > y.score : x.doc < y.doc; };
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(top), hits.end(), better);
  hits.resize(top);
  return hits;
}

}  // namespace duijie::matcher
