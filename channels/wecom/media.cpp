#include "channels/wecom/media.hpp"

#include <array>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "channels/wecom/message.hpp"
#include "common/digest.hpp"
#include "dialogs/message.hpp"
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

store::AttemptRecord Record(store::AttemptOutcome outcome, std::string ref, std::string error) {
  return {outcome, std::string(kMediaChannel), std::move(ref), std::move(error)};
}

std::string Header(const ClientResponse& res, std::string_view name) {
  for (const auto& [key, value] : res.headers) {
    if (key.size() == name.size() && strncasecmp(key.c_str(), name.data(), name.size()) == 0) return value;
  }
  return {};
}

// Writes `bytes` to `path` durably: a temporary file, fsync, rename. An existing file with the
// same name has the same content (the name is its hash) and is kept.
Result<void> WriteOnce(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return {};
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Error(Errc::kUnavailable, "cannot create " + path.parent_path().string() + ": " + ec.message());
  const auto tmp = path.string() + ".part";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Error(Errc::kUnavailable, "cannot write " + tmp);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(Errc::kUnavailable, "cannot write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error(Errc::kUnavailable, "cannot store " + path.string());
  }
  return {};
}

}  // namespace

std::string FileNameFrom(std::string_view cd, std::string_view fallback) {
  std::string name;
  if (const auto at = cd.find("filename=\""); at != std::string_view::npos) {
    const auto start = at + 10;
    name = std::string(cd.substr(start, cd.find('"', start) - start));
  } else if (const auto plain = cd.find("filename="); plain != std::string_view::npos) {
    const auto start = plain + 9;
    name = std::string(cd.substr(start, cd.find(';', start) - start));
  }
  // Only the last path component, without control characters.
  if (const auto slash = name.find_last_of("/\\"); slash != std::string::npos) name.erase(0, slash + 1);
  std::erase_if(name, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  if (name.empty() || name == "." || name == "..") name = std::string(fallback);
  return std::string(TruncateUtf8(name, 255));
}

store::NewOutboxMessage FetchMediaTask(std::string_view media_id, std::string_view kind,
                                       std::string_view source_channel, std::string_view dedupe_key) {
  store::NewOutboxMessage m;
  m.idempotency_key = std::string(source_channel) + ":" + std::string(dedupe_key) + ":media";
  m.channel = std::string(kMediaChannel);
  m.recipient = std::string(media_id);
  m.kind = "fetch_media";
  m.payload =
      json(dialogs::OutboundMessage{
               "fetch_media", "", std::nullopt, std::nullopt, {{"media_type", kind}, {"source", source_channel}}})
          .dump();
  m.priority = 5;
  return m;
}

net::awaitable<store::AttemptRecord> MediaFetcher::Send(const store::OutboxMessage& msg) {
  const std::string& media_id = msg.recipient;
  if (media_id.empty() || media_id.size() > 256) co_return Record(store::AttemptOutcome::kFailed, "", "bad media id");
  std::string source = "wecom";
  std::string kind = "file";
  try {
    const auto params = json::parse(msg.payload).value("params", json::object());
    source = params.value("source", source);
    kind = params.value("media_type", kind);
  } catch (const std::exception& e) {
    co_return Record(store::AttemptOutcome::kFailed, "", std::string("payload is not a fetch task: ") + e.what());
  }
  std::string query = "media_id=";
  for (const char c : media_id) {
    // media ids are base64-like; anything else is escaped rather than trusted.
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') {
      query += c;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      query += '%';
      query += kHex[static_cast<unsigned char>(c) >> 4];
      query += kHex[static_cast<unsigned char>(c) & 15];
    }
  }
  auto result = co_await api_.Get("/cgi-bin/media/get", query, settings_.max_bytes);
  if (result.outcome != store::AttemptOutcome::kSent) {
    // Fetching is safe to repeat: an unknown outcome is just retried.
    const auto outcome =
        result.outcome == store::AttemptOutcome::kUnknown ? store::AttemptOutcome::kRetryable : result.outcome;
    co_return Record(outcome, "", std::move(result.error));
  }
  if (result.answer.is_object()) {
    co_return Record(store::AttemptOutcome::kFailed, "", "media/get answered JSON, not a file");
  }
  const std::string& bytes = result.raw.body;
  StoredFile file;
  file.sha256 = Sha256Hex(bytes);
  file.size = bytes.size();
  file.media_type = Header(result.raw, "Content-Type");
  if (file.media_type.empty()) file.media_type = "application/octet-stream";
  file.media_type = file.media_type.substr(0, 127);
  file.file_name = FileNameFrom(Header(result.raw, "Content-Disposition"), kind + "-" + file.sha256.substr(0, 12));
  file.storage_path = file.sha256.substr(0, 2) + "/" + file.sha256;

  const auto dir = settings_.files_dir;
  const std::int64_t now_ms = ToUnixMillis(clock_.Now());
  // The file and its row are written by the store's own thread, never an I/O thread.
  const auto store_file = [&bytes, &file, &dir, &source, &msg, now_ms](store::Connection& c) -> Result<bool> {
    if (auto written = WriteOnce(dir / file.storage_path, bytes); !written) return written.error();
    auto& find = c.Prepare("SELECT inbox_id FROM outbox WHERE id = :id");
    find.bind(":id", msg.id);
    std::optional<std::int64_t> inbox;
    if (find.executeStep() && !find.getColumn(0).isNull()) inbox = find.getColumn(0).getInt64();
    find.reset();
    auto& exists = c.Prepare("SELECT 1 FROM documents WHERE sha256 = :sha AND inbox_id IS :inbox");
    exists.bind(":sha", file.sha256);
    if (inbox) {
      exists.bind(":inbox", *inbox);
    } else {
      exists.bind(":inbox");
    }
    const bool known = exists.executeStep();
    exists.reset();
    if (known) return false;
    auto& ins = c.Prepare(
        "INSERT INTO documents (kind, file_name, media_type, size_bytes, sha256, storage_path, source_channel, "
        "inbox_id, created_at) VALUES ('other', :name, :type, :size, :sha, :path, :source, :inbox, :now)");
    ins.bind(":name", file.file_name);
    ins.bind(":type", file.media_type);
    ins.bind(":size", static_cast<std::int64_t>(file.size));
    ins.bind(":sha", file.sha256);
    ins.bind(":path", file.storage_path);
    ins.bind(":source", source);
    if (inbox) {
      ins.bind(":inbox", *inbox);
    } else {
      ins.bind(":inbox");
    }
    ins.bind(":now", now_ms);
    ins.exec();
    return true;
  };
  const auto stored = co_await writer_.Run(store_file);
  if (!stored) co_return Record(store::AttemptOutcome::kRetryable, "", stored.error().message);
  co_return Record(store::AttemptOutcome::kSent, file.sha256, "");
}

net::awaitable<LookupResult> MediaFetcher::Lookup(const store::OutboxMessage&) {
  co_return LookupResult{store::Recovery::kWasLost, "", "sent"};
}

}  // namespace duijie::channels::wecom
