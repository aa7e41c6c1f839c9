#include "bot/http/server.hpp"

#include <cmath>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "bot/http/responses.hpp"

namespace duijie::bot {

using net::ip::tcp;
namespace {
constexpr auto kTuple = net::as_tuple(net::use_awaitable);
using SteadyClock = std::chrono::steady_clock;
}  // namespace

// Shared between a session coroutine and its watchdog; both run on the connection's worker (one
// thread), and the server's shutdown reaches it only by posting to that worker.
struct Server::Connection {
  explicit Connection(const net::io_context::executor_type& ex) : executor(ex), timer(ex) {}

  /// True when a request has started arriving or is being handled: shutdown lets it finish.
  [[nodiscard]] bool InFlight() const {
    return busy || (buffer != nullptr && buffer->size() > 0) || (parser != nullptr && parser->got_some());
  }
  // The watchdog sleeps until the deadline it last saw and re-reads it on waking, so a later
  // deadline costs nothing; an earlier one must wake it now.
  void ExpireAfter(std::chrono::milliseconds d) {
    deadline = SteadyClock::now() + d;
    if (deadline < timer.expiry()) timer.cancel();
  }

  net::io_context::executor_type executor;  // the worker: serial because one thread runs it
  net::steady_timer timer;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  tcp::socket* socket = nullptr;
  beast::flat_buffer* buffer = nullptr;
  http::request_parser<http::string_body>* parser = nullptr;
  bool busy = false;       // between a complete request header and the response written
  bool closing = false;    // server is shutting down: finish this request, then close
  bool timed_out = false;  // the watchdog cancelled the pending operation
  bool finished = false;
};

Server::Server(std::vector<net::io_context*> workers, ServerOptions options, const Router& router, Metrics& metrics,
               const Logger& log)
    : workers_(std::move(workers)),
      options_(options),
      router_(router),
      metrics_(metrics),
      log_(log),
      strand_(net::make_strand(*workers_.at(0))),
      acceptor_(strand_),
      drained_(strand_) {}

Result<tcp::endpoint> Server::Listen(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto addr = net::ip::make_address(address, ec);
  if (ec) return Error(Errc::kInvalidArgument, "bad listen address " + address + ": " + ec.message());
  const tcp::endpoint ep{addr, port};
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(Errc::kUnavailable, "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  return acceptor_.local_endpoint();
}

void Server::Start() {
  net::co_spawn(strand_, AcceptLoop(), [this](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_.Error("accept loop failed", {{"error", ex.what()}});
    }
  });
}

net::awaitable<void> Server::AcceptLoop() {
  for (;;) {
    auto ex = workers_[next_worker_++ % workers_.size()]->get_executor();
    auto [ec, socket] = co_await acceptor_.async_accept(ex, kTuple);
    if (stopping_ || ec == net::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and friends: log and go on; the listener must not die with one bad accept.
      log_.Warn("accept failed", {{"error", ec.message()}});
      continue;
    }
    if (metrics_.ActiveConnections() >= options_.max_connections) {
      // A clear answer, not a reset: one non-blocking write of a fixed response (the kernel's
      // buffer of a fresh socket takes it whole), then close. Nothing of the request is read.
      static constexpr std::string_view kBusy =
          "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
          "Content-Type: application/json\r\nContent-Length: 80\r\n\r\n"
          R"({"error":{"code":"too_many_connections","message":"the server is at its limit"}})";
      static_assert(kBusy.size() - kBusy.find("\r\n\r\n") - 4 == 80);
      metrics_.ConnectionRefused();
      log_.Warn("connection refused: too many connections", {{"limit", options_.max_connections}});
      boost::system::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(kBusy.data(), kBusy.size()), ignored);
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    const std::uint64_t id = next_id_++;
    auto conn = std::make_shared<Connection>(ex);
    connections_.emplace(id, conn);
    metrics_.ConnectionOpened();
    net::co_spawn(ex, RunSession(std::move(socket), conn), [this, id](const std::exception_ptr& e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& err) {
          log_.Error("session failed", {{"error", err.what()}});
        }
      }
      metrics_.ConnectionClosed();
      net::post(strand_, [this, id] { Forget(id); });
    });
  }
}

void Server::Forget(std::uint64_t id) {
  connections_.erase(id);
  if (stopping_ && connections_.empty()) drained_.cancel();
}

net::awaitable<void> Server::Watchdog(std::shared_ptr<Connection> conn) {
  while (!conn->finished) {
    conn->timer.expires_at(conn->deadline);
    co_await conn->timer.async_wait(kTuple);
    if (conn->finished) break;
    if (SteadyClock::now() >= conn->deadline && conn->socket != nullptr) {
      // Cancel rather than close, so the session can still answer 408 to a half-sent request.
      conn->timed_out = true;
      conn->deadline = SteadyClock::time_point::max();
      boost::system::error_code ignored;
      conn->socket->cancel(ignored);
    }
  }
}

net::awaitable<bool> Server::WriteError(Connection& conn, http::status status, std::string_view code,
                                        std::string_view message, unsigned version) {
  auto res = JsonError(status, code, message);
  res.version(version == 10 ? 10 : 11);
  res.keep_alive(false);
  conn.timed_out = false;
  conn.ExpireAfter(options_.write_timeout);
  auto [ec, n] = co_await http::async_write(*conn.socket, res, kTuple);
  (void)n;
  co_return !ec;
}

