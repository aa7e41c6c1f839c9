#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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
  [[nodiscard]] std::vector<Match> Rank(const Side& side, std::span<const WeightedText> texts,
                                        const std::array<Tag, kMaxFields>& fields, Tag region, std::size_t k,
                                        const Allow& allow) const;
  // A query analysed once: its texts' terms with their ids on one side (by position, for
  // explanations; empty when span_ids is false), and the weighted terms.
  struct Prepared {
    std::vector<Analysis> analyses;
    std::vector<std::vector<TermId>> ids;
    std::vector<QueryTerm> query;
  };
  [[nodiscard]] Prepared Prepare(const Side& side, std::span<const WeightedText> texts, bool span_ids = true) const;
  [[nodiscard]] std::vector<std::string> Explain(const Side& side, const Prepared& prepared, DocId doc) const;

  // A need as a query on the researchers, and the score that counts as a full fit; cached, and
  // the cache dropped as the researcher pool changes.
  struct NeedView {
    std::vector<QueryTerm> query;
    float best = 0;
  };
  [[nodiscard]] std::shared_ptr<const NeedView> ViewOfNeed(DocId need_doc) const;
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
  // Need texts by DocId, for the reciprocal step (needs are few; researchers are not kept).
  std::vector<std::pair<std::string, std::string>> need_texts_;
  mutable std::mutex best_mutex_;
  mutable std::unordered_map<DocId, std::shared_ptr<const NeedView>> need_views_;
  mutable std::size_t best_pool_size_ = 0;
  std::vector<std::string> tag_names_{""};
};

}  // namespace duijie::matcher
