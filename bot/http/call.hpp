#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "common/asio.hpp"
#include "common/error.hpp"

namespace duijie::bot {

/// Where the command-line tools reach a running gateway.
struct Endpoint {
  std::string host;
  std::string port;
};

/// "http://host:port" (the default port 80) → an endpoint; nothing for anything else.
[[nodiscard]] std::optional<Endpoint> ParseEndpoint(std::string_view url);

/// One request on a fresh connection with a deadline on the whole exchange, for the command-line
/// tools (`duijie chat`, `duijie broadcast`). The Host header and the payload length are set here.
[[nodiscard]] Result<HttpResponse> CallOnce(const Endpoint& ep, HttpRequest req, std::chrono::milliseconds timeout);

}  // namespace duijie::bot
