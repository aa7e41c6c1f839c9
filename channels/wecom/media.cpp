#include "channels/wecom/media.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "channels/wecom/message.hpp"
#include "common/digest.hpp"
#include "dialogs/message.hpp"
#include "store/documents.hpp"
#include <openssl/evp.h>

namespace duijie::channels::wecom {
namespace {

using nlohmann::json;

store::AttemptRecord MediaRecord(store::AttemptOutcome outcome, std::string ref, std::string error) {
  return {outcome, std::string(kMediaChannel), std::move(ref), std::move(error)};
}

std::string Header(const ClientResponse& res, std::string_view name) {
  for (const auto& [key, value] : res.headers) {
    if (key.size() == name.size() && strncasecmp(key.c_str(), name.data(), name.size()) == 0) return value;
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
  if (media_id.empty() || media_id.size() > 256)
    co_return MediaRecord(store::AttemptOutcome::kFailed, "", "bad media id");
  std::string source = "wecom";
  std::string kind = "file";
  try {
    const auto params = json::parse(msg.payload).value("params", json::object());
    source = params.value("source", source);
    kind = params.value("media_type", kind);
  } catch (const std::exception& e) {
    co_return MediaRecord(store::AttemptOutcome::kFailed, "", std::string("payload is not a fetch task: ") + e.what());
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
    co_return MediaRecord(outcome, "", std::move(result.error));
  }
  if (result.answer.is_object()) {
    co_return MediaRecord(store::AttemptOutcome::kFailed, "", "media/get answered JSON, not a file");
  }
  const std::string& bytes = result.raw.body;
  store::NewDocument doc;
  doc.media_type = Header(result.raw, "Content-Type");
  if (doc.media_type.empty()) doc.media_type = "application/octet-stream";
  doc.file_name = FileNameFrom(Header(result.raw, "Content-Disposition"), kind + "-" + Sha256Hex(bytes).substr(0, 12));
  doc.source_channel = source;
  const auto dir = settings_.files_dir;
  const std::int64_t now_ms = ToUnixMillis(clock_.Now());
  // The file and its row are written by the store's own thread, never an I/O thread.
  const auto store_file = [&bytes, &doc, &dir, &msg, now_ms](store::Connection& c) -> Result<store::StoredDocument> {
    auto& find = c.Prepare("SELECT inbox_id FROM outbox WHERE id = :id");
    find.bind(":id", msg.id);
    if (find.executeStep() && !find.getColumn(0).isNull()) doc.inbox_id = find.getColumn(0).getInt64();
    find.reset();
    return store::AddDocument(c, dir, bytes, doc, now_ms);
  };
  const auto stored = co_await writer_.Run(store_file);
  if (!stored) co_return MediaRecord(store::AttemptOutcome::kRetryable, "", stored.error().message);
  co_return MediaRecord(store::AttemptOutcome::kSent, stored->sha256, "");
}

net::awaitable<LookupResult> MediaFetcher::Lookup(const store::OutboxMessage&) {
  co_return LookupResult{store::Recovery::kWasLost, "", "sent"};
}

}  // namespace duijie::channels::wecom
