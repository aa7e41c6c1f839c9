#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/asio.hpp"
#include "common/error.hpp"

namespace duijie::channels {

/// An outbound HTTP request to a provider API.
struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds timeout{5'000};  // the whole exchange
  std::size_t max_response_bytes = std::size_t{4} << 20;
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// Outbound HTTP behind a small interface (STYLE.md habit 7): production uses libcurl off the
/// I/O threads, tests a fake or a loopback server. Transport failures are values:
/// Errc::kTimeout when the deadline passed (the request may have reached the provider: the
/// outcome is unknown), Errc::kUnavailable when no connection was made (safe to retry),
/// Errc::kTooLarge for an oversized response, Errc::kInvalidArgument for a bad URL.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual net::awaitable<Result<ClientResponse>> Send(ClientRequest request) = 0;
};

}  // namespace duijie::channels
