#include "support/test_http_server.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace duijie::test {

TestHttpServer::TestHttpServer(Handler handler)
    : handler_(std::move(handler)), acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

TestHttpServer::~TestHttpServer() {
  stopping_ = true;
  boost::system::error_code ec;
  // Wake the blocking accept with a connection of our own.
  net::ip::tcp::socket poke(ioc_);
  poke.connect({net::ip::make_address("127.0.0.1"), port_}, ec);
  thread_.join();
}

void TestHttpServer::Serve() {
  while (!stopping_) {
    boost::system::error_code ec;
    net::ip::tcp::socket socket(ioc_);
    acceptor_.accept(socket, ec);
    if (ec || stopping_) return;
    beast::flat_buffer buffer;
    HttpRequest req;
    http::read(socket, buffer, req, ec);
    if (ec) continue;
    HttpResponse res = handler_(req);
    res.version(11);
    res.keep_alive(false);
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(net::ip::tcp::socket::shutdown_send, ec);
  }
}

}  // namespace duijie::test
