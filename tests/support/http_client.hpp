#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "common/asio.hpp"

namespace duijie::test {

/// A blocking HTTP/1.1 connection to 127.0.0.1 for integration tests, with a receive timeout so
/// a test fails instead of hanging. Sends raw bytes too, to play slow or malformed clients.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  void SendRaw(const std::string& bytes);
  /// Reads one response; nullopt when the server closed the connection first.
  std::optional<HttpResponse> ReadResponse();
  HttpResponse Request(http::verb method, const std::string& target, const std::string& body = "");
  /// True when the server closed the connection (EOF or reset) before the timeout.
  bool ClosedByServer();

 private:
  net::io_context ioc_;
  net::ip::tcp::socket socket_;
  beast::flat_buffer buffer_;
};

/// RFC 3986 percent-encoding of a query or form value (unreserved characters kept).
std::string UrlEncode(std::string_view s);

/// One request on a fresh connection.
HttpResponse Get(std::uint16_t port, const std::string& target);

}  // namespace duijie::test
