#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "bot/http/router.hpp"
#include "bot/metrics.hpp"
#include "common/asio.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace duijie::bot {

struct ServerOptions {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds read_timeout{15'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{15'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  std::int64_t max_connections = 10'000;
  bool access_log = true;
};

/// HTTP/1.1 server: keep-alive, a body and header limit, read/idle/write deadlines, and a
/// graceful stop that lets in-flight requests finish.
///
/// Threading follows nginx's workers: each worker is an io_context run by exactly one thread, and
/// every connection lives on one worker for its whole life (accepted connections are dealt out in
/// turn). A connection's coroutine and its watchdog therefore never run concurrently without a
/// strand, and no lock or cross-thread wake-up sits on the request path.
class Server {
 public:
  /// `workers` must each be run by a single thread; the acceptor lives on the first.
  Server(std::vector<net::io_context*> workers, ServerOptions options, const Router& router, Metrics& metrics,
         const Logger& log);

  /// Binds and listens. Port 0 picks a free port; the bound endpoint is returned.
  [[nodiscard]] Result<net::ip::tcp::endpoint> Listen(const std::string& address, std::uint16_t port);
  /// Starts accepting.
  void Start();
  /// Stops accepting, closes idle connections, lets requests already being read or handled finish
  /// (each answered with Connection: close) for up to the grace period, then closes the rest.
  net::awaitable<void> Shutdown();

 private:
  struct Connection;
  net::awaitable<void> AcceptLoop();
  net::awaitable<void> RunSession(net::ip::tcp::socket socket, std::shared_ptr<Connection> conn);
  net::awaitable<void> Watchdog(std::shared_ptr<Connection> conn);
  net::awaitable<void> DoShutdown();
  net::awaitable<bool> WriteError(Connection& conn, http::status status, std::string_view code,
                                  std::string_view message, unsigned version);
  void Forget(std::uint64_t id);

  std::vector<net::io_context*> workers_;
  std::size_t next_worker_ = 0;
  ServerOptions options_;
  const Router& router_;
  Metrics& metrics_;
  const Logger& log_;
  net::strand<net::io_context::executor_type> strand_;  // guards acceptor_, connections_, stopping_
  net::ip::tcp::acceptor acceptor_;
  net::steady_timer drained_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections_;
  std::uint64_t next_id_ = 0;
  bool stopping_ = false;
};

}  // namespace duijie::bot
