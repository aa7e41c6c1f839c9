#pragma once
#include <filesystem>
#include <string>

#include "channels/sender.hpp"
#include "channels/wecom/api_client.hpp"
#include "store/writer.hpp"

namespace duijie::channels::wecom {

inline constexpr std::string_view kMediaChannel = "wecom_media";

struct MediaSettings {
  std::filesystem::path files_dir = "./files";
  std::size_t max_bytes = std::size_t{20} << 20;  // WeCom's own file limit is 20 MB
};

/// The file name of a Content-Disposition header, made safe to show and store (no path, no
/// control characters, at most 255 bytes); `fallback` when there is none.
[[nodiscard]] std::string FileNameFrom(std::string_view content_disposition, std::string_view fallback);

/// The outbox message that fetches `media_id` for the inbox row of the message it came with.
[[nodiscard]] store::NewOutboxMessage FetchMediaTask(std::string_view media_id, std::string_view kind,
                                                     std::string_view source_channel, std::string_view dedupe_key);

/// Fetches files people send (contracts, invoices, payment proofs) with media/get, as the
/// "sender" of the task channel `wecom_media`: the bytes are checked against the size limit,
/// written once under files_dir by their SHA-256 (fsynced, then renamed into place) and recorded
/// in `documents` with name, type and size, linked to the inbox row of the message. A media id
/// WeCom does not know (40007) fails for good; fetching again is harmless, so a lost attempt is
/// simply redone.
class MediaFetcher final : public channels::Sender {
 public:
  MediaFetcher(ApiClient& api, store::Writer& writer, const Clock& clock, MediaSettings settings)
      : api_(api), writer_(writer), clock_(clock), settings_(std::move(settings)) {}

  [[nodiscard]] std::string_view Name() const override { return kMediaChannel; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

 private:
  ApiClient& api_;
  store::Writer& writer_;
  const Clock& clock_;
  MediaSettings settings_;
};

}  // namespace duijie::channels::wecom
