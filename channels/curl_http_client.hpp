#pragma once
#include <boost/asio/thread_pool.hpp>

#include "channels/http_client.hpp"

namespace duijie::channels {

/// HttpClient on libcurl. Each request runs curl's blocking transfer on a small dedicated
/// thread pool, never on an I/O thread; each pool thread keeps its easy handle so connections
/// (and TLS sessions) are reused across requests to the same provider. Certificates are always
/// verified.
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(std::size_t threads = 4);
  ~CurlHttpClient() override;

  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  net::awaitable<Result<ClientResponse>> Send(ClientRequest request) override;

  /// Finishes running transfers and stops the pool.
  void Stop();

  /// The blocking transfer itself, on the calling thread. Exposed for tests.
  static Result<ClientResponse> Perform(const ClientRequest& request);

 private:
  net::thread_pool pool_;
};

}  // namespace duijie::channels
