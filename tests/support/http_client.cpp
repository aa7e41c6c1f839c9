#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

namespace duijie::test {

HttpConnection::HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout) : socket_(ioc_) {
  socket_.connect({net::ip::make_address("127.0.0.1"), port});
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void HttpConnection::SendRaw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

std::optional<HttpResponse> HttpConnection::ReadResponse() {
  HttpResponse res;
  boost::system::error_code ec;
  http::read(socket_, buffer_, res, ec);
  if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) {
    return std::nullopt;
  }
  if (ec) throw boost::system::system_error(ec, "reading the response");
  return res;
}

HttpResponse HttpConnection::Request(http::verb method, const std::string& target, const std::string& body) {
  HttpRequest req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.body() = body;
  req.prepare_payload();
  http::write(socket_, req);
  auto res = ReadResponse();
  if (!res) throw std::runtime_error("connection closed before a response to " + target);
  return std::move(*res);
}

bool HttpConnection::ClosedByServer() {
  char c;
  boost::system::error_code ec;
  const auto n = socket_.read_some(net::buffer(&c, 1), ec);
  return n == 0 && (ec == net::error::eof || ec == net::error::connection_reset);
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HttpResponse Get(std::uint16_t port, const std::string& target) {
  HttpConnection conn(port);
  return conn.Request(http::verb::get, target);
}

}  // namespace duijie::test
