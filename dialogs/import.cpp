#include "dialogs/import.hpp"

#include <map>
#include <optional>
#include <set>

#include "common/csv.hpp"
#include "dialogs/validate.hpp"
#include "store/transitions.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

struct Column {
  const char* key;
  std::vector<std::string> names;  // as a file may head it
  bool required;
};

const std::vector<Column>& Columns() {
  static const std::vector<Column> kColumns = {
      {"name", {"姓名", "name"}, true},
      {"mobile", {"手机", "手机号", "mobile"}, false},
      {"email", {"邮箱", "电子邮箱", "email"}, false},
      {"unit", {"单位", "工作单位", "unit"}, false},
      {"title", {"职称", "title"}, false},
      {"eligibility", {"人员类型", "类型", "eligibility"}, true},
      {"fields", {"领域", "专业领域", "fields"}, true},
      {"keywords", {"关键词", "keywords"}, false},
      {"bio", {"简介", "个人简介", "bio"}, false},
      {"region", {"地区", "所在地区", "region"}, false},
  };
  return kColumns;
}

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

struct Row {
  std::size_t number = 0;
  std::string name;
  std::optional<std::string> mobile;
  std::optional<std::string> email;
  std::string unit;
  std::string title;
  std::string eligibility;
  json fields;
  json keywords = json::array();
  std::string bio;
  std::string region;
};

bool Taken(store::Connection& c, const char* kind, const std::string& address) {
  auto& q = c.Prepare("SELECT 1 FROM identities WHERE kind = ? AND address = ?");
  q.bind(1, kind);
  q.bind(2, address);
  const bool taken = q.executeStep();
  q.reset();
  return taken;
}

std::int64_t UnitId(store::Connection& c, const std::string& name, std::int64_t now_ms) {
  auto& find = c.Prepare("SELECT id FROM units WHERE name = ?");
  find.bind(1, name);
  if (find.executeStep()) {
    const auto id = find.getColumn(0).getInt64();
    find.reset();
    return id;
  }
  find.reset();
  const bool university = name.find("大学") != std::string::npos || name.find("学院") != std::string::npos;
  const bool institute = name.find("研究所") != std::string::npos || name.find("研究院") != std::string::npos ||
                         name.find("科学院") != std::string::npos;
  auto& ins = c.Prepare("INSERT INTO units (name, kind, created_at) VALUES (?, ?, ?)");
  ins.bind(1, name);
  ins.bind(2, university ? "university" : institute ? "institute" : "other");
  ins.bind(3, now_ms);
  ins.exec();
  ins.reset();
  return c.Db().getLastInsertRowid();
}

}  // namespace

