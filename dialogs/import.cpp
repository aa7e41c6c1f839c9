#include "dialogs/import.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "common/csv.hpp"
#include "dialogs/conversations.hpp"
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

const std::vector<Column>& ResearcherColumns() {
  static const std::vector<Column> kColumns = {
      {"name", {"姓名", "name"}, true},
      {"mobile", {"手机", "手机号", "mobile"}, false},
      {"email", {"邮箱", "电子邮箱", "email"}, false},
      {"wecom", {"企业微信", "企业微信账号", "wecom_userid"}, false},
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

const std::vector<Column>& EnterpriseColumns() {
  static const std::vector<Column> kColumns = {
      {"name", {"企业名称", "名称", "name"}, true},
      {"credit_code", {"统一社会信用代码", "信用代码", "credit_code"}, true},
      {"region", {"地区", "所在地区", "region"}, true},
      {"industry", {"行业", "行业领域", "领域", "industry"}, true},
      {"sme_number", {"入库编号", "科技型中小企业入库编号", "sme_number"}, false},
      {"contact", {"联系人", "contact"}, true},
      {"mobile", {"手机", "手机号", "联系电话", "mobile"}, false},
      {"email", {"邮箱", "电子邮箱", "email"}, false},
      {"wecom", {"企业微信", "企业微信账号", "wecom_userid"}, false},
  };
  return kColumns;
}

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Where a person is reached: any of these, at least one.
struct Contact {
  std::optional<std::string> mobile;
  std::optional<std::string> email;
  std::optional<std::string> wecom;  // a member of the operator's WeCom corp (UserID)
};

struct Row {
  std::size_t number = 0;
  std::string name;
  Contact contact;
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

bool CodeTaken(store::Connection& c, const std::string& credit_code) {
  auto& q = c.Prepare("SELECT 1 FROM enterprises WHERE credit_code = ?");
  q.bind(1, credit_code);
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

// Reads a row's cells by column key ("" for a column the file lacks or a short row).
using Cell = std::function<std::string(const char*)>;
// Records a problem of the current row in a column.
using Problem = std::function<void(const char*, const Parsed&)>;

// WeCom's rule for a member's UserID: 1-64 bytes of letters, digits and _-@., starting with a
// letter or digit.
bool IsWeComUserId(const std::string& id) {
  if (id.empty() || id.size() > 64 || std::isalnum(static_cast<unsigned char>(id[0])) == 0) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-' || ch == '@' || ch == '.';
  });
}

// The mobile, email and WeCom UserID of each row: parsed, at least one, and not someone else's
// already — in the store or earlier in the file.
class RowAddresses {
 public:
  // `column`: where a row without any address gets its problem (the first address column the file has).
  void Read(store::Connection& c, const Cell& cell, const Problem& problem, const char* column, Contact& out) {
    if (const std::string m = cell("mobile"); !m.empty()) {
      const auto p = ParseMobile(m);
      if (!p.Ok()) {
        problem("mobile", p);
      } else if (const auto number = p.value->get<std::string>();
                 !mobiles_.insert(number).second || Taken(c, "mobile", number)) {
        problem("mobile", Parsed::Error("import.mobile_taken"));
      } else {
        out.mobile = number;
      }
    }
    if (const std::string e = cell("email"); !e.empty()) {
      const auto p = ParseEmail(e);
      if (!p.Ok()) {
        problem("email", p);
      } else if (const auto address = p.value->get<std::string>();
                 !emails_.insert(address).second || Taken(c, "email", address)) {
        problem("email", Parsed::Error("import.email_taken"));
      } else {
        out.email = address;
      }
    }
    if (const std::string w = cell("wecom"); !w.empty()) {
      if (!IsWeComUserId(w)) {
        problem("wecom", Parsed::Error("import.wecom_invalid"));
      } else if (!wecoms_.insert(w).second || Taken(c, "wecom_userid", w)) {
        problem("wecom", Parsed::Error("import.wecom_taken"));
      } else {
        out.wecom = w;
      }
    }
    if (cell("mobile").empty() && cell("email").empty() && cell("wecom").empty()) {
      problem(column, Parsed::Error("import.no_address"));
    }
  }

 private:
  std::set<std::string> mobiles_;
  std::set<std::string> emails_;
  std::set<std::string> wecoms_;
};

// A verified person of `role` (staff vouch for them) with unverified addresses (nobody vouches
// for those until the person answers), and the transition that says so.
std::int64_t InsertPerson(store::Connection& c, const std::string& name, const char* role, const Contact& contact,
                          std::int64_t now_ms) {
  auto& person = c.Prepare(
      "INSERT INTO people (display_name, role, status, created_at, updated_at) VALUES (?, ?, 'verified', ?, ?)");
  person.bind(1, name);
  person.bind(2, role);
  person.bind(3, now_ms);
  person.bind(4, now_ms);
  person.exec();
  person.reset();
  const std::int64_t id = c.Db().getLastInsertRowid();
  auto& identity = c.Prepare(
      "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (?, ?, ?, 'unverified', ?)");
  for (const auto& [kind, address] : {std::pair{"mobile", &contact.mobile}, std::pair{"email", &contact.email},
                                      std::pair{"wecom_userid", &contact.wecom}}) {
    if (!*address) continue;
    identity.bind(1, id);
    identity.bind(2, kind);
    identity.bind(3, **address);
    identity.bind(4, now_ms);
    identity.exec();
    identity.reset();
  }
  store::RecordTransition(c, {"person", id, std::nullopt, "verified", std::nullopt, "cli", "imported", now_ms});
  return id;
}

// A CSV file whose header names its columns (in any order, by any of their names).
struct Sheet {
  std::vector<std::vector<std::string>> table;
  std::map<std::string, std::size_t> at;       // column key -> index
  std::map<std::string, std::string> heading;  // column key -> the file's name for it

  // Problems of `row`, named by the file's heading of the column, in the catalogue's words.
  [[nodiscard]] Problem ProblemsOf(std::size_t row, ImportReport& report, const Catalogue& catalogue,
                                   const std::string& locale) const {
    return [this, row, &report, &catalogue, locale](const char* key, const Parsed& p) {
      const auto h = heading.find(key);
      report.problems.push_back({row, h != heading.end() ? h->second : key, catalogue.Text(locale, p.error, p.params)});
    };
  }
  [[nodiscard]] const char* AddressColumn() const {
    if (at.contains("mobile")) return "mobile";
    return at.contains("email") ? "email" : "wecom";
  }
  [[nodiscard]] Cell Reader(std::size_t row) const {
    return [this, row](const char* key) {
      const auto& cells = table[row];
      const auto it = at.find(key);
      return it == at.end() || it->second >= cells.size() ? std::string() : Trim(cells[it->second]);
    };
  }
};

// The file read and its header checked against `columns` (an unknown or a missing required
// column makes the whole file unusable: report.file_error); a mobile, email or WeCom column is needed.
std::optional<Sheet> ReadSheet(std::string_view csv, const std::vector<Column>& columns, ImportReport& report) {
  auto table = ParseCsv(csv);
  if (!table) {
    report.file_error = table.error().message;
    return std::nullopt;
  }
  if (table->empty()) {
    report.file_error = "the file is empty: the first row names the columns";
    return std::nullopt;
  }
  Sheet sheet;
  const auto& header = table->front();
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string h = Trim(header[i]);
    bool known = false;
    for (const auto& col : columns) {
      if (std::find(col.names.begin(), col.names.end(), h) != col.names.end()) {
        sheet.at[col.key] = i;
        sheet.heading[col.key] = h;
        known = true;
      }
    }
    if (!known && !h.empty()) {
      std::string names;
      for (const auto& col : columns) names += (names.empty() ? "" : " ") + col.names[0];
      report.file_error = "column '" + h + "' is not one of " + names;
      return std::nullopt;
    }
  }
  for (const auto& col : columns) {
    if (col.required && !sheet.at.contains(col.key)) {
      report.file_error = "the column " + col.names[0] + " (" + col.key + ") is missing";
      return std::nullopt;
    }
  }
  if (!sheet.at.contains("mobile") && !sheet.at.contains("email") && !sheet.at.contains("wecom")) {
    report.file_error = "the file needs a 手机 (mobile), 邮箱 (email) or 企业微信 (wecom_userid) column";
    return std::nullopt;
  }
  sheet.table = std::move(*table);
  return sheet;
}

}  // namespace

