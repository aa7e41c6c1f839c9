#include "matcher/matcher.hpp"

#include <algorithm>
#include <bit>
#include <numeric>
#include <string_view>
#include <utility>

namespace duijie::matcher {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += ' ';
    out += part;
  }
  return out;
}

bool Agree(std::span<const std::uint16_t> a, std::span<const std::uint16_t> b) {
  for (const auto x : a) {
    if (x == 0) continue;
    if (std::find(b.begin(), b.end(), x) != b.end()) return true;
  }
  return false;
}

}  // namespace

Matcher::Matcher(Analyzer analyzer, MatcherOptions options)
    : analyzer_(std::move(analyzer)),
      options_(std::move(options)),
      researchers_(analyzer_, options_.bm25),
      needs_(analyzer_, options_.bm25) {
  for (std::size_t g = 0; g < options_.synonyms.size(); ++g) {
    for (const std::string& word : options_.synonyms[g]) {
      const Analysis analysis = analyzer_.Analyze(word);
      SynonymMember member{analysis.text, g, {}};
      for (const TermSpan& span : analysis.terms) {
        // Bigrams and words carry the meaning; a synonym's single characters would pull in noise.
        if (span.kind != TermKind::kHanUnigram) member.terms.emplace_back(analysis.Term(span));
      }
      if (!member.text.empty()) synonyms_.push_back(std::move(member));
    }
  }
}

