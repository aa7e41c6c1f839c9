#include "channels/curl_http_client.hpp"

#include <memory>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <curl/curl.h>

namespace duijie::channels {
namespace {

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// curl_global_init is not thread-safe; do it once, before any handle exists.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One handle per thread, reset between requests: curl keeps the connection cache in the handle.
CURL* ThreadHandle() {
  thread_local std::unique_ptr<CURL, EasyDeleter> handle{curl_easy_init()};
  curl_easy_reset(handle.get());
  return handle.get();
}

struct Sink {
  ClientResponse* response;
  std::size_t limit;
  bool too_large = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t len = size * n;
  if (sink->response->body.size() + len > sink->limit) {
    sink->too_large = true;
    return 0;  // makes curl abort the transfer
  }
  sink->response->body.append(data, len);
  return len;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) sink->response->headers.clear();  // a new response (redirect, 100)
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
    sink->response->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * n;
}

Error MapCurlError(CURLcode code, const char* detail) {
  const std::string message =
      std::string(curl_easy_strerror(code)) + (detail[0] != '\0' ? std::string(": ") + detail : "");
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Error(Errc::kTimeout, message);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return Error(Errc::kUnavailable, message);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error(Errc::kInvalidArgument, message);
    default:
      // After the connection was made we cannot know whether the provider acted on the request.
      return Error(Errc::kTimeout, message);
  }
}

}  // namespace

CurlHttpClient::CurlHttpClient(std::size_t threads) : pool_(threads == 0 ? 1 : threads) { GlobalInit(); }

CurlHttpClient::~CurlHttpClient() { Stop(); }

void CurlHttpClient::Stop() {
  pool_.stop();
  pool_.join();
}

Result<ClientResponse> CurlHttpClient::Perform(const ClientRequest& request) {
  GlobalInit();
  CURL* h = ThreadHandle();
  if (h == nullptr) return Error(Errc::kInternal, "curl_easy_init failed");
  ClientResponse response;
  Sink sink{&response, request.max_response_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::unique_ptr<curl_slist, ListDeleter> headers;
  for (const auto& [name, value] : request.headers) {
    headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
  }
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM from a worker thread
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // provider APIs do not redirect; never follow blindly
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode code = curl_easy_perform(h);
  if (sink.too_large) {
    return Error(Errc::kTooLarge, "response larger than " + std::to_string(request.max_response_bytes) + " bytes");
  }
  if (code != CURLE_OK) return MapCurlError(code, error_buffer);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

net::awaitable<Result<ClientResponse>> CurlHttpClient::Send(ClientRequest request) {
  const auto transfer = [request = std::move(request)]() -> net::awaitable<Result<ClientResponse>> {
    co_return Perform(request);
  };
  co_return co_await net::co_spawn(pool_.get_executor(), transfer, net::use_awaitable);
}

}  // namespace duijie::channels
