#include "channels/curl_http_client.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <curl/curl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

// One handle per thread for Perform, reset between requests: curl keeps the connection cache in
// the handle.
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

// What one request needs while curl runs it: the options point into it, so it stays put.
struct Exchange {
  explicit Exchange(ClientRequest r) : request(std::move(r)), sink{&response, request.max_response_bytes} {}
  ClientRequest request;
  ClientResponse response;
  Sink sink;
  std::unique_ptr<curl_slist, ListDeleter> headers;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

// Sets every option of `x`'s request on `h` (a fresh or reset handle).
void Configure(CURL* h, Exchange& x) {
  const auto& request = x.request;
  for (const auto& [name, value] : request.headers) {
    x.headers.reset(curl_slist_append(x.headers.release(), (name + ": " + value).c_str()));
  }
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, x.headers.get());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM from a worker thread
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // provider APIs do not redirect; never follow blindly
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x.sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x.sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x.error_buffer);
}

// The request's result once curl is done with it.
Result<ClientResponse> Conclude(CURL* h, CURLcode code, Exchange& x) {
  if (x.sink.too_large) {
    return Error(Errc::kTooLarge, "response larger than " + std::to_string(x.request.max_response_bytes) + " bytes");
  }
  if (code != CURLE_OK) return MapCurlError(code, x.error_buffer);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  x.response.status = static_cast<int>(status);
  return std::move(x.response);
}

// Resumes the sender with the result (on the sender's executor). A std::function needs a copyable
// target, so the coroutine's move-only handler is held by a shared_ptr.
using Handler = std::function<void(Result<ClientResponse>)>;

}  // namespace

struct CurlHttpClient::Impl {
  struct Transfer {
    explicit Transfer(ClientRequest r) : exchange(std::move(r)) {}
    Exchange exchange;
    std::unique_ptr<CURL, EasyDeleter> easy;
    Handler handler;
    // Keeps the sender's executor running until the response is delivered to it.
    net::any_io_executor executor;
  };

