#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace duijie {

/// RFC 4180 CSV (libcsv, strict: a stray quote is an error) into rows of fields; a UTF-8
/// byte-order mark (Excel writes one) is skipped. Fails naming the record where parsing stopped.
[[nodiscard]] Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                                     std::size_t max_rows = 1'000'000);

}  // namespace duijie
