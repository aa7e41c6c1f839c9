#include "match_data.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "matcher/utf8.hpp"

namespace duijie::bench {
namespace {

std::vector<std::string> Strings(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& item : value) out.push_back(item.get<std::string>());
  }
  return out;
}

template <typename Fn>
void ForEachJsonLine(const std::filesystem::path& path, Fn&& fn) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      fn(nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": " + e.what());
    }
  }
}

}  // namespace

MatchDataset LoadMatchDataset(const std::filesystem::path& dir) {
  MatchDataset data;
  std::unordered_map<std::string, std::int64_t> need_ids;
  std::unordered_map<std::string, std::int64_t> researcher_ids;
  ForEachJsonLine(dir / "needs.jsonl", [&](const nlohmann::json& j) {
    matcher::Need need;
    need.id = static_cast<std::int64_t>(data.needs.size()) + 1;
    need.title = j.at("title").get<std::string>();
    need.description = j.at("description").get<std::string>();
    need.field = j.value("field", "");
    need.region = j.value("region", "");
    const auto name = j.at("id").get<std::string>();
    if (!need_ids.emplace(name, need.id).second) throw std::runtime_error("duplicate need " + name);
    data.need_names.push_back(name);
    data.needs.push_back(std::move(need));
  });
  ForEachJsonLine(dir / "researchers.jsonl", [&](const nlohmann::json& j) {
    matcher::Researcher r;
    r.id = static_cast<std::int64_t>(data.researchers.size()) + 1;
    r.fields = Strings(j.value("fields", nlohmann::json::array()));
    r.keywords = Strings(j.value("keywords", nlohmann::json::array()));
    r.bio = j.value("bio", "");
    r.region = j.value("region", "");
    r.eligibility = j.value("eligibility", "");
    const auto name = j.at("id").get<std::string>();
    if (!researcher_ids.emplace(name, r.id).second) {
      throw std::runtime_error("duplicate researcher " + name);
    }
    data.researcher_names.push_back(name);
    data.researchers.push_back(std::move(r));
  });
  const auto qrels = dir / "qrels.tsv";
  std::ifstream in(qrels);
  if (!in) throw std::runtime_error("cannot read " + qrels.string());
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::string need;
    std::string researcher;
    int grade = -1;
    if (!(fields >> need >> researcher >> grade) || grade < 0 || !need_ids.contains(need) ||
        !researcher_ids.contains(researcher)) {
      throw std::runtime_error(qrels.string() + ":" + std::to_string(number) +
                               ": expected a known need id, a known researcher id and a grade");
    }
    data.researchers_for_need[need_ids[need]][researcher_ids[researcher]] = grade;
    data.needs_for_researcher[researcher_ids[researcher]][need_ids[need]] = grade;
  }
  return data;
}

std::string PlainText(const matcher::Need& need) { return need.field + " " + need.title + " " + need.description; }

std::string PlainText(const matcher::Researcher& researcher) {
  std::string text;
  for (const auto& f : researcher.fields) text += f + " ";
  for (const auto& k : researcher.keywords) text += k + " ";
  return text + researcher.bio;
}

std::string Fts5TrigramQuery(const std::string& text) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t len = matcher::DecodeUtf8(text, i, cp);
    starts.push_back(i);
    i += len == 0 ? 1 : len;
  }
  starts.push_back(text.size());
  std::set<std::string> grams;
  for (std::size_t i = 0; i + 3 < starts.size(); ++i) {
    std::string gram = text.substr(starts[i], starts[i + 3] - starts[i]);
    if (gram.find_first_of(" \t\r\n\"") != std::string::npos) continue;
    grams.insert(std::move(gram));
  }
  std::string query;
  for (const auto& g : grams) {
    if (!query.empty()) query += " OR ";
    query += "\"" + g + "\"";
  }
  return query;
}

}  // namespace duijie::bench
