#pragma once
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "matcher/analyzer.hpp"
#include "matcher/index.hpp"

namespace duijie::matcher {

/// A researcher as the matcher sees one: what they can do, where, and who they are.
struct Researcher {
  std::int64_t id = 0;
  std::vector<std::string> fields;    // industry fields from the programme's list, 1–3
  std::vector<std::string> keywords;  // research directions
  std::string bio;
  std::string region;
  std::string eligibility;
};

/// A published need as the matcher sees one.
struct Need {
  std::int64_t id = 0;
  std::string title;
  std::string description;  // the problem, the targets and the constraints
  std::string field;        // one industry field from the programme's list
  std::string region;
};

struct MatcherOptions {
  Bm25Params bm25;
  // BM25F field weights. Keywords twice over the bio measured worse (docs/BENCHMARKS.md): they are
  // short, so BM25's length normalisation already favours them.
  std::uint16_t keyword_weight = 1;
  std::uint16_t bio_weight = 1;
  std::uint16_t title_weight = 1;
  std::uint16_t description_weight = 1;
  /// Score × (1 + field_boost) when the need's field is one of the researcher's fields.
  float field_boost = 0.8F;
  /// Score × (1 + region_boost) when need and researcher are in the same region.
  float region_boost = 0.0F;
  /// Query term frequency saturation (BM25's k3); 0 takes the frequency as it is. Long need
  /// descriptions repeat their subject; without it the repetition outweighs everything else.
  float query_k3 = 2.0F;
  /// Needs for a researcher are also ranked reciprocally: a need scores higher when this
  /// researcher is among the best researchers for it (each side's score divided by that side's
  /// best, the need's side weighted by this). 0 turns it off.
  float reciprocal_weight = 1.0F;
  /// Work bounds per query (see SearchLimits); the defaults keep a query over a million
  /// researchers within a few milliseconds (bench/match_speed) and change nothing on pools the
  /// size of a province.
  SearchLimits limits{.postings_budget = 200'000, .max_candidates = 2'000, .negligible_share = 0};
  /// How many needs the reciprocal step re-ranks.
  std::size_t reciprocal_depth = 50;
  /// Groups of words naming the same problem or discipline ("挂冰" … "覆冰" … "防冰"): a query
  /// holding one member is also searched for the others' bigrams and words, at synonym_weight.
  std::vector<std::vector<std::string>> synonyms;
  float synonym_weight = 0.3F;
  /// How many phrases an explanation names.
  std::size_t explain_terms = 3;
};

/// One ranked match with why: the query's phrases found on the other side, and the shared
/// industry field (empty when none).
struct Match {
  std::int64_t id = 0;
  float score = 0;
  std::vector<std::string> terms;
  std::string shared_field;
};

/// A candidate's standing apart from the text: 0 leaves them out (ineligible, opted out, at
/// capacity), below 1 ranks them lower (e.g. after answering "not my field" in this field), at
/// most 1. Empty: everyone at 1.
using Allow = std::function<float(std::int64_t id)>;

/// Two-way matching of needs and researchers: one index over researchers (queried with a need),
/// one over needs (queried with a researcher). Upserts replace a profile. Queries are const and
/// may run concurrently; upserts and removals need the caller's exclusive lock.
class Matcher {
 public:
  explicit Matcher(Analyzer analyzer, MatcherOptions options = {});
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  void Upsert(const Researcher& researcher);
  void Upsert(const Need& need);
  void RemoveResearcher(std::int64_t id);
  void RemoveNeed(std::int64_t id);

  [[nodiscard]] std::vector<Match> ResearchersFor(const Need& need, std::size_t k, const Allow& allow = {}) const;
  [[nodiscard]] std::vector<Match> NeedsFor(const Researcher& researcher, std::size_t k, const Allow& allow = {}) const;

