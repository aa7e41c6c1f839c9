#pragma once
// A synthetic matching corpus at national scale for bench/match_speed, grown from the dev set's
// vocabulary: keywords spliced into new ones with a Zipf distribution of use (a few directions
// are common, most are rare), and bios and needs recombined from real clauses with some words
// swapped. Deterministic for a seed.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "match_data.hpp"

namespace duijie::bench {

class CorpusGenerator {
 public:
  CorpusGenerator(const MatchDataset& seed_data, std::uint64_t seed);

  [[nodiscard]] matcher::Researcher Researcher(std::int64_t id);
  [[nodiscard]] matcher::Need Need(std::int64_t id);

 private:
  [[nodiscard]] std::string Keyword();
  [[nodiscard]] std::string Clause(const std::vector<std::string>& pool);
  [[nodiscard]] std::size_t Zipf();

  std::mt19937_64 rng_;
  std::vector<std::string> keywords_;
  std::vector<std::string> bio_clauses_;
  std::vector<std::string> need_clauses_;
  std::vector<std::string> titles_;
  std::vector<std::string> fields_;
  std::vector<std::string> regions_;
  std::vector<double> zipf_cdf_;
};

}  // namespace duijie::bench
