#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "store/connection.hpp"

namespace duijie::store {

/// A file someone sent (a WeCom file message, a mail attachment), before it is stored.
struct NewDocument {
  std::string file_name;
  std::string media_type = "application/octet-stream";
  std::string source_channel;
  std::optional<std::int64_t> inbox_id;  // the inbound message it came with
};

struct StoredDocument {
  std::string sha256;
  bool created = false;  // false: this file from this inbound message was stored already
};

/// Keeps `bytes` under `files_dir/<sha256[0:2]>/<sha256>` (written once: temporary file, fsync,
/// rename) and records a documents row, unless the same file from the same inbound message is
/// known. Run on the store's writer, inside its transaction.
[[nodiscard]] Result<StoredDocument> AddDocument(Connection& conn, const std::filesystem::path& files_dir,
                                                 std::string_view bytes, const NewDocument& doc, std::int64_t now_ms);

}  // namespace duijie::store
