#include "match_corpus.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "matcher/utf8.hpp"

namespace duijie::bench {
namespace {

// Synthetic keywords: the dev set's ~2,800 spliced pairwise into this many.
constexpr std::size_t kKeywordVocabulary = 300000;

// The code points of a UTF-8 string, as strings.
std::vector<std::string> Chars(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t len = matcher::DecodeUtf8(text, i, cp);
    if (len == 0) len = 1;
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::vector<std::string> SplitClauses(const std::string& text) {
  static const std::set<std::string> kBreaks = {"，", "。", "；", "、", "：", "（", "）"};
  std::vector<std::string> out;
  std::string current;
  std::size_t chars = 0;
  for (const auto& c : Chars(text)) {
    if (kBreaks.contains(c)) {
      if (chars >= 4) out.push_back(current + c);
      current.clear();
      chars = 0;
    } else {
      current += c;
      ++chars;
    }
  }
  if (chars >= 4) out.push_back(current);
  return out;
}

std::string Join(const std::vector<std::string>& chars, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to && i < chars.size(); ++i) out += chars[i];
  return out;
}

}  // namespace

CorpusGenerator::CorpusGenerator(const MatchDataset& seed_data, std::uint64_t seed) : rng_(seed) {
  std::set<std::string> fields;
  std::set<std::string> regions;
  std::vector<std::string> base;
  for (const auto& r : seed_data.researchers) {
    for (const auto& k : r.keywords) base.push_back(k);
    for (auto& c : SplitClauses(r.bio)) bio_clauses_.push_back(std::move(c));
    fields.insert(r.fields.begin(), r.fields.end());
    regions.insert(r.region);
  }
  for (const auto& n : seed_data.needs) {
    for (auto& c : SplitClauses(n.description)) need_clauses_.push_back(std::move(c));
    titles_.push_back(n.title);
    regions.insert(n.region);
  }
  std::sort(base.begin(), base.end());
  base.erase(std::unique(base.begin(), base.end()), base.end());
  // Keep the real keywords first (the most used), then splice heads and tails of two others.
  keywords_ = base;
  std::uniform_int_distribution<std::size_t> any(0, base.size() - 1);
  while (keywords_.size() < kKeywordVocabulary) {
    const auto a = Chars(base[any(rng_)]);
    const auto b = Chars(base[any(rng_)]);
    if (a.size() < 2 || b.size() < 2) continue;
    keywords_.push_back(Join(a, 0, a.size() / 2 + 1) + Join(b, b.size() / 2, b.size()));
  }
  std::shuffle(keywords_.begin() + static_cast<std::ptrdiff_t>(base.size()), keywords_.end(), rng_);
  fields_.assign(fields.begin(), fields.end());
  regions_.assign(regions.begin(), regions.end());
  zipf_cdf_.resize(keywords_.size());
  double total = 0;
  for (std::size_t i = 0; i < keywords_.size(); ++i) {
    total += 1.0 / std::pow(static_cast<double>(i + 1), 0.9);
    zipf_cdf_[i] = total;
  }
  for (double& c : zipf_cdf_) c /= total;
}

std::size_t CorpusGenerator::Zipf() {
  const double u = std::uniform_real_distribution<>(0, 1)(rng_);
  return static_cast<std::size_t>(std::lower_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u) - zipf_cdf_.begin());
}

std::string CorpusGenerator::Keyword() { return keywords_[std::min(Zipf(), keywords_.size() - 1)]; }

std::string CorpusGenerator::Clause(const std::vector<std::string>& pool) {
  std::string clause = pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng_)];
  // Real profiles are each written anew: every clause gets a word swapped for part of a keyword
  // (the Zipf-distributed vocabulary), half of them a second one.
  const int swaps = std::bernoulli_distribution(0.5)(rng_) ? 2 : 1;
  for (int i = 0; i < swaps; ++i) {
    const auto chars = Chars(clause);
    if (chars.size() < 3) break;
    const auto word = Chars(Keyword());
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, chars.size() - 2)(rng_);
    clause = Join(chars, 0, at) + Join(word, 0, 3) + Join(chars, at + 2, chars.size());
  }
  return clause;
}

matcher::Researcher CorpusGenerator::Researcher(std::int64_t id) {
  matcher::Researcher r;
  r.id = id;
  const int fields = std::uniform_int_distribution<>(1, 3)(rng_);
  for (int i = 0; i < fields; ++i) {
    r.fields.push_back(fields_[std::uniform_int_distribution<std::size_t>(0, fields_.size() - 1)(rng_)]);
  }
  for (int i = 0; i < 5; ++i) r.keywords.push_back(Keyword());
  const int clauses = std::uniform_int_distribution<>(3, 5)(rng_);
  for (int i = 0; i < clauses; ++i) r.bio += Clause(bio_clauses_);
  r.region = regions_[std::uniform_int_distribution<std::size_t>(0, regions_.size() - 1)(rng_)];
  r.eligibility = "university_staff";
  return r;
}

matcher::Need CorpusGenerator::Need(std::int64_t id) {
  matcher::Need n;
  n.id = id;
  n.title = Clause(titles_);
  const int clauses = std::uniform_int_distribution<>(4, 7)(rng_);
  for (int i = 0; i < clauses; ++i) n.description += Clause(need_clauses_);
  n.field = fields_[std::uniform_int_distribution<std::size_t>(0, fields_.size() - 1)(rng_)];
  n.region = regions_[std::uniform_int_distribution<std::size_t>(0, regions_.size() - 1)(rng_)];
  return n;
}

}  // namespace duijie::bench
