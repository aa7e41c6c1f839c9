#include "bot/http/call.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace duijie::bot {

std::optional<Endpoint> ParseEndpoint(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) return std::nullopt;
  return Endpoint{std::string(parsed->host()), parsed->has_port() ? std::string(parsed->port()) : "80"};
}

Result<HttpResponse> CallOnce(const Endpoint& ep, HttpRequest req, std::chrono::milliseconds timeout) {
  using net::ip::tcp;
  net::io_context ioc;
  HttpResponse res;
  std::exception_ptr failure;
  req.set(http::field::host, ep.host);
  req.prepare_payload();
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        tcp::resolver resolver(ioc);
        beast::tcp_stream stream(ioc);
        stream.expires_after(timeout);
        const auto results = co_await resolver.async_resolve(ep.host, ep.port, net::use_awaitable);
        co_await stream.async_connect(results, net::use_awaitable);
        co_await http::async_write(stream, req, net::use_awaitable);
        beast::flat_buffer buffer;
        co_await http::async_read(stream, buffer, res, net::use_awaitable);
      },
      [&](std::exception_ptr e) { failure = std::move(e); });
  ioc.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return Error(Errc::kUnavailable, e.what());
    }
  }
  return res;
}

}  // namespace duijie::bot