ImportReport ImportResearchers(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                               std::string_view csv, const ImportOptions& options, Clock::TimePoint now) {
  ImportReport report;
  auto table = ParseCsv(csv);
  if (!table) {
    report.file_error = table.error().message;
    return report;
  }
  if (table->empty()) {
    report.file_error = "the file is empty: the first row names the columns";
    return report;
  }
  // Which column is which, by the header.
  const auto& header = table->front();
  std::map<std::string, std::size_t> at;
  std::map<std::string, std::string> heading;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string h = Trim(header[i]);
    bool known = false;
    for (const auto& col : Columns()) {
      for (const auto& n : col.names) {
        if (h == n) {
          at[col.key] = i;
          heading[col.key] = h;
          known = true;
        }
      }
    }
    if (!known && !h.empty()) {
      report.file_error = "column '" + h + "' is not one of 姓名 手机 邮箱 单位 职称 人员类型 领域 关键词 简介 地区";
      return report;
    }
  }
  for (const auto& col : Columns()) {
    if (col.required && !at.contains(col.key)) {
      report.file_error = "the column " + col.names[0] + " (" + col.key + ") is missing";
      return report;
    }
  }
  if (!at.contains("mobile") && !at.contains("email")) {
    report.file_error = "the file needs a 手机 (mobile) or a 邮箱 (email) column";
    return report;
  }
  const auto total = table->size() - 1;
  report.rows = total;
  const auto problem = [&](std::size_t row, const char* key, const Parsed& p) {
    report.problems.push_back(
        {row, heading.count(key) != 0U ? heading[key] : key, catalogue.Text(options.locale, p.error, p.params)});
  };
  std::vector<Row> good;
  good.reserve(total);
  std::set<std::string> seen_mobiles;
  std::set<std::string> seen_emails;
  for (std::size_t r = 1; r <= total; ++r) {
    const auto& cells = (*table)[r];
    const auto cell = [&cells, &at](const char* key) {
      const auto it = at.find(key);
      return it == at.end() || it->second >= cells.size() ? std::string() : Trim(cells[it->second]);
    };
    const std::size_t before = report.problems.size();
    Row row;
    row.number = r;
    if (const auto p = ParseText(cell("name"), 2, 30); p.Ok()) {
      row.name = p.value->get<std::string>();
    } else {
      problem(r, "name", p);
    }
    if (const std::string m = cell("mobile"); !m.empty()) {
      const auto p = ParseMobile(m);
      if (!p.Ok()) {
        problem(r, "mobile", p);
      } else if (const auto number = p.value->get<std::string>();
                 !seen_mobiles.insert(number).second || Taken(c, "mobile", number)) {
        problem(r, "mobile", Parsed::Error("import.mobile_taken"));
      } else {
        row.mobile = number;
      }
    }
    if (const std::string e = cell("email"); !e.empty()) {
      const auto p = ParseEmail(e);
      if (!p.Ok()) {
        problem(r, "email", p);
      } else if (const auto address = p.value->get<std::string>();
                 !seen_emails.insert(address).second || Taken(c, "email", address)) {
        problem(r, "email", Parsed::Error("import.email_taken"));
      } else {
        row.email = address;
      }
    }
    if (cell("mobile").empty() && cell("email").empty()) {
      problem(r, at.contains("mobile") ? "mobile" : "email", Parsed::Error("import.no_address"));
    }
    if (const auto p = ParseChoice(cell("eligibility"), programme.EligibilityChoices()); !p.Ok()) {
      problem(r, "eligibility", p);
    } else if (const auto* type = programme.FindEligibility(p.value->get<std::string>()); type && !type->eligible) {
      problem(r, "eligibility", Parsed::Error("import.not_eligible", {{"rule", type->rule}}));
    } else {
      row.eligibility = p.value->get<std::string>();
    }
    if (const auto p = ParseChoices(cell("fields"), programme.fields, 1, programme.max_fields); p.Ok()) {
      row.fields = *p.value;
    } else {
      problem(r, "fields", p);
    }
    if (const std::string region = cell("region"); !region.empty()) {
      if (const auto p = ParseChoice(region, programme.regions); p.Ok()) {
        row.region = p.value->get<std::string>();
      } else {
        problem(r, "region", p);
      }
    }
    if (const std::string bio = cell("bio"); !bio.empty()) {
      if (const auto p = ParseText(bio, 1, 500); p.Ok()) {
        row.bio = p.value->get<std::string>();
      } else {
        problem(r, "bio", p);
      }
    }
    row.unit = cell("unit");
    row.title = cell("title");
    std::string word;
    for (const char ch : cell("keywords") + ";") {
      if (ch == ';' || ch == ',') {
        if (!Trim(word).empty()) row.keywords.push_back(Trim(word));
        word.clear();
      } else {
        word += ch;
      }
    }
    if (report.problems.size() == before) good.push_back(std::move(row));
    if (options.progress && (r % 500 == 0 || r == total)) options.progress("checking", r, total);
  }
  if (options.dry_run || (!report.problems.empty() && !options.partial)) return report;

  const std::int64_t now_ms = ToUnixMillis(now);
  std::size_t done = 0;
  for (const auto& row : good) {
    auto& person = c.Prepare(
        "INSERT INTO people (display_name, role, status, created_at, updated_at) VALUES (?, 'researcher', 'verified', "
        "?, ?)");
    person.bind(1, row.name);
    person.bind(2, now_ms);
    person.bind(3, now_ms);
    person.exec();
    person.reset();
    const std::int64_t id = c.Db().getLastInsertRowid();
    auto& identity = c.Prepare(
        "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (?, ?, ?, 'unverified', ?)");
    for (const auto& [kind, address] : {std::pair{"mobile", row.mobile}, std::pair{"email", row.email}}) {
      if (!address) continue;
      identity.bind(1, id);
      identity.bind(2, kind);
      identity.bind(3, *address);
      identity.bind(4, now_ms);
      identity.exec();
      identity.reset();
    }
    auto& researcher = c.Prepare(
        "INSERT INTO researchers (person_id, unit_id, title, eligibility, fields, keywords, bio, region, status, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'verified', ?, ?)");
    researcher.bind(1, id);
    if (row.unit.empty()) {
      researcher.bind(2);
    } else {
      researcher.bind(2, UnitId(c, row.unit, now_ms));
    }
    row.title.empty() ? researcher.bind(3) : researcher.bind(3, row.title);
    researcher.bind(4, row.eligibility);
    researcher.bind(5, row.fields.dump());
    researcher.bind(6, row.keywords.dump());
    researcher.bind(7, row.bio);
    row.region.empty() ? researcher.bind(8) : researcher.bind(8, row.region);
    researcher.bind(9, now_ms);
    researcher.bind(10, now_ms);
    researcher.exec();
    researcher.reset();
    store::RecordTransition(c, {"person", id, std::nullopt, "verified", std::nullopt, "cli", "imported", now_ms});
    ++report.imported;
    if (options.progress && (++done % 500 == 0 || done == good.size()))
      options.progress("importing", done, good.size());
  }
  return report;
}

}  // namespace duijie::dialogs