ImportReport ImportResearchers(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                               std::string_view csv, const ImportOptions& options, Clock::TimePoint now) {
  ImportReport report;
  auto sheet = ReadSheet(csv, ResearcherColumns(), report);
  if (!sheet) return report;
  const auto total = sheet->table.size() - 1;
  report.rows = total;
  std::vector<Row> good;
  good.reserve(total);
  RowAddresses addresses;
  for (std::size_t r = 1; r <= total; ++r) {
    const Cell cell = sheet->Reader(r);
    const Problem problem = sheet->ProblemsOf(r, report, catalogue, options.locale);
    const std::size_t before = report.problems.size();
    Row row;
    row.number = r;
    if (const auto p = ParseText(cell("name"), 2, 30); p.Ok()) {
      row.name = p.value->get<std::string>();
    } else {
      problem("name", p);
    }
    addresses.Read(c, cell, problem, sheet->AddressColumn(), row.contact);
    if (const auto p = ParseChoice(cell("eligibility"), programme.EligibilityChoices()); !p.Ok()) {
      problem("eligibility", p);
    } else if (const auto* type = programme.FindEligibility(p.value->get<std::string>()); type && !type->eligible) {
      problem("eligibility", Parsed::Error("import.not_eligible", {{"rule", type->rule}}));
    } else {
      row.eligibility = p.value->get<std::string>();
    }
    if (const auto p = ParseChoices(cell("fields"), programme.fields, 1, programme.max_fields); p.Ok()) {
      row.fields = *p.value;
    } else {
      problem("fields", p);
    }
    if (const std::string region = cell("region"); !region.empty()) {
      if (const auto p = ParseChoice(region, programme.regions); p.Ok()) {
        row.region = p.value->get<std::string>();
      } else {
        problem("region", p);
      }
    }
    if (const std::string bio = cell("bio"); !bio.empty()) {
      if (const auto p = ParseText(bio, 1, 500); p.Ok()) {
        row.bio = p.value->get<std::string>();
      } else {
        problem("bio", p);
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
    const std::int64_t id = InsertPerson(c, row.name, "researcher", row.contact, now_ms);
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
    ++report.imported;
    if (options.progress && (++done % 500 == 0 || done == good.size()))
      options.progress("importing", done, good.size());
  }
  return report;
}

ImportReport ImportEnterprises(store::Connection& c, const Programme& programme, const Catalogue& catalogue,
                               std::string_view csv, const ImportOptions& options, Clock::TimePoint now) {
  struct Enterprise {
    std::string name;
    std::string credit_code;
    std::string region;
    std::string industry;
    std::optional<std::string> sme_number;
    std::string contact;
    Contact reach;
  };
  ImportReport report;
  auto sheet = ReadSheet(csv, EnterpriseColumns(), report);
  if (!sheet) return report;
  const auto total = sheet->table.size() - 1;
  report.rows = total;
  std::vector<Enterprise> good;
  good.reserve(total);
  RowAddresses addresses;
  std::set<std::string> codes;
  for (std::size_t r = 1; r <= total; ++r) {
    const Cell cell = sheet->Reader(r);
    const Problem problem = sheet->ProblemsOf(r, report, catalogue, options.locale);
    const std::size_t before = report.problems.size();
    Enterprise e;
    // The same parsers and lists as the registration dialog.
    const auto text = [&cell, &problem](const char* key, int min, int max, std::string& out) {
      if (const auto p = ParseText(cell(key), min, max); p.Ok()) {
        out = p.value->get<std::string>();
      } else {
        problem(key, p);
      }
    };
    text("name", 2, 60, e.name);
    text("contact", 2, 20, e.contact);
    if (const auto p = ParseCreditCode(cell("credit_code")); !p.Ok()) {
      problem("credit_code", p);
    } else if (const auto code = p.value->get<std::string>(); !codes.insert(code).second || CodeTaken(c, code)) {
      problem("credit_code", Parsed::Error("invalid.credit_code_taken"));
    } else {
      e.credit_code = code;
    }
    if (const auto p = ParseChoice(cell("region"), programme.regions); p.Ok()) {
      e.region = p.value->get<std::string>();
    } else {
      problem("region", p);
    }
    if (const auto p = ParseChoice(cell("industry"), programme.fields); p.Ok()) {
      e.industry = p.value->get<std::string>();
    } else {
      problem("industry", p);
    }
    if (const std::string sme = cell("sme_number"); !sme.empty()) {
      if (const auto p = ParseText(sme, 4, 40); p.Ok()) {
        e.sme_number = p.value->get<std::string>();
      } else {
        problem("sme_number", p);
      }
    }
    addresses.Read(c, cell, problem, sheet->AddressColumn(), e.reach);
    if (report.problems.size() == before) good.push_back(std::move(e));
    if (options.progress && (r % 500 == 0 || r == total)) options.progress("checking", r, total);
  }
  if (options.dry_run || (!report.problems.empty() && !options.partial)) return report;

  const std::int64_t now_ms = ToUnixMillis(now);
  const std::int64_t programme_row = ProgrammeRow(c, programme, now_ms);
  std::size_t done = 0;
  for (const auto& e : good) {
    const std::int64_t id = InsertPerson(c, e.contact, "enterprise_contact", e.reach, now_ms);
    auto& enterprise = c.Prepare(
        "INSERT INTO enterprises (name, credit_code, region, industry, sme_number, contact_person_id, status, "
        "programme_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'verified', ?, ?, ?)");
    enterprise.bind(1, e.name);
    enterprise.bind(2, e.credit_code);
    enterprise.bind(3, e.region);
    enterprise.bind(4, e.industry);
    e.sme_number ? enterprise.bind(5, *e.sme_number) : enterprise.bind(5);
    enterprise.bind(6, id);
    enterprise.bind(7, programme_row);
    enterprise.bind(8, now_ms);
    enterprise.bind(9, now_ms);
    enterprise.exec();
    enterprise.reset();
    ++report.imported;
    if (options.progress && (++done % 500 == 0 || done == good.size()))
      options.progress("importing", done, good.size());
  }
  return report;
}

}  // namespace duijie::dialogs