void Matcher::Expand(const Side& side, const Analysis& analysis, float weight,
                     std::vector<std::pair<TermId, float>>& bag) const {
  std::vector<std::size_t> groups;
  for (const SynonymMember& member : synonyms_) {
    if (analysis.text.find(member.text) != std::string::npos) groups.push_back(member.group);
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  for (const SynonymMember& member : synonyms_) {
    if (!std::binary_search(groups.begin(), groups.end(), member.group)) continue;
    if (analysis.text.find(member.text) != std::string::npos) continue;
    for (const std::string& term : member.terms) {
      const TermId id = side.index.Lookup(term);
      if (id != kNoTerm) bag.emplace_back(id, weight);
    }
  }
}

DocId Matcher::Side::Put(std::int64_t id, std::span<const WeightedText> texts) {
  Drop(id);
  const DocId doc = index.Add(texts);
  ids.push_back(id);
  fields.emplace_back();
  regions.push_back(0);
  docs[id] = doc;
  return doc;
}

void Matcher::Side::Drop(std::int64_t id) {
  const auto it = docs.find(id);
  if (it == docs.end()) return;
  index.Remove(it->second);
  docs.erase(it);
  // Compaction pays once a tenth of the postings belong to removed profiles.
  if (index.DocCount() - index.LiveCount() > index.DocCount() / 10 + 1000) index.Compact();
}

Matcher::Tag Matcher::Intern(const std::string& name) {
  if (name.empty()) return 0;
  const auto it = tags_.find(name);
  if (it != tags_.end()) return it->second;
  const auto tag = static_cast<Tag>(tag_names_.size());
  if (tag == 0) return 0;  // 65,535 distinct names: the rest get no boost rather than a wrong one
  tags_.emplace(name, tag);
  tag_names_.push_back(name);
  return tag;
}

Matcher::Tag Matcher::Find(const std::string& name) const {
  const auto it = tags_.find(name);
  return it == tags_.end() ? 0 : it->second;
}

void Matcher::Upsert(const Researcher& researcher) {
  const std::string keywords = Join(researcher.keywords);
  const std::array<WeightedText, 2> texts{WeightedText{keywords, options_.keyword_weight},
                                          WeightedText{researcher.bio, options_.bio_weight}};
  const DocId doc = researchers_.Put(researcher.id, texts);
  std::array<Tag, kMaxFields> tags{};
  for (std::size_t i = 0; i < researcher.fields.size() && i < kMaxFields; ++i) {
    tags[i] = Intern(researcher.fields[i]);
  }
  researchers_.fields[doc] = tags;
  researchers_.regions[doc] = Intern(researcher.region);
}

void Matcher::Upsert(const Need& need) {
  RemoveNeed(need.id);
  const std::array<WeightedText, 2> texts{WeightedText{need.title, options_.title_weight},
                                          WeightedText{need.description, options_.description_weight}};
  const DocId doc = needs_.Put(need.id, texts);
  needs_.fields[doc] = {Intern(need.field), 0, 0};
  need_texts_.resize(doc + 1);
  need_texts_[doc] = {need.title, need.description};
  // Documents are never reused: a new one starts without a yardstick.
  while (yardsticks_.size() <= doc) yardsticks_.emplace_back(0);
  needs_.regions[doc] = Intern(need.region);
  // Now rather than in the first queries: a yardstick analyses the need's text and looks its
  // terms up in the researcher dictionary, which would be most of a researcher's query.
  (void)Yardstick(doc);
}

void Matcher::RemoveResearcher(std::int64_t id) { researchers_.Drop(id); }
void Matcher::RemoveNeed(std::int64_t id) {
  const auto it = needs_.docs.find(id);
  if (it != needs_.docs.end()) {
    need_texts_[it->second] = {};
  }
  needs_.Drop(id);
}

std::vector<Match> Matcher::ResearchersFor(const Need& need, std::size_t k, const Allow& allow) const {
  const std::array<WeightedText, 2> texts{WeightedText{need.title, options_.title_weight},
                                          WeightedText{need.description, options_.description_weight}};
  return Rank(researchers_, Prepare(researchers_, texts), {Find(need.field), 0, 0}, Find(need.region), k, allow);
}

std::vector<Match> Matcher::NeedsFor(const Researcher& researcher, std::size_t k, const Allow& allow) const {
  const std::string keywords = Join(researcher.keywords);
  const std::array<WeightedText, 2> texts{WeightedText{keywords, options_.keyword_weight},
                                          WeightedText{researcher.bio, options_.bio_weight}};
  std::array<Tag, kMaxFields> tags{};
  for (std::size_t i = 0; i < researcher.fields.size() && i < kMaxFields; ++i) {
    tags[i] = Find(researcher.fields[i]);
  }
  const Prepared prepared = Prepare(needs_, texts);
  const auto self = researchers_.docs.find(researcher.id);
  if (options_.reciprocal_weight <= 0 || self == researchers_.docs.end()) {
    return Rank(needs_, prepared, tags, Find(researcher.region), k, allow);
  }
  // Reciprocal: re-rank the best needs by how this researcher ranks among all researchers for
  // each of them. Only for a researcher in the pool: the other side's view needs their profile.
  // Explained after the re-ranking: only the k kept need it, and each is a probe per term.
  std::vector<Match> matches = Rank(needs_, prepared, tags, Find(researcher.region),
                                    std::max(k, options_.reciprocal_depth), allow, /*explain=*/false);
  if (matches.empty()) return matches;
  Reciprocal(prepared, texts, tags, self->second, matches);
  std::stable_sort(matches.begin(), matches.end(), [](const Match& x, const Match& y) { return x.score > y.score; });
  if (matches.size() > k) matches.resize(k);
  for (Match& match : matches) match.terms = Explain(needs_, prepared, needs_.docs.at(match.id));
  return matches;
}

void Matcher::Reciprocal(const Prepared& on_needs, std::span<const WeightedText> texts,
                         const std::array<Tag, kMaxFields>& tags, DocId self, std::vector<Match>& matches) const {
  // How the researcher fits a need from the need's side is the need's query scored against the
  // researcher: the sum, over the terms both share, of the term's weight in the need times its
  // BM25 contribution in the researcher's profile. Taken from the researcher's terms, the need's
  // weights come from the needs index's frequencies, so the need's text is never analysed
  // again and its terms never looked up in the researcher dictionary (a national pool's
  // dictionary: a cache miss or two per lookup, hundreds of terms per need). Synonyms, when
  // configured, count in the direct step only.
  struct Shared {
    TermId on_needs;
    std::uint32_t frequency;  // in the researcher's profile, field weights applied
    std::string_view text;
  };
  std::vector<Shared> shared;
  for (std::size_t field = 0; field < on_needs.analyses.size(); ++field) {
    const Analysis& analysis = on_needs.analyses[field];
    for (std::size_t i = 0; i < analysis.terms.size(); ++i) {
      const TermId id = on_needs.ids[field][i];
      if (id != kNoTerm) shared.push_back({id, texts[field].weight, analysis.Term(analysis.terms[i])});
    }
  }
  std::sort(shared.begin(), shared.end(), [](const Shared& x, const Shared& y) { return x.on_needs < y.on_needs; });
  std::vector<TermId> terms;
  std::vector<float> contributions;
  const std::uint32_t own_length = researchers_.index.Length(self);
  for (std::size_t at = 0; at < shared.size();) {
    std::uint32_t frequency = 0;
    std::size_t end = at;
    for (; end < shared.size() && shared[end].on_needs == shared[at].on_needs; ++end)
      frequency += shared[end].frequency;
    terms.push_back(shared[at].on_needs);
    contributions.push_back(
        researchers_.index.Contribution(researchers_.index.Lookup(shared[at].text), frequency, own_length));
    at = end;
  }
  std::vector<DocId> docs;
  docs.reserve(matches.size());
  for (const Match& match : matches) docs.push_back(needs_.docs.at(match.id));
  std::vector<std::size_t> order(docs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&docs](std::size_t x, std::size_t y) { return docs[x] < docs[y]; });
  std::vector<DocId> ascending(docs.size());
  for (std::size_t i = 0; i < order.size(); ++i) ascending[i] = docs[order[i]];
  std::vector<std::uint8_t> frequencies(terms.size() * docs.size());
  needs_.index.Frequencies(terms, ascending, frequencies);
  std::vector<float> pairs(docs.size(), 0);
  for (std::size_t t = 0; t < terms.size(); ++t) {
    const std::uint8_t* row = frequencies.data() + t * docs.size();
    for (std::size_t d = 0; d < docs.size(); ++d) {
      if (row[d] != 0) pairs[order[d]] += QueryWeight(row[d]) * contributions[t];
    }
  }
  const float best_direct = matches.front().score;
  for (std::size_t i = 0; i < matches.size(); ++i) {
    float pair = pairs[i];
    if (Agree(tags, needs_.fields[docs[i]])) pair *= 1 + options_.field_boost;
    const float best = Yardstick(docs[i]);
    matches[i].score =
        matches[i].score / best_direct + options_.reciprocal_weight * (best > 0 ? std::min(pair / best, 1.0F) : 0);
  }
}

