#include "bot/http/responses.hpp"

namespace duijie::bot {

HttpResponse TextResponse(http::status status, std::string body, std::string_view content_type) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse JsonResponse(http::status status, const nlohmann::json& body) {
  return TextResponse(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

HttpResponse JsonError(http::status status, std::string_view code, std::string_view message) {
  return JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
}

}  // namespace duijie::bot