net::awaitable<void> Server::RunSession(tcp::socket socket, std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer;
  conn->socket = &socket;
  conn->buffer = &buffer;
  conn->ExpireAfter(options_.read_timeout);
  net::co_spawn(conn->executor, Watchdog(conn), net::detached);
  std::string remote;
  {
    boost::system::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }

  for (bool first = true;; first = false) {
    http::request_parser<http::string_body> parser;
    // The largest limit any route allows while the header is read (Beast checks Content-Length
    // against it there); the route's own limit once the header says which route it is.
    parser.body_limit(std::max(options_.max_body_bytes, router_.LargestBodyLimit()));
    parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    conn->parser = &parser;
    conn->busy = false;
    if (conn->closing && !conn->InFlight()) break;
    // A new connection must send its first request promptly; a kept-alive one may idle longer.
    conn->ExpireAfter(first || buffer.size() > 0 ? options_.read_timeout : options_.idle_timeout);

    std::size_t body_limit = options_.max_body_bytes;
    auto [ec, n] = co_await http::async_read_header(socket, buffer, parser, kTuple);
    const auto started = SteadyClock::now();
    if (!ec) {
      conn->busy = true;
      conn->ExpireAfter(options_.read_timeout);
      if (log_.Enabled(LogLevel::kDebug)) {
        log_.Debug("request started", {{"method", parser.get().method_string()},
                                       {"path", TargetPath(parser.get().target())},
                                       {"remote", remote}});
      }
      const std::size_t route_limit = router_.BodyLimit(parser.get().method(), parser.get().target());
      body_limit = route_limit > 0 ? route_limit : options_.max_body_bytes;
      parser.body_limit(body_limit);
      if (parser.content_length() && *parser.content_length() > body_limit) {
        ec = http::error::body_limit;
      } else if (!parser.is_done()) {
        std::tie(ec, n) = co_await http::async_read(socket, buffer, parser, kTuple);
      }
    }
    if (ec) {
      const unsigned version = parser.is_header_done() ? parser.get().version() : 11;
      const bool got_some = parser.got_some() || buffer.size() > 0;
      if (conn->timed_out) {
        if (got_some) {
          log_.Info("request timed out", {{"remote", remote}, {"after_ms", options_.read_timeout.count()}});
          co_await WriteError(
              *conn, http::status::request_timeout, "request_timeout",
              "the request did not arrive within " + std::to_string(options_.read_timeout.count()) + " ms", version);
        }
      } else if (ec == http::error::body_limit) {
        co_await WriteError(*conn, http::status::payload_too_large, "payload_too_large",
                            "the body is larger than " + std::to_string(body_limit) + " bytes", version);
      } else if (ec == http::error::header_limit) {
        co_await WriteError(*conn, http::status::request_header_fields_too_large, "header_too_large",
                            "the header is larger than " + std::to_string(options_.max_header_bytes) + " bytes",
                            version);
      } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        co_await WriteError(*conn, http::status::bad_request, "bad_request", "malformed request: " + ec.message(),
                            version);
      }
      // end_of_stream, resets, a cancelled idle read at shutdown: just close.
      break;
    }

    HttpRequest req = parser.release();
    conn->parser = nullptr;
    // The peer address for handlers that check it (an IP allow-list); a client's own copy of
    // the field is dropped first so it cannot claim another address.
    req.erase(kPeerAddressField);
    req.set(kPeerAddressField, remote);
    Router::Routed routed = co_await router_.Dispatch(req);
    HttpResponse& res = routed.response;
    const bool keep_alive = req.keep_alive() && !conn->closing;
    res.version(req.version());
    res.keep_alive(keep_alive);
    conn->ExpireAfter(options_.write_timeout);
    auto [wec, written] = co_await http::async_write(socket, res, kTuple);
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    metrics_.ObserveRequest(routed.route, static_cast<int>(res.result_int()), seconds);
    if (options_.access_log && log_.Enabled(LogLevel::kInfo)) {
      log_.Info("request", {{"method", req.method_string()},
                            {"path", TargetPath(req.target())},
                            {"status", res.result_int()},
                            {"ms", std::round(seconds * 1e6) / 1e3},
                            {"in", req.body().size()},
                            {"out", written},
                            {"remote", remote}});
    }
    if (wec || !keep_alive) break;
  }

  conn->finished = true;
  conn->timer.cancel();
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
  conn->socket = nullptr;
  conn->buffer = nullptr;
  conn->parser = nullptr;
}

net::awaitable<void> Server::Shutdown() { co_await net::co_spawn(strand_, DoShutdown(), net::use_awaitable); }

net::awaitable<void> Server::DoShutdown() {
  if (stopping_) co_return;
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& entry : connections_) {
    net::post(entry.second->executor, [conn = entry.second] {
      conn->closing = true;
      if (!conn->InFlight() && conn->socket != nullptr) {
        boost::system::error_code ec;
        conn->socket->cancel(ec);
      }
    });
  }
  if (!connections_.empty()) {
    drained_.expires_after(options_.shutdown_grace);
    co_await drained_.async_wait(kTuple);
  }
  if (!connections_.empty()) {
    log_.Warn("closing connections still open after the grace period", {{"count", connections_.size()}});
    for (const auto& entry : connections_) {
      net::post(entry.second->executor, [conn = entry.second] {
        if (conn->socket != nullptr) {
          boost::system::error_code ec;
          conn->socket->close(ec);
        }
      });
    }
    drained_.expires_after(std::chrono::seconds(1));
    co_await drained_.async_wait(kTuple);
  }
}

}  // namespace duijie::bot