std::array<WeightedText, 2> Matcher::NeedTexts(DocId need_doc) const {
  const auto& [title, description] = need_texts_[need_doc];
  return {WeightedText{title, options_.title_weight}, WeightedText{description, options_.description_weight}};
}

float Matcher::Yardstick(DocId need_doc) const {
  const std::size_t pool = researchers_.index.LiveCount();
  std::atomic<std::uint64_t>& cached = yardsticks_.at(need_doc);
  const std::uint64_t entry = cached.load(std::memory_order_relaxed);
  if (entry != 0) {
    // Scores drift as the pool changes; within 1% the yardstick stands.
    const std::size_t then = (entry >> 32) - 1;
    const std::size_t slack = then / 100;
    if (pool <= then + slack && pool + slack >= then) return std::bit_cast<float>(static_cast<std::uint32_t>(entry));
  }
  // The best researcher's score would be the natural yardstick, but finding it is a search over
  // the whole pool per need; on the dev set the best scores sit near this share of the need's
  // query's total weight (docs/BENCHMARKS.md: 0.923 against 0.931 with the exact best).
  constexpr float kTypicalBestShare = 0.3F;
  // Each distinct term looked up once: a description repeats most of its characters.
  Analysis analysis;
  std::vector<std::string_view> distinct;
  std::vector<std::pair<TermId, float>> bag;
  for (const WeightedText& text : NeedTexts(need_doc)) {
    analyzer_.Analyze(text.text, analysis);
    distinct.clear();
    for (const TermSpan& span : analysis.terms) distinct.push_back(analysis.Term(span));
    std::sort(distinct.begin(), distinct.end());
    for (std::size_t at = 0; at < distinct.size();) {
      std::size_t end = at + 1;
      while (end < distinct.size() && distinct[end] == distinct[at]) ++end;
      const TermId id = researchers_.index.Lookup(distinct[at]);
      if (id != kNoTerm) bag.emplace_back(id, static_cast<float>(text.weight) * static_cast<float>(end - at));
      at = end;
    }
  }
  MergeTerms(bag);
  float weight = 0;
  for (const auto& [id, frequency] : bag) weight += QueryWeight(frequency) * researchers_.index.Idf(id);
  const float yardstick = kTypicalBestShare * weight;
  cached.store((static_cast<std::uint64_t>(pool) + 1) << 32 | std::bit_cast<std::uint32_t>(yardstick),
               std::memory_order_relaxed);
  return yardstick;
}

float Matcher::QueryWeight(float frequency) const {
  const float k3 = options_.query_k3;
  return k3 > 0 ? (k3 + 1) * frequency / (k3 + frequency) : frequency;
}

Matcher::Prepared Matcher::Prepare(const Side& side, std::span<const WeightedText> texts) const {
  Prepared prepared;
  prepared.analyses.resize(texts.size());
  prepared.ids.resize(texts.size());
  std::vector<std::pair<TermId, float>> bag;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    analyzer_.Analyze(texts[i].text, prepared.analyses[i]);
    const Analysis& analysis = prepared.analyses[i];
    const auto weight = static_cast<float>(texts[i].weight);
    std::vector<TermId>& ids = prepared.ids[i];
    ids.reserve(analysis.terms.size());
    for (const TermSpan& span : analysis.terms) {
      const TermId id = side.index.Lookup(analysis.Term(span));
      ids.push_back(id);
      if (id != kNoTerm) bag.emplace_back(id, weight);
    }
    if (!synonyms_.empty()) {
      Expand(side, analysis, options_.synonym_weight * static_cast<float>(texts[i].weight), bag);
    }
  }
  MergeTerms(bag);
  prepared.query.reserve(bag.size());
  for (const auto& [id, frequency] : bag) prepared.query.push_back({id, QueryWeight(frequency)});
  return prepared;
}

