#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/asio.hpp"

namespace duijie::bot {

/// A JSON response; the session sets version and keep-alive from the request.
[[nodiscard]] HttpResponse JsonResponse(http::status status, const nlohmann::json& body);
/// The admin API's error shape (DESIGN.md §4): {"error": {"code": ..., "message": ...}}.
[[nodiscard]] HttpResponse JsonError(http::status status, std::string_view code, std::string_view message);
[[nodiscard]] HttpResponse TextResponse(http::status status, std::string body, std::string_view content_type);

}  // namespace duijie::bot
