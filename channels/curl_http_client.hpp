#pragma once
#include <memory>

#include "channels/http_client.hpp"

namespace duijie::channels {

/// HttpClient on libcurl's multi interface: one thread of its own runs every transfer, never an
/// I/O thread, and completes each request on the executor of the coroutine that sent it. At most
/// `max_transfers` run at once; the others wait in a queue, their timeouts not yet started (a
/// request that never left is never reported as one whose outcome is unknown). Connections (and
/// TLS sessions) are kept in the multi handle and reused across requests to the same provider.
/// Certificates are always verified.
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(std::size_t max_transfers = 4);
  ~CurlHttpClient() override;

  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  net::awaitable<Result<ClientResponse>> Send(ClientRequest request) override;

  /// Stops the transfer thread. Requests still queued or running are abandoned: their coroutines
  /// are never resumed (call it after the I/O threads have stopped, as on shutdown).
  void Stop();

  /// One blocking transfer on the calling thread. Exposed for tests.
  static Result<ClientResponse> Perform(const ClientRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duijie::channels
