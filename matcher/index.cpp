#include "matcher/index.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace duijie::matcher {
namespace {

// Frequencies are kept in a byte: BM25 has long saturated by then.
constexpr std::uint32_t kMaxTf = std::numeric_limits<std::uint8_t>::max();
// A list is dense above one document in 16 and sparse again below one in 32, so a list near the
// line does not flip back and forth. At 5 bytes a posting the dense form is the smaller one from
// one document in 5; below that, a little memory buys probes that are one load instead of a
// search (bench/match_speed: 1,411 MiB against 1,295 MiB with the line at one in 8, and a
// fifth off the time of a need's query). Lists are not made dense below a few thousand
// documents, where every list is short anyway.
constexpr std::size_t kDenseAbove = 16;
constexpr std::size_t kSparseBelow = 32;

// Galloping search: the first position at or after `from` whose doc is >= target. The final
// binary search is branch-free: the probes of a query's common lists are too many and too
// random for the branch predictor, and mispredictions were most of their cost.
std::size_t Seek(const std::vector<DocId>& docs, std::size_t from, DocId target) {
  const std::size_t n = docs.size();
  std::size_t step = 1;
  std::size_t hi = from;
  while (hi < n && docs[hi] < target) {
    from = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = std::min(hi, n);
  // Now docs[from - 1] < target <= docs[hi] (where they exist).
  std::size_t size = hi - from;
  if (size == 0) return from;
  const DocId* at = docs.data() + from;
  while (size > 1) {
    const std::size_t half = size / 2;
    at = at[half] < target ? at + half : at;
    size -= half;
  }
  return static_cast<std::size_t>(at - docs.data()) + (*at < target ? 1 : 0);
}

// A document the search is still considering, with its text score so far.
struct Candidate {
  DocId doc;
  float score;
  float factor;  // the document's factor, fetched once; < 0 = not yet
  float norm;    // BM25's length normalisation of the document, k1 × (1 − b + b × len / avg)
};

// The postings of a query's first lists are added up one window of documents at a time, so the
// accumulators of a window stay in the L1 cache; one array over all documents would cost a cache
// miss per posting at a million documents.
constexpr std::size_t kWindow = 4096;
// Without a budget, the first batch of lists walks at least this many postings, and each next
// one three times as many as all before it, so the candidates are merged a logarithmic number
// of times.
constexpr std::size_t kFirstBatch = 4'096;

// Per-thread working memory, so a query does not allocate.
struct Scratch {
  Scratch() { factor.fill(-1); }

  // One window's accumulators; between windows every score is 0 and every factor -1.
  std::array<float, kWindow> score{};
  std::array<float, kWindow> factor{};
  std::array<std::uint64_t, kWindow / 64> touched{};
  std::vector<Candidate> candidates;
  std::vector<Candidate> merged;
  std::vector<std::size_t> cursors;
  std::vector<float> ranked;
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
    const auto clamped = static_cast<std::uint8_t>(std::min(tf, kMaxTf));
    if (list.dense) {
      if (list.tfs.size() <= doc) list.tfs.resize(doc + 1, 0);
      list.tfs[doc] = clamped;
    } else {
      list.docs.push_back(doc);
      list.tfs.push_back(clamped);
    }
    ++list.df;
    list.max_tf = std::max(list.max_tf, clamped);
    list.min_len = std::min(list.min_len, length);
  }
  lengths_.push_back(length);
  live_.push_back(1);
  ++live_count_;
  live_length_ += length;
  // At every doubling of the documents, like a vector's growth: the cost stays linear.
  if (lengths_.size() >= next_rebalance_) {
    Rebalance();
    next_rebalance_ = 2 * lengths_.size();
  }
  return doc;
}

void Index::Rebalance() {
  const std::size_t n = lengths_.size();
  if (n < kFirstRebalance) return;
  for (PostingList& list : lists_) {
    if (!list.dense && list.df * kDenseAbove > n) {
      std::vector<std::uint8_t> tfs(n, 0);
      for (std::size_t i = 0; i < list.docs.size(); ++i) tfs[list.docs[i]] = list.tfs[i];
      list.tfs = std::move(tfs);
      list.docs = {};
      list.dense = true;
    } else if (list.dense && list.df * kSparseBelow < n) {
      std::vector<DocId> docs;
      std::vector<std::uint8_t> tfs;
      docs.reserve(list.df);
      tfs.reserve(list.df);
      for (std::size_t d = 0; d < list.tfs.size(); ++d) {
        if (list.tfs[d] == 0) continue;
        docs.push_back(static_cast<DocId>(d));
        tfs.push_back(list.tfs[d]);
      }
      list.docs = std::move(docs);
      list.tfs = std::move(tfs);
      list.dense = false;
    }
  }
}

void Index::Remove(DocId doc) {
  if (!IsLive(doc)) return;
  live_[doc] = 0;
  --live_count_;
  live_length_ -= lengths_[doc];
}

void Index::Compact() {
  for (PostingList& list : lists_) {
    list.max_tf = 0;
    list.min_len = std::numeric_limits<std::uint32_t>::max();
    if (list.dense) {
      list.df = 0;
      for (std::size_t d = 0; d < list.tfs.size(); ++d) {
        if (list.tfs[d] == 0) continue;
        if (live_[d] == 0) {
          list.tfs[d] = 0;
          continue;
        }
        ++list.df;
        list.max_tf = std::max(list.max_tf, list.tfs[d]);
        list.min_len = std::min(list.min_len, lengths_[d]);
      }
      continue;
    }
    std::size_t out = 0;
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
    list.df = static_cast<std::uint32_t>(out);
  }
  Rebalance();
}

std::size_t Index::MemoryBytes() const {
  std::size_t bytes = lengths_.capacity() * sizeof(std::uint32_t) + live_.capacity();
  for (const PostingList& list : lists_) {
    bytes += sizeof(PostingList) + list.docs.capacity() * sizeof(DocId) + list.tfs.capacity();
  }
  // One slot and its metadata byte per bucket, whether used or not; long keys on the heap.
  bytes += terms_.bucket_count() * (sizeof(std::pair<const std::string, TermId>) + 1);
  for (const auto& [term, id] : terms_) {
    if (term.size() > 15) bytes += term.size() + 1;
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
  const double df = std::min(static_cast<double>(lists_[term].df), n);
  return static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
}

float Index::UpperBound(const PostingList& list, float idf, float avg) const {
  const float tf = list.max_tf;
  const float norm = Norm(list.min_len, avg);
  return idf * tf * (params_.k1 + 1) / (tf + norm);
}

float Index::TermScore(const QueryTerm& term, DocId doc) const {
  if (term.term >= lists_.size() || !IsLive(doc)) return 0;
  const PostingList& list = lists_[term.term];
  float tf = 0;
  if (list.dense) {
    tf = list.DenseTf(doc);
  } else {
    const auto it = std::lower_bound(list.docs.begin(), list.docs.end(), doc);
    if (it == list.docs.end() || *it != doc) return 0;
    tf = list.tfs[static_cast<std::size_t>(it - list.docs.begin())];
  }
  if (tf == 0) return 0;
  const float norm = Norm(lengths_[doc], AverageLength());
  return term.weight * Idf(term.term) * tf * (params_.k1 + 1) / (tf + norm);
}

float Index::Contribution(TermId term, std::uint32_t tf, std::uint32_t doc_length) const {
  if (tf == 0 || term >= lists_.size()) return 0;
  const auto f = static_cast<float>(std::min(tf, kMaxTf));
  return Idf(term) * f * (params_.k1 + 1) / (f + Norm(doc_length, AverageLength()));
}

void Index::Frequencies(std::span<const TermId> terms, std::span<const DocId> docs, std::span<std::uint8_t> out) const {
  if (out.size() != terms.size() * docs.size() || !std::is_sorted(docs.begin(), docs.end())) {
    throw std::invalid_argument("Index::Frequencies: documents not ascending or output of the wrong size");
  }
  std::fill(out.begin(), out.end(), 0);
  for (std::size_t t = 0; t < terms.size(); ++t) {
    if (terms[t] >= lists_.size()) continue;
    const PostingList& list = lists_[terms[t]];
    std::uint8_t* row = out.data() + t * docs.size();
    if (list.dense) {
      for (std::size_t d = 0; d < docs.size(); ++d) row[d] = list.DenseTf(docs[d]);
      continue;
    }
    // The documents ascend, so each search starts where the last one ended.
    std::size_t pos = 0;
    for (std::size_t d = 0; d < docs.size() && pos < list.docs.size(); ++d) {
      pos = Seek(list.docs, pos, docs[d]);
      if (pos < list.docs.size() && list.docs[pos] == docs[d]) row[d] = list.tfs[pos];
    }
  }
}

std::vector<Hit> Index::Search(std::span<const QueryTerm> query, std::size_t k, const DocFactor& factor,
                               float max_factor, const SearchLimits& limits) const {
  if (k == 0 || live_count_ == 0) return {};
  const float avg = AverageLength();
  const float k1 = params_.k1;
  const float b = params_.b;

  struct Term {
    const PostingList* list;
    float scale;  // query weight × idf × (k1 + 1): the contribution is scale × tf / (tf + norm)
    float bound;  // the most this term can add to one document
  };
  std::vector<Term> terms;
  terms.reserve(query.size());
  for (const QueryTerm& q : query) {
    if (q.term >= lists_.size() || q.weight <= 0) continue;
    const PostingList& list = lists_[q.term];
    if (list.df == 0) continue;
    const float idf = Idf(q.term);
    terms.push_back({&list, q.weight * idf * (k1 + 1), q.weight * UpperBound(list, idf, avg)});
  }
  std::sort(terms.begin(), terms.end(), [](const Term& x, const Term& y) { return x.bound > y.bound; });
  // rest[i]: the most the terms from i on can add together.
  std::vector<float> rest(terms.size() + 1, 0);
  for (std::size_t i = terms.size(); i-- > 0;) {
    rest[i] = rest[i + 1] + terms[i].bound;
  }

  thread_local Scratch scratch;
  std::vector<Candidate>& candidates = scratch.candidates;
  candidates.clear();

  // Norm() as a + c × length, and a term's contribution as s × tf / (tf + norm), the constants
  // taken out of the loops.
  const float norm_base = k1 * (1 - b);
  const float norm_per_length = k1 * b / avg;
  auto norm_of = [norm_base, norm_per_length, lengths = lengths_.data()](DocId d) {
    return norm_base + norm_per_length * static_cast<float>(lengths[d]);
  };
  auto contribution = [](float scale, float tf, float norm) { return scale * tf / (tf + norm); };
  // Factors are fetched when first needed, not for every document a list touches: most
  // candidates of a long query never get near the top. A removed document's postings stay until
  // Compact(); it is walked like the others and left out here.
  auto factor_of = [&](Candidate& c) {
    if (c.factor < 0) c.factor = live_[c.doc] == 0 ? 0.0F : (factor ? factor(c.doc) : 1.0F);
    return c.factor;
  };
  // The k-th best final score among the candidates: a lower bound of the final k-th score.
  auto kth_best = [&]() -> float {
    if (candidates.size() < k) return 0;
    std::vector<float>& ranked = scratch.ranked;
    ranked.clear();
    for (Candidate& c : candidates) ranked.push_back(c.score * factor_of(c));
    std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(k - 1), ranked.end(),
                     std::greater<>());
    return ranked[k - 1];
  };

  // Adds the lists [first, last) to the candidates (kept in document order), window by window.
  float best = 0;
  auto accumulate = [&](std::size_t first, std::size_t last) {
    std::vector<std::size_t>& cursors = scratch.cursors;
    cursors.assign(last - first, 0);
    std::vector<Candidate>& merged = scratch.merged;
    merged.clear();
    std::array<float, kWindow>& score = scratch.score;
    std::array<float, kWindow>& fac = scratch.factor;
    std::array<std::uint64_t, kWindow / 64>& touched = scratch.touched;
    std::size_t old = 0;
    for (std::size_t base = 0; base < lengths_.size(); base += kWindow) {
      const std::size_t limit = std::min(base + kWindow, lengths_.size());
      // The window's lengths are read in no order; fetching the next window's ahead keeps the
      // walk from waiting on memory.
      for (std::size_t d = limit; d < std::min(limit + kWindow, lengths_.size()); d += 64 / sizeof(std::uint32_t)) {
        __builtin_prefetch(&lengths_[d]);
      }
      auto add = [&touched, &score, base, norm_of, contribution](std::size_t d, float tf, float scale) {
        const std::size_t i = d - base;
        touched[i / 64] |= std::uint64_t{1} << (i % 64);
        score[i] += contribution(scale, tf, norm_of(static_cast<DocId>(d)));
      };
      for (; old < candidates.size() && candidates[old].doc < limit; ++old) {
        const std::size_t i = candidates[old].doc - base;
        touched[i / 64] |= std::uint64_t{1} << (i % 64);
        score[i] = candidates[old].score;
        fac[i] = candidates[old].factor;
      }
      for (std::size_t j = first; j < last; ++j) {
        const PostingList& list = *terms[j].list;
        const float scale = terms[j].scale;
        if (list.dense) {
          // Eight documents at a time: most bytes of a dense list are still zero.
          const std::size_t end = std::min(limit, list.tfs.size());
          for (std::size_t d = base; d < end; d += 8) {
            std::uint64_t eight = 0;
            std::memcpy(&eight, list.tfs.data() + d, std::min<std::size_t>(8, end - d));
            static_assert(std::endian::native == std::endian::little);
            while (eight != 0) {
              const auto byte = static_cast<std::size_t>(std::countr_zero(eight)) / 8;
              eight &= ~(std::uint64_t{0xff} << (8 * byte));
              add(d + byte, list.tfs[d + byte], scale);
            }
          }
          continue;
        }
        std::size_t pos = cursors[j - first];
        const std::size_t end = list.docs.size();
        const DocId* docs = list.docs.data();
        const std::uint8_t* tfs = list.tfs.data();
        for (; pos < end && docs[pos] < limit; ++pos) add(docs[pos], tfs[pos], scale);
        cursors[j - first] = pos;
      }
      for (std::size_t w = 0; w < touched.size(); ++w) {
        for (std::uint64_t bits = touched[w]; bits != 0; bits &= bits - 1) {
          const std::size_t i = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
          const auto d = static_cast<DocId>(base + i);
          merged.push_back({d, score[i], fac[i], 0});
          best = std::max(best, score[i]);
          score[i] = 0;
          fac[i] = -1;
        }
        touched[w] = 0;
      }
    }
    candidates.swap(merged);
  };

  // Phase 1: walk whole lists while a document not seen yet could still reach the top k.
  float threshold = 0;
  std::size_t next = 0;
  std::size_t walked = 0;
  bool cut_short = false;
  while (next < terms.size()) {
    if (candidates.size() >= k && rest[next] * max_factor <= threshold) break;
    if (limits.postings_budget > 0 && walked >= limits.postings_budget) {
      cut_short = true;
      break;
    }
    // Each batch of lists costs a merge with the candidates so far. With a budget, the lists
    // within it are walked in one batch: a list is walked when the postings walked before it are
    // within the budget. Without one, batches grow fourfold, so the phase can end early on a
    // large index; a batch may walk a few more lists than strictly needed, which changes nothing
    // in the answer.
    const std::size_t target = limits.postings_budget > 0 ? limits.postings_budget : std::max(3 * walked, kFirstBatch);
    std::size_t last = next;
    std::size_t batch = 0;
    while (last < terms.size() && (last == next || batch < target) &&
           (limits.postings_budget == 0 || walked + batch < limits.postings_budget)) {
      batch += terms[last].list->df;
      ++last;
    }
    accumulate(next, last);
    walked += batch;
    next = last;
    // The k-th best is at most best × max_factor, so while the lists left could lift a new
    // document above that, the phase cannot end and the k-th best (a pass over all candidates)
    // is not worth computing.
    if (candidates.size() >= k && rest[next] <= best) threshold = kth_best();
  }

  // Phase 2: only the candidates that can still reach the top k, scored by probing the rest.
  auto prune = [&](float left) {
    std::erase_if(candidates, [&](Candidate& c) {
      const float f = factor_of(c);
      return f == 0 || (c.score + left) * f < threshold;
    });
  };
  if (cut_short && limits.max_candidates >= k && candidates.size() > limits.max_candidates) {
    // Keep the best candidates so far; the rest are dropped without a bound to say they could
    // not have made it (this is where the answer stops being exact).
    // First by text score alone (a few times more than needed, so the factors can reorder
    // them), by a histogram of the scores (one pass, no sort): keep the buckets from the top
    // down until they hold enough.
    const std::size_t wanted = 4 * limits.max_candidates;
    if (candidates.size() > wanted && best > 0) {
      constexpr std::size_t kBuckets = 1024;
      std::array<std::uint32_t, kBuckets> histogram{};
      const float scale = static_cast<float>(kBuckets - 1) / best;
      for (const Candidate& c : candidates) ++histogram[static_cast<std::size_t>(c.score * scale)];
      std::size_t bucket = kBuckets;
      std::size_t held = 0;
      while (bucket > 0 && held < wanted) held += histogram[--bucket];
      const float keep = static_cast<float>(bucket) / scale;
      std::erase_if(candidates, [&](const Candidate& c) { return c.score < keep; });
    }
    // Then by final score.
    std::vector<float>& ranked = scratch.ranked;
    ranked.clear();
    for (Candidate& c : candidates) ranked.push_back(c.score * factor_of(c));
    const std::size_t n = limits.max_candidates;
    const auto nth = ranked.begin() + static_cast<std::ptrdiff_t>(n - 1);
    std::nth_element(ranked.begin(), nth, ranked.end(), std::greater<>());
    const float keep = *nth;
    std::size_t kept = 0;
    std::erase_if(candidates, [&](Candidate& c) {
      const float s = c.score * factor_of(c);
      const bool drop = s < keep || (s == keep && kept >= n);
      if (!drop) ++kept;
      return drop;
    });
  }
  if (next < terms.size()) {
    threshold = kth_best();
    prune(rest[next]);
    for (Candidate& c : candidates) c.norm = norm_of(c.doc);
    for (; next < terms.size() && !candidates.empty(); ++next) {
      if (rest[next] * max_factor < limits.negligible_share * threshold) break;
      const Term& term = terms[next];
      const PostingList& list = *term.list;
      if (list.dense) {
        for (Candidate& c : candidates) {
          const std::uint8_t tf = list.DenseTf(c.doc);
          if (tf != 0) c.score += contribution(term.scale, tf, c.norm);
        }
      } else {
        std::size_t pos = 0;
        for (Candidate& c : candidates) {
          pos = Seek(list.docs, pos, c.doc);
          if (pos == list.docs.size()) break;
          if (list.docs[pos] == c.doc) c.score += contribution(term.scale, list.tfs[pos], c.norm);
        }
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
  for (Candidate& c : candidates) {
    const float s = c.score * factor_of(c);
    if (s > 0) hits.push_back({c.doc, s});
  }
  const std::size_t top = std::min(k, hits.size());
  auto better = [](const Hit& x, const Hit& y) { return x.score != y.score ? x.score > y.score : x.doc < y.doc; };
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(top), hits.end(), better);
  hits.resize(top);
  return hits;
}

}  // namespace duijie::matcher
