#pragma once
#include <atomic>
#include <functional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/asio.hpp"

namespace duijie::test {

/// A minimal blocking HTTP/1.1 server on 127.0.0.1 port 0 that plays a provider in tests: one
/// request per connection, answered by `handler` on the server's own thread.
class TestHttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();

  [[nodiscard]] std::uint16_t Port() const { return port_; }
  [[nodiscard]] std::string Url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  void Serve();

  Handler handler_;
  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace duijie::test
