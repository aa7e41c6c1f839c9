#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// What is wrong with one row of an import file, by row (1 = the first data row after the
/// header, as a spreadsheet shows it: line row + 1) and column.
struct ImportProblem {
  std::size_t row = 0;
  std::string field;    // the column as the file names it
  std::string message;  // from the catalogue
};

struct ImportReport {
  std::size_t rows = 0;      // data rows read
  std::size_t imported = 0;  // people (researchers, enterprises with their contact) written
  std::vector<ImportProblem> problems;
  std::string file_error;  // the file itself is unusable (not CSV, a required column missing)
};

struct ImportOptions {
  bool partial = false;  // import the good rows even when some are bad (default: nothing unless all are good)
  bool dry_run = false;  // check only
  std::string locale = std::string(Catalogue::kDefaultLocale);
  std::function<void(std::string_view phase, std::size_t done, std::size_t total)> progress;
};

/// Researchers imported by staff from CSV (the columns by their Chinese or English names: 姓名/name,
/// 手机/mobile, 邮箱/email, 单位/unit, 职称/title, 人员类型/eligibility, 领域/fields, 关键词/keywords,
/// 简介/bio, 地区/region; name, a mobile or an email, eligibility and fields required). Every row
/// is checked with the same parsers and programme lists as the registration dialog; a mobile or
/// email already taken (in the store or earlier in the file) is a problem of that row. In the
/// caller's transaction: with problems and not `partial`, nothing is written; units are created
/// by name as needed; people are verified researchers (staff vouch for them), their addresses
/// unverified until they answer.
[[nodiscard]] ImportReport ImportResearchers(store::Connection& c, const Programme& programme,
                                             const Catalogue& catalogue, std::string_view csv,
                                             const ImportOptions& options, Clock::TimePoint now);

/// Enterprises imported by staff from CSV (企业名称/name, 统一社会信用代码/credit_code, 地区/region,
/// 行业/industry, 入库编号/sme_number, 联系人/contact, 手机/mobile, 邮箱/email; all but the SME number
/// and one of mobile/email required): checked as the registration dialog checks them (the credit
/// code's check character, the programme's regions and fields), a credit code registered already
/// or twice in the file is a problem of its row. The enterprise is verified (staff vouch for it)
/// with its contact as an enterprise contact, whose addresses stay unverified until they answer.
/// Same transaction rules as ImportResearchers.
[[nodiscard]] ImportReport ImportEnterprises(store::Connection& c, const Programme& programme,
                                             const Catalogue& catalogue, std::string_view csv,
                                             const ImportOptions& options, Clock::TimePoint now);

}  // namespace duijie::dialogs
