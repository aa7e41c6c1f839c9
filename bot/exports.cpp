#include "bot/exports.hpp"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "common/digest.hpp"
#include <xlsxwriter.h>

namespace duijie::bot {
namespace {

// The columns of the list, as staff read it.
constexpr const char* kHeader[] = {"序号",     "需求名称",           "企业名称",     "所在地区", "行业领域",
                                   "需求类别", "拟投入金额（万元）", "期望完成时间", "状态",     "技术难题",
                                   "预期目标"};

std::string Amount(const std::optional<double>& wan) {
  if (!wan) return "";
  std::ostringstream os;
  os << std::setprecision(10) << *wan;
  return os.str();
}

std::string Csv(const std::string& s) {
  // A leading = + - @ would be a formula in a spreadsheet: quoted with an apostrophe.
  std::string v = (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) ? "'" + s : s;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (const char ch : v) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

// Excel sheet names: at most 31 characters (not bytes), none of []:*?/\ .
std::string SheetName(const std::string& name) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < name.size() && chars < 31; ++chars) {
    const auto ch = static_cast<unsigned char>(name[i]);
    const std::size_t len = ch < 0x80 ? 1 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
    if (len == 1 && std::string_view("[]:*?/\\").find(static_cast<char>(ch)) != std::string_view::npos) {
      out += '_';
    } else {
      out.append(name, i, len);
    }
    i += len;
  }
  return out.empty() ? "Sheet" : out;
}

lxw_error WriteSheet(lxw_workbook* book, const std::string& name, const std::vector<const dialogs::NeedListRow*>& rows,
                     lxw_format* bold) {
  lxw_worksheet* sheet = workbook_add_worksheet(book, name.c_str());
  if (sheet == nullptr) return LXW_ERROR_MEMORY_MALLOC_FAILED;
  const double widths[] = {6, 30, 28, 12, 16, 14, 12, 14, 12, 50, 50};
  for (std::size_t i = 0; i < std::size(kHeader); ++i) {
    const auto col = static_cast<lxw_col_t>(i);
    worksheet_set_column(sheet, col, col, widths[i], nullptr);
    worksheet_write_string(sheet, 0, col, kHeader[i], bold);
  }
  worksheet_freeze_panes(sheet, 1, 0);
  lxw_row_t r = 1;
  for (const auto* row : rows) {
    worksheet_write_number(sheet, r, 0, static_cast<double>(r), nullptr);
    worksheet_write_string(sheet, r, 1, row->title.c_str(), nullptr);
    worksheet_write_string(sheet, r, 2, row->enterprise.c_str(), nullptr);
    worksheet_write_string(sheet, r, 3, row->region.c_str(), nullptr);
    worksheet_write_string(sheet, r, 4, row->industry.c_str(), nullptr);
    worksheet_write_string(sheet, r, 5, row->category.c_str(), nullptr);
    if (row->amount_wan) worksheet_write_number(sheet, r, 6, *row->amount_wan, nullptr);
    worksheet_write_string(sheet, r, 7, row->deadline.c_str(), nullptr);
    worksheet_write_string(sheet, r, 8, row->stage.c_str(), nullptr);
    worksheet_write_string(sheet, r, 9, row->problem.c_str(), nullptr);
    worksheet_write_string(sheet, r, 10, row->targets.c_str(), nullptr);
    ++r;
  }
  return LXW_NO_ERROR;
}

}  // namespace

std::string NeedListCsv(const std::vector<dialogs::NeedListRow>& rows) {
  std::string out = "\xEF\xBB\xBF";
  for (std::size_t i = 0; i < std::size(kHeader); ++i) out += (i == 0 ? "" : ",") + std::string(kHeader[i]);
  out += "\r\n";
  std::size_t n = 0;
  for (const auto& r : rows) {
    out += std::to_string(++n) + "," + Csv(r.title) + "," + Csv(r.enterprise) + "," + Csv(r.region) + "," +
           Csv(r.industry) + "," + Csv(r.category) + "," + Amount(r.amount_wan) + "," + Csv(r.deadline) + "," +
           r.stage + "," + Csv(r.problem) + "," + Csv(r.targets) + "\r\n";
  }
  return out;
}

Result<std::string> NeedListXlsx(const std::vector<dialogs::NeedListRow>& rows, const std::string& temp_dir) {
  std::error_code ec;
  std::filesystem::create_directories(temp_dir, ec);
  const std::string path = (std::filesystem::path(temp_dir) / ("needs-" + RandomHex(8) + ".xlsx")).string();
  lxw_workbook* book = workbook_new(path.c_str());
  if (book == nullptr) return Error(Errc::kInternal, "cannot create " + path);
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  std::vector<std::string> order;
  std::map<std::string, std::vector<const dialogs::NeedListRow*>> by_industry;
  std::vector<const dialogs::NeedListRow*> all;
  all.reserve(rows.size());
  for (const auto& r : rows) {
    if (!by_industry.contains(r.industry)) order.push_back(r.industry);
    by_industry[r.industry].push_back(&r);
    all.push_back(&r);
  }
  lxw_error err = LXW_NO_ERROR;
  std::map<std::string, int> used;
  for (const auto& industry : order) {
    std::string name = SheetName(industry.empty() ? "未分类" : industry);
    if (used[name]++ > 0) name = SheetName(std::to_string(used[name]) + "_" + name);
    if (err == LXW_NO_ERROR) err = WriteSheet(book, name, by_industry[industry], bold);
  }
  if (err == LXW_NO_ERROR) err = WriteSheet(book, "全部需求", all, bold);
  const lxw_error closed = workbook_close(book);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path, ec);
  if (err != LXW_NO_ERROR || closed != LXW_NO_ERROR || bytes.empty()) {
    return Error(Errc::kInternal,
                 std::string("the workbook could not be written: ") + lxw_strerror(err != LXW_NO_ERROR ? err : closed));
  }
  return bytes;
}

}  // namespace duijie::bot
