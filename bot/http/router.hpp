#pragma once
#include <functional>
#include <string>
#include <vector>

#include "bot/http/source_limit.hpp"
#include "bot/metrics.hpp"
#include "common/asio.hpp"
#include "common/log.hpp"

namespace duijie::bot {

/// Maps (method, path) to a handler. A plain function from request to response, so every route
/// is testable without sockets; the one place errors become HTTP statuses.
class Router {
 public:
  using Handler = std::function<net::awaitable<HttpResponse>(const HttpRequest&)>;

  struct Routed {
    HttpResponse response;
    std::size_t route = 0;  // index for metrics; routes().size() when nothing matched
  };

  explicit Router(const Logger& log) : log_(log) {}

  /// Path match on the target without its query string; a segment written "{name}" in `path`
  /// matches any one non-empty segment (the handler reads it with PathSegments).
  /// `max_body_bytes` > 0 lets this route take bodies larger than the server's default (inbound
  /// mail with attachments); 0 keeps the default.
  void Add(http::verb method, std::string path, Handler handler, std::size_t max_body_bytes = 0);

  /// The body limit of the route `method` `target` reaches, or 0 for the server's default.
  [[nodiscard]] std::size_t BodyLimit(http::verb method, std::string_view target) const;
  /// The largest body limit any route sets (0: none sets one).
  [[nodiscard]] std::size_t LargestBodyLimit() const;

  /// 404 for an unknown path, 405 with Allow for a known path and another method, 500 (logged)
  /// when a handler throws. HEAD is served by the GET handler without the body.
  net::awaitable<Routed> Dispatch(const HttpRequest& req) const;

  [[nodiscard]] std::vector<Metrics::RouteLabel> Labels() const;
  /// Requests to the paths `limit` covers are counted per source (the peer address the server
  /// sets) and answered 429 with Retry-After beyond its rate; the metrics count them by route.
  void LimitSources(SourceLimit* limit) { source_limit_ = limit; }
  [[nodiscard]] std::size_t Size() const { return routes_.size(); }

 private:
  struct Route {
    http::verb method;
    std::string path;
    Handler handler;
    std::size_t max_body_bytes = 0;
  };
  std::vector<Route> routes_;
  const Logger& log_;
  SourceLimit* source_limit_ = nullptr;
};

/// Set by the server on every request to the connection's peer address (never the client's).
inline constexpr std::string_view kPeerAddressField = "X-Duijie-Peer";

/// The path part of a request target ("/a/b?x=1" -> "/a/b").
[[nodiscard]] std::string_view TargetPath(std::string_view target);
/// The path's segments ("/api/v1/needs/7" -> api, v1, needs, 7).
[[nodiscard]] std::vector<std::string_view> PathSegments(std::string_view target);
/// Whether `path` fits `pattern` ("/api/v1/needs/{id}" fits "/api/v1/needs/7").
[[nodiscard]] bool PathMatches(std::string_view pattern, std::string_view path);

}  // namespace duijie::bot
