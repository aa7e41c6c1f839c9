#pragma once
// The matching data sets of bench/match_quality and the matcher's quality test, in the format of
// tests/data/matching-dev (needs.jsonl, researchers.jsonl, qrels.tsv).
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "matcher/evaluation.hpp"
#include "matcher/matcher.hpp"

namespace duijie::bench {

struct MatchDataset {
  std::vector<matcher::Need> needs;              // ids 1..n in file order
  std::vector<matcher::Researcher> researchers;  // ids 1..n in file order
  std::vector<std::string> need_names;           // by id − 1: "N0001"
  std::vector<std::string> researcher_names;
  /// Judged researchers per need, and the same labels read the other way.
  std::unordered_map<std::int64_t, matcher::Judgements> researchers_for_need;
  std::unordered_map<std::int64_t, matcher::Judgements> needs_for_researcher;
};

/// Throws std::runtime_error naming the file and line of anything malformed.
[[nodiscard]] MatchDataset LoadMatchDataset(const std::filesystem::path& dir);

/// All of a record's text in one string, for the baselines that index plain text: the need's
/// field, title and description; the researcher's fields, keywords and bio.
[[nodiscard]] std::string PlainText(const matcher::Need& need);
[[nodiscard]] std::string PlainText(const matcher::Researcher& researcher);

/// The query SQLite FTS5's trigram tokenizer answers for a whole text: every distinct
/// three-character window without white space or quotes, quoted, OR-ed together.
[[nodiscard]] std::string Fts5TrigramQuery(const std::string& text);

}  // namespace duijie::bench