std::vector<Match> Matcher::Rank(const Side& side, const Prepared& prepared, const std::array<Tag, kMaxFields>& fields,
                                 Tag region, std::size_t k, const Allow& allow, bool explain) const {
  const std::vector<QueryTerm>& query = prepared.query;
  const float field_factor = 1 + options_.field_boost;
  const float region_factor = 1 + options_.region_boost;
  const DocFactor factor = [&](DocId doc) {
    float f = 1;
    if (allow) {
      f = std::min(allow(side.ids[doc]), 1.0F);
      if (f <= 0) return 0.0F;
    }
    if (Agree(fields, side.fields[doc])) f *= field_factor;
    if (region != 0 && side.regions[doc] == region) f *= region_factor;
    return f;
  };
  const std::vector<Hit> hits = side.index.Search(query, k, factor, field_factor * region_factor, options_.limits);
  std::vector<Match> matches;
  matches.reserve(hits.size());
  for (const Hit& hit : hits) {
    Match match{
        side.ids[hit.doc], hit.score, explain ? Explain(side, prepared, hit.doc) : std::vector<std::string>{}, {}};
    for (const Tag tag : side.fields[hit.doc]) {
      if (tag != 0 && std::find(fields.begin(), fields.end(), tag) != fields.end()) {
        match.shared_field = tag_names_[tag];
        break;
      }
    }
    matches.push_back(std::move(match));
  }
  return matches;
}

std::vector<std::string> Matcher::Explain(const Side& side, const Prepared& prepared, DocId doc) const {
  // The query's phrases the document shares: runs of adjacent matched bigrams joined ("锂电池
  // 电解液" from 锂电, 电池, 池电 …), and whole Latin words and numbers, by their BM25 weight.
  std::vector<std::pair<std::string, float>> phrases;
  for (std::size_t field = 0; field < prepared.analyses.size(); ++field) {
    const Analysis& analysis = prepared.analyses[field];
    std::size_t chain_begin = 0;
    std::size_t chain_end = 0;
    std::uint32_t chain_last = 0;
    float chain_score = 0;
    bool in_chain = false;
    auto close_chain = [&] {
      if (in_chain) phrases.emplace_back(analysis.text.substr(chain_begin, chain_end - chain_begin), chain_score);
      in_chain = false;
    };
    for (std::size_t i = 0; i < analysis.terms.size(); ++i) {
      const TermSpan& span = analysis.terms[i];
      if (span.kind == TermKind::kHanUnigram) continue;
      const TermId id = prepared.ids[field][i];
      const float s = id == kNoTerm ? 0 : side.index.TermScore({id, 1}, doc);
      if (span.kind == TermKind::kWord) {
        close_chain();
        if (s > 0) phrases.emplace_back(std::string(analysis.Term(span)), s);
        continue;
      }
      if (s <= 0) {
        close_chain();
        continue;
      }
      if (in_chain && span.han_position == chain_last + 1) {
        chain_end = span.begin + span.size;
        chain_score += s;
      } else {
        close_chain();
        in_chain = true;
        chain_begin = span.begin;
        chain_end = span.begin + span.size;
        chain_score = s;
      }
      chain_last = span.han_position;
    }
    close_chain();
  }
  std::sort(phrases.begin(), phrases.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  std::vector<std::string> out;
  for (const auto& candidate : phrases) {
    if (out.size() >= options_.explain_terms) break;
    const std::string& phrase = candidate.first;
    const bool covered = std::any_of(out.begin(), out.end(), [&phrase](const std::string& kept) {
      return kept.find(phrase) != std::string::npos || phrase.find(kept) != std::string::npos;
    });
    if (!covered) out.push_back(phrase);
  }
  return out;
}

std::size_t Matcher::MemoryBytes() const {
  std::size_t bytes = researchers_.index.MemoryBytes() + needs_.index.MemoryBytes();
  for (const Side* side : {&researchers_, &needs_}) {
    bytes += side->ids.capacity() * sizeof(std::int64_t) + side->fields.capacity() * sizeof(side->fields[0]) +
             side->regions.capacity() * sizeof(Tag) + side->docs.size() * 32;
  }
  return bytes;
}

}  // namespace duijie::matcher
