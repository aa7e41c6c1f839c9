#include "common/csv.hpp"

#include <csv.h>

namespace duijie {
namespace {

struct Collect {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> current;
  std::size_t max_rows = 0;
  bool too_many = false;
};

void OnField(void* data, std::size_t len, void* out) {
  auto* c = static_cast<Collect*>(out);
  c->current.emplace_back(static_cast<const char*>(data), len);
}

void OnRecord(int /*terminator*/, void* out) {
  auto* c = static_cast<Collect*>(out);
  if (c->rows.size() >= c->max_rows) {
    c->too_many = true;
  } else {
    c->rows.push_back(std::move(c->current));
  }
  c->current.clear();
}

}  // namespace

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, std::size_t max_rows) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  csv_parser parser{};
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) return Error(Errc::kInternal, "csv: cannot start");
  Collect collect;
  collect.max_rows = max_rows;
  const std::size_t used = csv_parse(&parser, text.data(), text.size(), OnField, OnRecord, &collect);
  const bool parsed = used == text.size() && csv_fini(&parser, OnField, OnRecord, &collect) == 0;
  const int error = csv_error(&parser);
  csv_free(&parser);
  if (!parsed) {
    return Error(Errc::kInvalidArgument,
                 "csv: " + std::string(csv_strerror(error)) + " in record " + std::to_string(collect.rows.size() + 1));
  }
  if (collect.too_many) return Error(Errc::kTooLarge, "csv: more than " + std::to_string(max_rows) + " records");
  return std::move(collect.rows);
}

}  // namespace duijie