  explicit Impl(std::size_t max)
      : max_transfers(max == 0 ? 1 : max),
        multi(curl_multi_init()),
        epoll(epoll_create1(EPOLL_CLOEXEC)),
        wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (multi == nullptr || epoll < 0 || wake < 0) {
      if (multi != nullptr) curl_multi_cleanup(multi);
      if (epoll >= 0) close(epoll);
      if (wake >= 0) close(wake);
      throw std::runtime_error("http client: cannot set up its event loop");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake;
    epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &ev);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    thread = std::thread([this] { Loop(); });
  }

  void Submit(std::unique_ptr<Transfer> t) {
    std::lock_guard lock(mu);
    // After Stop it stays queued, never resumed, like every request abandoned on stop.
    queued.push_back(std::move(t));
    // Only a loop asleep in epoll_wait needs the write; one that is awake takes the queue before
    // it sleeps again. Under load that saves a system call per request.
    if (!stopping && sleeping && !woken) {
      woken = true;
      Wake();
    }
  }

  void Stop() {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      stopping = true;
      Wake();
    }
    if (thread.joinable()) thread.join();
  }

  // Abandoned requests go with their handlers here, on the thread that destroys the client, not
  // on the transfer thread while an I/O thread might still run their coroutines' executors.
  ~Impl() {
    Stop();
    for (auto& [key, t] : running) curl_multi_remove_handle(multi, t->easy.get());
    running.clear();
    queued.clear();
    curl_multi_cleanup(multi);
    close(wake);
    close(epoll);
  }

  void Wake() const {
    const std::uint64_t one = 1;
    (void)!write(wake, &one, sizeof one);  // a full counter is still a wake-up
  }

  // curl says which sockets to watch for what (the multi_socket API): only sockets with
  // something to do are touched, where curl_multi_perform and curl_multi_poll walk every
  // transfer and poll every socket on each turn.
  static int OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* self, void* known) {
    auto* impl = static_cast<Impl*>(self);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(impl->epoll, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0U) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0U);
    ev.data.fd = fd;
    if (known == nullptr) {
      epoll_ctl(impl->epoll, EPOLL_CTL_ADD, fd, &ev);
      curl_multi_assign(impl->multi, fd, impl);  // any non-null mark: "registered"
    } else {
      epoll_ctl(impl->epoll, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
  }

  static int OnTimer(CURLM* /*multi*/, long timeout_ms, void* self) {
    auto* impl = static_cast<Impl*>(self);
    if (timeout_ms < 0) {
      impl->deadline.reset();
    } else {
      impl->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  // Moves queued requests into curl while fewer than max_transfers run.
  void Start() {
    std::lock_guard lock(mu);
    while (!queued.empty() && running.size() < max_transfers) {
      auto t = std::move(queued.front());
      queued.pop_front();
      if (spare.empty()) {
        t->easy.reset(curl_easy_init());
      } else {
        t->easy = std::move(spare.back());
        spare.pop_back();
        curl_easy_reset(t->easy.get());
      }
      Configure(t->easy.get(), t->exchange);
      curl_easy_setopt(t->easy.get(), CURLOPT_PRIVATE, t.get());
      curl_multi_add_handle(multi, t->easy.get());  // sets a timer of 0: started on the next turn
      Transfer* key = t.get();
      running.emplace(key, std::move(t));
    }
    sleeping = true;  // from here until epoll_wait returns, a new request must wake the loop
  }

  // Each finished transfer's result goes to its sender's executor; its handle is kept for reuse.
  void Complete() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Transfer* key = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &key);
      const CURLcode code = m->data.result;
      curl_multi_remove_handle(multi, m->easy_handle);
      auto node = running.extract(key);
      if (node.empty()) continue;
      auto& t = *node.mapped();
      auto result = Conclude(t.easy.get(), code, t.exchange);
      net::post(t.executor,
                [h = std::move(t.handler), r = std::move(result)]() mutable { std::move(h)(std::move(r)); });
      spare.push_back(std::move(t.easy));
    }
  }

  void Loop() {
    pthread_setname_np(pthread_self(), "duijie-http");  // top -H, perf and gdb tell it apart
    std::array<epoll_event, 64> events{};
    int still = 0;
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (stopping) break;
      }
      Start();  // and, under the same lock, marks the loop as about to sleep
      int wait_ms = 1000;
      if (deadline) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
        wait_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1000));
      }
      const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), wait_ms);
      {
        std::lock_guard lock(mu);
        sleeping = false;
        woken = false;
      }
      for (int i = 0; i < n; ++i) {
        const auto& ev = events[static_cast<std::size_t>(i)];
        if (ev.data.fd == wake) {
          std::uint64_t count = 0;
          (void)!read(wake, &count, sizeof count);
          continue;
        }
        const int flags = ((ev.events & EPOLLIN) != 0 ? CURL_CSELECT_IN : 0) |
                          ((ev.events & EPOLLOUT) != 0 ? CURL_CSELECT_OUT : 0) |
                          ((ev.events & (EPOLLERR | EPOLLHUP)) != 0 ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(multi, ev.data.fd, flags, &still);
      }
      if (deadline && std::chrono::steady_clock::now() >= *deadline) {
        deadline.reset();  // curl sets the next one from inside the call if it needs one
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &still);
      }
      Complete();
    }
  }

  const std::size_t max_transfers;
  CURLM* multi;
  const int epoll;
  const int wake;  // an eventfd: a request queued, or Stop
  std::mutex mu;
  std::deque<std::unique_ptr<Transfer>> queued;  // guarded by mu
  bool stopping = false;                         // guarded by mu
  bool sleeping = false;                         // guarded by mu: the loop is in (or about to enter) epoll_wait
  bool woken = false;                            // guarded by mu: the eventfd has been written since
  // Only on the transfer thread:
  std::optional<std::chrono::steady_clock::time_point> deadline;  // curl's timer
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> running;
  std::vector<std::unique_ptr<CURL, EasyDeleter>> spare;
  std::thread thread;
};

CurlHttpClient::CurlHttpClient(std::size_t max_transfers) {
  GlobalInit();
  impl_ = std::make_unique<Impl>(max_transfers);
}

CurlHttpClient::~CurlHttpClient() { Stop(); }

void CurlHttpClient::Stop() { impl_->Stop(); }

Result<ClientResponse> CurlHttpClient::Perform(const ClientRequest& request) {
  GlobalInit();
  CURL* h = ThreadHandle();
  if (h == nullptr) return Error(Errc::kInternal, "curl_easy_init failed");
  Exchange x(request);  // a copy: curl's options point into it
  Configure(h, x);
  const CURLcode code = curl_easy_perform(h);
  return Conclude(h, code, x);
}

net::awaitable<Result<ClientResponse>> CurlHttpClient::Send(ClientRequest request) {
  co_return co_await net::async_initiate<decltype(net::use_awaitable), void(Result<ClientResponse>)>(
      [this](auto handler, ClientRequest req) {
        auto t = std::make_unique<Impl::Transfer>(std::move(req));
        t->executor = net::prefer(net::get_associated_executor(handler), net::execution::outstanding_work.tracked);
        auto held = std::make_shared<decltype(handler)>(std::move(handler));
        t->handler = [held](Result<ClientResponse> r) { std::move (*held)(std::move(r)); };
        impl_->Submit(std::move(t));
      },
      net::use_awaitable, std::move(request));
}

}  // namespace duijie::channels
