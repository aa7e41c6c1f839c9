#include "bot/http/router.hpp"

#include "bot/http/responses.hpp"

namespace duijie::bot {

std::string_view TargetPath(std::string_view target) {
  const auto q = target.find_first_of("?#");
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool PathMatches(std::string_view pattern, std::string_view path) {
  // Segment by segment; "{name}" matches one non-empty segment.
  while (true) {
    const auto ps = pattern.find('/');
    const auto ts = path.find('/');
    const std::string_view pseg = pattern.substr(0, ps);
    const std::string_view tseg = path.substr(0, ts);
    const bool wildcard = pseg.size() >= 2 && pseg.front() == '{' && pseg.back() == '}';
    if (wildcard ? tseg.empty() : pseg != tseg) return false;
    if (ps == std::string_view::npos || ts == std::string_view::npos) return ps == ts;
    pattern.remove_prefix(ps + 1);
    path.remove_prefix(ts + 1);
  }
}

std::vector<std::string_view> PathSegments(std::string_view target) {
  std::vector<std::string_view> out;
  std::string_view path = TargetPath(target);
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

void Router::Add(http::verb method, std::string path, Handler handler, std::size_t max_body_bytes) {
  routes_.push_back(Route{method, std::move(path), std::move(handler), max_body_bytes});
}

std::size_t Router::BodyLimit(http::verb method, std::string_view target) const {
  const std::string_view path = TargetPath(target);
  for (const auto& route : routes_) {
    if (route.method != method) continue;
    if (route.path == path || (route.path.find('{') != std::string::npos && PathMatches(route.path, path))) {
      return route.max_body_bytes;
    }
  }
  return 0;
}

std::size_t Router::LargestBodyLimit() const {
  std::size_t out = 0;
  for (const auto& route : routes_) out = std::max(out, route.max_body_bytes);
  return out;
}

std::vector<Metrics::RouteLabel> Router::Labels() const {
  std::vector<Metrics::RouteLabel> out;
  for (const auto& r : routes_) out.push_back({std::string(http::to_string(r.method)), r.path});
  return out;
}

net::awaitable<Router::Routed> Router::Dispatch(const HttpRequest& req) const {
  const std::string_view path = TargetPath(req.target());
  const http::verb method = req.method() == http::verb::head ? http::verb::get : req.method();
  std::string allow;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& route = routes_[i];
    if (route.path != path && (route.path.find('{') == std::string::npos || !PathMatches(route.path, path))) continue;
    if (route.method != method) {
      allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(route.method));
      continue;
    }
    if (source_limit_ != nullptr && source_limit_->Covers(path)) {
      const auto wait = source_limit_->Take(std::string(req[kPeerAddressField]));
      if (wait > Clock::Duration::zero()) {
        auto res = JsonError(http::status::too_many_requests, "rate_limited",
                             "too many requests from this address; try again later");
        const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
        res.set(http::field::retry_after, std::to_string(std::max<long long>(seconds, 1)));
        co_return Routed{std::move(res), i};
      }
    }
    try {
      HttpResponse res = co_await route.handler(req);
      if (req.method() == http::verb::head) {
        const auto length = res.body().size();
        res.body().clear();
        res.content_length(length);
      }
      co_return Routed{std::move(res), i};
    } catch (const std::exception& e) {
      log_.Error("handler failed", {{"route", route.path}, {"error", e.what()}});
    }
    co_return Routed{JsonError(http::status::internal_server_error, "internal", "internal error; see the server log"),
                     i};
  }
  if (!allow.empty()) {
    auto res = JsonError(http::status::method_not_allowed, "method_not_allowed",
                         std::string(req.method_string()) + " is not allowed on " + std::string(path));
    res.set(http::field::allow, allow);
    co_return Routed{std::move(res), routes_.size()};
  }
  co_return Routed{JsonError(http::status::not_found, "not_found", "no route for " + std::string(path)),
                   routes_.size()};
}

}  // namespace duijie::bot
