// SMS dispatch throughput: N pushes (distinct numbers, the SMS rules on) through the outbox —
// claim, gate, render, sign, send, record — to the loopback fake Tencent API, against the same
// N sends made directly with the provider (no outbox) in the same run: the fake's own accept rate
// as our client sees it. Prints both rates, the ratio, and the resident memory while the outbox
// drains. Driven by bench/sms_dispatch.sh, which starts the fake.
//   sms_dispatch_bench <fake port> <messages> <concurrency> <database path> [broadcast]
// With "broadcast" the messages are a broadcast's (issue 9): N people in the store, one broadcast
// to all of them by SMS, planned through dialogs/broadcasts before the clock starts.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/app.hpp"
#include "bot/dispatcher.hpp"
#include "broadcast_seed.hpp"
#include "channels/curl_http_client.hpp"
#include "channels/sms/policy.hpp"
#include "channels/sms/providers.hpp"
#include "channels/sms/sender.hpp"
#include "dialogs/broadcasts.hpp"
#include "dialogs/pushes.hpp"
#include "store/migrations.hpp"
#include "store/writer.hpp"
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

namespace duijie {
namespace {

using Clk = std::chrono::steady_clock;

constexpr std::string_view kTemplates =
    R"({"match_push": {"params": ["title", "code"], "text": "新技术需求：{title}。回复1有意向，回复2不考虑，回复TD退订。{code}",
                       "tencent": "3001"},
        "reminder": {"params": ["text"], "text": "{text}回复TD退订。", "tencent": "3002"}})";

long RssKb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      return value;
    }
    status.ignore(1 << 10, '\n');
  }
  return 0;
}

// CPU seconds so far of each of this process's threads, by thread name.
std::map<std::string, double> ThreadCpu() {
  std::map<std::string, double> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::ifstream stat(task.path() / "stat");
    std::string name;
    std::string line;
    std::getline(comm, name);
    std::getline(stat, line);
    // Fields 14 and 15 (utime, stime) follow the parenthesised name, which may hold spaces.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    double utime = 0;
    double stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    out[name] += (utime + stime) / tick;
  }
  return out;
}

long PeakKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Takes the next message number until `n` and sends it straight to the provider.
net::awaitable<void> SendUntil(channels::sms::Provider& provider, const channels::sms::Templates& templates,
                               std::atomic<int>& next, std::atomic<int>& failed, int n) {
  for (int i = next++; i < n; i = next++) {
    auto rendered = templates.Render("match_push", {{"title", "风电叶片防冰涂层" + std::to_string(i)}, {"code", "A7K"}},
                                     "科技服务");
    const channels::sms::SmsRequest req{bench::BenchMobile(i), std::move(*rendered), "direct" + std::to_string(i), ""};
    const auto r = co_await provider.Send(req);
    if (r.outcome != store::AttemptOutcome::kSent) ++failed;
  }
}

// N sends straight to the provider with `concurrency` in flight: the ceiling for the outbox.
double Direct(net::io_context& ioc, channels::sms::Provider& provider, const channels::sms::Templates& templates, int n,
              int concurrency) {
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  const auto start = Clk::now();
  for (int w = 0; w < concurrency; ++w) {
    net::co_spawn(ioc, SendUntil(provider, templates, next, failed, n), net::detached);
  }
  ioc.restart();
  ioc.run();
  const double seconds = std::chrono::duration<double>(Clk::now() - start).count();
  if (failed > 0) std::cerr << "direct: " << failed << " sends failed\n";
  return n / seconds;
}

// The same sends from `threads` threads, each blocking in its own transfer (curl_easy_perform):
// the hardest our process can drive the fake, so the peer is the fake's capacity and not our
// client's. The ratio is taken against the better of the two direct rates.
double DirectBlocking(const Clock& clock, const channels::sms::TencentSettings& settings,
                      const channels::sms::Templates& templates, int n, int threads) {
  class Blocking final : public channels::HttpClient {
   public:
    net::awaitable<Result<channels::ClientResponse>> Send(channels::ClientRequest request) override {
      co_return channels::CurlHttpClient::Perform(request);
    }
  };
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  const auto start = Clk::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      net::io_context ioc;
      Blocking http;
      channels::sms::TencentProvider provider(http, clock, settings);
      net::co_spawn(ioc, SendUntil(provider, templates, next, failed, n), net::detached);
      ioc.run();
    });
  }
  for (auto& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(Clk::now() - start).count();
  if (failed > 0) std::cerr << "direct (blocking): " << failed << " sends failed\n";
  return n / seconds;
}

}  // namespace
}  // namespace duijie