  [[nodiscard]] std::size_t ResearcherCount() const { return researchers_.index.LiveCount(); }
  [[nodiscard]] std::size_t NeedCount() const { return needs_.index.LiveCount(); }
  [[nodiscard]] std::size_t MemoryBytes() const;
  [[nodiscard]] const MatcherOptions& Options() const { return options_; }
  /// For benchmarks and tuning: exact answers (all zero) against bounded work. Not concurrent
  /// with queries.
  void SetSearchLimits(const SearchLimits& limits) { options_.limits = limits; }

 private:
  // Field and region names interned to small ids; 0 means none.
  using Tag = std::uint16_t;
  static constexpr std::size_t kMaxFields = 3;

  struct Side {
    explicit Side(const Analyzer& analyzer, Bm25Params params) : index(analyzer, params) {}
    Index index;
    std::vector<std::int64_t> ids;  // by DocId
    std::vector<std::array<Tag, kMaxFields>> fields;
    std::vector<Tag> regions;
    std::unordered_map<std::int64_t, DocId> docs;

    DocId Put(std::int64_t id, std::span<const WeightedText> texts);
    void Drop(std::int64_t id);
  };

  [[nodiscard]] Tag Intern(const std::string& name);
  [[nodiscard]] Tag Find(const std::string& name) const;
  // A query analysed once: its texts' terms with their ids on one side (by position, for
  // explanations), and the weighted terms.
  struct Prepared {
    std::vector<Analysis> analyses;
    std::vector<std::vector<TermId>> ids;
    std::vector<QueryTerm> query;
  };
  [[nodiscard]] Prepared Prepare(const Side& side, std::span<const WeightedText> texts) const;
  [[nodiscard]] std::vector<Match> Rank(const Side& side, const Prepared& prepared,
                                        const std::array<Tag, kMaxFields>& fields, Tag region, std::size_t k,
                                        const Allow& allow, bool explain = true) const;
  [[nodiscard]] std::vector<std::string> Explain(const Side& side, const Prepared& prepared, DocId doc) const;
  // A query term's weight from its weighted frequency in the query (BM25's k3 saturation).
  [[nodiscard]] float QueryWeight(float frequency) const;

  // The reciprocal step of NeedsFor: each match's score becomes its share of the best direct
  // score plus how the researcher (doc `self`, texts as prepared on the needs side) fits the
  // need from the need's side.
  void Reciprocal(const Prepared& on_needs, std::span<const WeightedText> texts,
                  const std::array<Tag, kMaxFields>& tags, DocId self, std::vector<Match>& matches) const;
  // The score on the researcher side that counts as a full fit for a need: computed when the need
  // is indexed, and again by the first query after the pool has changed by 1%.
  [[nodiscard]] float Yardstick(DocId need_doc) const;
  [[nodiscard]] std::array<WeightedText, 2> NeedTexts(DocId need_doc) const;

  // A synonym group member as analysed text, and the terms searched when another member is
  // found in a query.
  struct SynonymMember {
    std::string text;
    std::size_t group = 0;
    std::vector<std::string> terms;
  };
  void Expand(const Side& side, const Analysis& analysis, float weight,
              std::vector<std::pair<TermId, float>>& bag) const;

  Analyzer analyzer_;
  MatcherOptions options_;
  std::vector<SynonymMember> synonyms_;
  Side researchers_;
  Side needs_;
  std::unordered_map<std::string, Tag> tags_;
  // Need texts by DocId, for yardsticks (needs are few; researchers' texts are not kept).
  std::vector<std::pair<std::string, std::string>> need_texts_;
  // Yardsticks by need DocId: (researcher pool size + 1) << 32 | the float's bits; 0 = none
  // yet. Atomic because concurrent queries fill them; grown only by upserts (exclusive), and a
  // deque so growing never moves an atomic.
  mutable std::deque<std::atomic<std::uint64_t>> yardsticks_;
  std::vector<std::string> tag_names_{""};
};

}  // namespace duijie::matcher
