#pragma once
#include <string>
#include <vector>

#include "common/error.hpp"
#include "dialogs/reports.hpp"

namespace duijie::bot {

/// The need list (需求清单) as CSV: UTF-8 with a byte-order mark (so Excel on Windows reads the
/// Chinese), a header row, one row per need, by industry.
[[nodiscard]] std::string NeedListCsv(const std::vector<dialogs::NeedListRow>& rows);

/// The need list as an XLSX workbook (libxlsxwriter): one sheet per industry, then a sheet with
/// all of them; bold headers, frozen, columns sized for Chinese text. Written through a file in
/// `temp_dir` (the library writes files) and returned as bytes.
[[nodiscard]] Result<std::string> NeedListXlsx(const std::vector<dialogs::NeedListRow>& rows,
                                               const std::string& temp_dir);

}  // namespace duijie::bot
