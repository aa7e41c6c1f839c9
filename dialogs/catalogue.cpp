#include "dialogs/catalogue.hpp"

#include "dialogs/catalogue_embedded.hpp"

namespace duijie::dialogs {

const Catalogue& Catalogue::Embedded() {
  static const Catalogue kEmbedded = [] {
    auto c = FromJson(EmbeddedMessageFiles());
    // The files are checked by a unit test; a broken one here is a build defect.
    if (!c) throw std::logic_error("embedded message catalogue: " + c.error().message);
    return *c;
  }();
  return kEmbedded;
}

Result<Catalogue> Catalogue::FromJson(const std::map<std::string, std::string>& files) {
  Catalogue c;
  for (const auto& [locale, text] : files) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      return Error(Errc::kInvalidArgument, "messages " + locale + ": " + e.what());
    }
    if (!doc.is_object()) return Error(Errc::kInvalidArgument, "messages " + locale + ": expected an object");
    for (const auto& [key, value] : doc.items()) {
      if (!value.is_string()) {
        return Error(Errc::kInvalidArgument, "messages " + locale + ": " + key + " is not a string");
      }
      c.texts_[locale][key] = value.get<std::string>();
    }
  }
  if (c.texts_.find(kDefaultLocale) == c.texts_.end()) {
    return Error(Errc::kInvalidArgument, "messages: no " + std::string(kDefaultLocale) + " catalogue");
  }
  return c;
}

bool Catalogue::Has(std::string_view locale, std::string_view key) const {
  const auto l = texts_.find(locale);
  return l != texts_.end() && l->second.find(key) != l->second.end();
}

std::vector<std::string> Catalogue::Keys(std::string_view locale) const {
  std::vector<std::string> keys;
  if (const auto l = texts_.find(locale); l != texts_.end()) {
    for (const auto& [k, v] : l->second) keys.push_back(k);
  }
  return keys;
}

std::vector<std::string> Catalogue::Locales() const {
  std::vector<std::string> out;
  for (const auto& [locale, texts] : texts_) out.push_back(locale);
  return out;
}

namespace {

// How a parameter reads in a sentence: strings as they are, 10.0 as "10", lists joined with 、.
std::string Render(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d))) return std::to_string(static_cast<long long>(d));
    std::string s = std::to_string(d);
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s;
  }
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) {
      if (!out.empty()) out += "、";
      out += Render(item);
    }
    return out;
  }
  return v.dump();
}

}  // namespace

std::string Catalogue::Text(std::string_view locale, std::string_view key, const nlohmann::json& params) const {
  const std::string* found = nullptr;
  for (const auto loc : {locale, kDefaultLocale}) {
    const auto l = texts_.find(loc);
    if (l == texts_.end()) continue;
    if (const auto k = l->second.find(key); k != l->second.end()) {
      found = &k->second;
      break;
    }
  }
  if (found == nullptr) return std::string(key);
  std::string out;
  out.reserve(found->size());
  for (std::size_t i = 0; i < found->size(); ++i) {
    const char c = (*found)[i];
    const auto close = c == '{' ? found->find('}', i) : std::string::npos;
    if (close != std::string::npos) {
      const std::string name = found->substr(i + 1, close - i - 1);
      if (const auto p = params.find(name); p != params.end()) {
        out += Render(*p);
        i = close;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace duijie::dialogs