int main(int argc, char** argv) {
  using namespace duijie;
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: sms_dispatch_bench <fake port> <messages> <concurrency> <database> [broadcast]\n";
    return 2;
  }
  const std::string base = "http://127.0.0.1:" + std::string(argv[1]) + "/tencent";
  const int n = std::stoi(argv[2]);
  const bot::Config gateway;
  const int concurrency = std::stoi(argv[3]) > 0 ? std::stoi(argv[3]) : gateway.dispatcher.concurrency;
  const std::string db = argv[4];

  SystemClock clock;
  SystemRandom random;
  Logger log(clock, LogLevel::kWarn);
  // As the gateway runs: its HTTP client, its dispatcher settings (a concurrency of 0 on the
  // command line means the gateway's default).
  channels::CurlHttpClient http(bot::kProviderTransfers);
  const auto templates = *channels::sms::Templates::Parse(kTemplates);
  const channels::sms::TencentSettings tencent_settings{base,
                                                        "ap-guangzhou",
                                                        "AKIDfake",
                                                        "tencent-fake-secret",
                                                        "1400006666",
                                                        "科技服务",
                                                        std::chrono::milliseconds(5000)};
  channels::sms::TencentProvider tencent(http, clock, tencent_settings);
  const long rss_start = RssKb();

  const auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  net::io_context direct_ioc;
  // Warms the fake up (its JIT) first, so that neither measured half runs against a cold peer.
  (void)Direct(direct_ioc, tencent, templates, std::max(1, n / 5), concurrency);
  const double c0 = cpu();
  const double direct_async = Direct(direct_ioc, tencent, templates, n, concurrency);
  const double direct_cpu_us = (cpu() - c0) * 1e6 / n;
  const double direct_blocking =
      DirectBlocking(clock, tencent_settings, templates, n, static_cast<int>(bot::kProviderTransfers));
  const double direct = std::max(direct_async, direct_blocking);

  const bool broadcast = argc == 6 && std::string_view(argv[5]) == "broadcast";
  {
    store::Connection c(db, {});
    if (!store::Migrate(c)) return 1;
    if (broadcast) {
      bench::SeedPeople(c, n);
      const nlohmann::json request = {{"title", "合同签订提醒"},
                                      {"audience", nlohmann::json::object()},
                                      {"message", {{"text", "{name}您好，合同请于2月28日前签订。"}}},
                                      {"channels", {"sms"}},
                                      {"send_at", "now"}};
      const auto& programme = dialogs::Programme::Embedded().at("hubei-2020");
      const dialogs::Staff staff{"bench", "admin", std::nullopt};
      SQLite::Transaction tx(c.Db());
      (void)dialogs::CreateBroadcast(c, programme, dialogs::Catalogue::Embedded(), staff, request, "bench",
                                     clock.Now());
      dialogs::BroadcastPolicy unwindowed;
      unwindowed.window = 0;
      for (bool more = true; more;) {
        more = dialogs::RunBroadcasts(c, programme, dialogs::Catalogue::Embedded(), unwindowed, clock.Now(), 5000).more;
      }
      tx.commit();
    }
  }
  store::Writer writer(db, {}, 1024);
  if (!broadcast)
    writer.RunSync([&](store::Connection& c) {
      const auto now = ToUnixMillis(clock.Now());
      for (int i = 0; i < n; ++i) {
        store::NewOutboxMessage m;
        m.idempotency_key = "push-" + std::to_string(i);
        m.channel = "sms";
        m.recipient = bench::BenchMobile(i);
        m.kind = "match_push";
        m.payload = nlohmann::json{{"kind", "text"},
                                   {"text", ""},
                                   {"template_id", "match_push"},
                                   {"params", {{"title", "风电叶片防冰涂层" + std::to_string(i)}, {"code", "A7K"}}}}
                        .dump();
        store::OutboxRepository::Enqueue(c, m, now);
      }
    });

  channels::sms::SmsSender sender(templates, "科技服务", channels::sms::Routes{&tencent, nullptr, nullptr}, clock);
  bot::DispatcherOptions options;
  options.instance = "bench";
  options.batch = gateway.dispatcher.batch;
  options.concurrency = concurrency;
  channels::sms::PolicySettings policy;
  policy.quiet_start_minute = policy.quiet_end_minute = 0;  // any time of day; the caps stay on
  options.gates["sms"] = [policy](store::Connection& c, const store::OutboxMessage& m, std::int64_t now_ms) {
    return channels::sms::CheckSms(c, m, now_ms, policy);
  };
  // As the gateway wires it: each push looks for others waiting for its number (none here).
  options.coalesce["sms"] = [](store::Connection& c, store::OutboxMessage& m, std::int64_t now_ms) {
    dialogs::CoalescePushes(c, dialogs::Catalogue::Embedded(), m, now_ms, 5);
  };
  const auto threads0 = ThreadCpu();
  const auto commits0 = writer.GetStats().batches;
  net::io_context ioc;
  bot::Dispatcher dispatcher(ioc.get_executor(), writer, {{"sms", &sender}}, clock, random, nullptr, log, options);
  const auto start_ms = ToUnixMillis(clock.Now());
  const double c1 = cpu();
  dispatcher.Start();
  std::vector<long> rss_samples;
  std::int64_t sent = 0;
  net::steady_timer tick(ioc);
  // Progress is read on a connection of its own: counting a large outbox through the writer
  // would take the writer's time from the dispatcher being measured.
  store::Connection progress(db, store::ConnectionOptions{.read_only = true});
  std::map<std::string, double> threads1;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        for (;;) {
          tick.expires_after(std::chrono::milliseconds(200));
          co_await tick.async_wait(net::use_awaitable);
          sent = progress.Db().execAndGet("SELECT count(*) FROM outbox WHERE status = 'sent'").getInt64();
          rss_samples.push_back(RssKb());
          if (sent >= n) break;
        }
        co_await dispatcher.Stop();
        threads1 = ThreadCpu();  // before the second I/O thread ends and leaves /proc
        ioc.stop();
      },
      net::detached);
  std::thread second([&] {
    pthread_setname_np(pthread_self(), "bench-io-2");
    ioc.run();
  });
  ioc.run();
  second.join();
  // Until the last outcome was recorded (not the progress tick that saw it).
  const auto last_ms = writer.RunSync([](store::Connection& c) {
    return c.Db().execAndGet("SELECT max(finished_at) FROM outbox WHERE status = 'sent'").getInt64();
  });
  const double outbox = n / (static_cast<double>(std::max<std::int64_t>(1, last_ms - start_ms)) / 1000.0);
  const double outbox_cpu_us = (cpu() - c1) * 1e6 / n;
  const auto commits = writer.GetStats().batches - commits0;
  std::string by_thread;
  double writer_cpu_us = 0;
  for (const auto& [name, seconds] : threads1) {
    const auto before = threads0.find(name);
    const double us = (seconds - (before == threads0.end() ? 0.0 : before->second)) * 1e6 / n;
    if (name == "duijie-writer") writer_cpu_us = us;
    by_thread += " " + name + " " + std::to_string(static_cast<long>(us));
  }
  const auto counts = writer.RunSync([](store::Connection& c) { return store::OutboxRepository::CountByStatus(c); });
  http.Stop();

  const auto quarter = [&](std::size_t q) {
    return rss_samples.empty() ? 0 : rss_samples[(rss_samples.size() - 1) * q / 4];
  };
  std::cout << "messages            " << n << " (sent " << sent << ", other statuses " << counts.size() - 1 << ")\n"
            << "concurrency         " << concurrency << "\n"
            << "direct (fake alone) " << static_cast<long>(direct) << " msg/s (the better of: our client "
            << static_cast<long>(direct_async) << ", " << bot::kProviderTransfers << " blocking threads "
            << static_cast<long>(direct_blocking) << ")\n"
            << "through the outbox  " << static_cast<long>(outbox) << " msg/s\n"
            << "ratio               " << outbox / direct << "\n"
            << "our CPU per message " << static_cast<long>(direct_cpu_us) << " us direct, "
            << static_cast<long>(outbox_cpu_us) << " us through the outbox (the fake's is not counted), of which "
            << static_cast<long>(writer_cpu_us) << " us on the store's writer thread\n"
            << "CPU us per message through the outbox, by thread (clock ticks):" << by_thread << "\n"
            << "writer transactions " << commits << " (" << static_cast<double>(n) / static_cast<double>(commits)
            << " messages each)\n"
            << "RSS kB at start / 25% / 50% / 75% / end of the drain: " << rss_start << " / " << quarter(1) << " / "
            << quarter(2) << " / " << quarter(3) << " / " << quarter(4) << "\n"
            << "peak RSS kB         " << PeakKb() << "\n";
  return sent == n ? 0 : 1;
}
