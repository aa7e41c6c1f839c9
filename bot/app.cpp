#include "bot/app.hpp"

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <SQLiteCpp/Exception.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/broadcast_runner.hpp"
#include "bot/dispatcher.hpp"
#include "bot/handlers/admin_handler.hpp"
#include "bot/handlers/email_handler.hpp"
#include "bot/handlers/health_handler.hpp"
#include "bot/handlers/sms_handler.hpp"
#include "bot/handlers/wecom_handler.hpp"
#include "bot/http/router.hpp"
#include "bot/http/server.hpp"
#include "bot/kf_sync.hpp"
#include "bot/match.hpp"
#include "bot/match_service.hpp"
#include "bot/metrics.hpp"
#include "bot/push_planner.hpp"
#include "channels/curl_http_client.hpp"
#include "channels/email/smtp_sender.hpp"
#include "channels/sandbox_sender.hpp"
#include "channels/sms/policy.hpp"
#include "channels/sms/providers.hpp"
#include "channels/sms/sender.hpp"
#include "channels/wecom/crypto.hpp"
#include "channels/wecom/kf.hpp"
#include "channels/wecom/media.hpp"
#include "channels/wecom/replay_cache.hpp"
#include "channels/wecom/robot_sender.hpp"
#include "channels/wecom/sender.hpp"
#include "common/digest.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/pushes.hpp"
#include "store/migrations.hpp"
#include "store/readers.hpp"
#include "store/retention.hpp"
#include "store/suppressions.hpp"
#include "store/writer.hpp"
#include <unistd.h>

namespace duijie::bot {
namespace {

store::ConnectionOptions ConnectionOptionsFrom(const StoreConfig& c) {
  store::ConnectionOptions o;
  o.busy_timeout = c.busy_timeout;
  o.synchronous = c.synchronous;
  return o;
}

std::string InstanceId(const Clock& clock) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(ToUnixMillis(clock.Now()));
}

// The key of reply tokens and Message-ID tags: the configured one, else one the database keeps
// (a restart must not orphan the replies in flight).
std::string EmailTokenSecret(const Config& config, const Clock& clock) {
  if (!config.email.token_secret.empty()) return config.email.token_secret;
  store::Connection conn(config.store.path, ConnectionOptionsFrom(config.store));
  return store::LocalSecret(conn, "email.token_secret", RandomHex(32), ToUnixMillis(clock.Now()));
}

bool MigrateDatabase(const StoreConfig& store_config, const Logger& log) {
  try {
    store::Connection conn(store_config.path, ConnectionOptionsFrom(store_config));
    const auto report = store::Migrate(conn);
    if (!report) {
      log.Error("migration failed", {{"path", store_config.path}, {"error", report.error().message}});
      return false;
    }
    if (report->from_version != report->to_version) {
      log.Info(
          "database migrated",
          {{"path", store_config.path}, {"from_version", report->from_version}, {"to_version", report->to_version}});
    }
    return true;
  } catch (const SQLite::Exception& e) {
    log.Error("cannot open the database", {{"path", store_config.path}, {"error", e.what()}});
    return false;
  }
}

// Message retention: the bodies of messages finished more than `days` ago dropped, hourly and
// at start, in batches short enough not to hold up the writer's other work.
net::awaitable<void> ScrubOldMessagesForever(store::Writer& writer, const Clock& clock, int days, const Logger& log) {
  constexpr int kBatch = 500;
  const auto period = std::chrono::hours(1);
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    try {
      const std::int64_t before_ms = ToUnixMillis(clock.Now()) - std::int64_t{days} * 86'400'000;
      const auto batch = [before_ms](store::Connection& c) { return store::ScrubOldMessages(c, before_ms, kBatch); };
      store::Scrubbed total{.more = true};
      while (total.more) {
        total += co_await writer.Run(batch);
      }
      if (total.Total() > 0) {
        log.Info("old messages scrubbed",
                 {{"inbox", total.inbox}, {"outbox", total.outbox}, {"sandbox", total.sandbox}, {"days", days}});
      }
    } catch (const std::exception& e) {
      log.Warn("message retention failed; trying again", {{"error", e.what()}});
    }
    timer.expires_after(period);
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

}  // namespace

int RunMigrate(const Config& config, Logger& log) {
  try {
    store::Connection conn(config.store.path, ConnectionOptionsFrom(config.store));
    const auto report = store::Migrate(conn);
    if (!report) {
      std::cerr << "duijie migrate: " << report.error().message << "\n";
      return 1;
    }
    std::cout << "database " << config.store.path << ": schema version " << report->from_version << " -> "
              << report->to_version << (report->from_version == report->to_version ? " (up to date)" : "") << "\n";
    return 0;
  } catch (const SQLite::Exception& e) {
    log.Error("cannot open the database", {{"path", config.store.path}, {"error", e.what()}});
    std::cerr << "duijie migrate: cannot open " << config.store.path << ": " << e.what() << "\n";
    return 1;
  }
}

int App::Run() {
  SystemClock clock;
  SystemRandom random;
  if (!MigrateDatabase(config_.store, log_)) return 1;

  std::unique_ptr<store::Writer> writer;
  std::unique_ptr<store::Readers> readers;
  try {
    writer = std::make_unique<store::Writer>(config_.store.path, ConnectionOptionsFrom(config_.store),
                                             static_cast<std::size_t>(config_.store.max_batch));
    readers = std::make_unique<store::Readers>(config_.store.path, ConnectionOptionsFrom(config_.store),
                                               static_cast<std::size_t>(config_.store.readers));
  } catch (const SQLite::Exception& e) {
    log_.Error("cannot open the database", {{"path", config_.store.path}, {"error", e.what()}});
    return 1;
  }

  // The matcher is built from the store after the server is up (a national pool takes most of a
  // minute), then kept current; until then its route answers 503.
  std::unique_ptr<MatchService> matches;
  try {
    matches = std::make_unique<MatchService>(AnalyzerFromConfig(config_.matcher));
  } catch (const std::runtime_error& e) {
    log_.Error("cannot start the matcher", {{"error", e.what()}});
    return 1;
  }

  const int threads = config_.http.threads > 0 ? config_.http.threads
                                               : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  // One io_context per I/O thread (see Server): the first also runs the acceptor, the signal
  // handler and the dispatcher.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::io_context*> workers;
  for (int i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<net::io_context>(1));
    workers.push_back(contexts.back().get());
  }
  net::io_context& ioc = *workers.front();
  auto stop_all = [&workers] {
    for (auto* w : workers) w->stop();
  };

  Metrics metrics;

  // Every channel without credentials runs in sandbox mode (DESIGN.md §4).
  channels::SandboxSender sandbox(*writer, clock);
  // Provider calls run on the client's own thread (curl multi), at most kProviderTransfers at
  // once. A provider that is slow or never answers (up to its timeout) holds one slot per call,
  // so it must not hold them all: the soak (issue 10) saw 4 stall every channel for seconds while
  // one provider hung.
  channels::CurlHttpClient http_client(kProviderTransfers);
  std::optional<channels::wecom::ApiClient> wecom_api;
  std::optional<channels::wecom::Sender> wecom_sender;
  if (config_.wecom.SendingConfigured()) {
    wecom_api.emplace(http_client, clock,
                      channels::wecom::ApiSettings{config_.wecom.api_base, config_.wecom.corp_id, config_.wecom.secret,
                                                   config_.wecom.agent_id, std::chrono::milliseconds(5000)});
    wecom_sender.emplace(*wecom_api);
  }
  std::optional<channels::wecom::RobotSender> robot_sender;
  if (!config_.wecom_robot.keys.empty()) {
    robot_sender.emplace(http_client, channels::wecom::RobotSettings{config_.wecom.api_base, config_.wecom_robot.keys,
                                                                     std::chrono::milliseconds(5000)});
  }
  std::optional<channels::wecom::KfSender> kf_sender;
  if (wecom_api) kf_sender.emplace(*wecom_api, *writer, clock);
  // The kf sync task tells the dispatcher about the answers it queued; the dispatcher is built
  // below, from these senders.
  Dispatcher* dispatcher_ref = nullptr;
  // "推荐需求" and "推荐人选" ask the matcher on the writer thread (inside the message's transaction): a few
  // milliseconds at national scale, for an occasional question.
  const dialogs::Recommenders recommender{
      [&matches](const matcher::Researcher& r, std::size_t limit) {
        return matches->Ready() ? matches->NeedsFor(r, limit) : std::vector<matcher::Match>{};
      },
      [&matches](const matcher::Need& n, std::size_t limit) {
        return matches->Ready() ? matches->ResearchersFor(n, limit) : std::vector<matcher::Match>{};
      }};
  const dialogs::Conversations conversations(
      dialogs::Engine::Standard(), dialogs::Programme::Embedded().at(config_.programme.id),
      dialogs::Catalogue::Embedded(), recommender, nullptr, config_.dialogs.max_state_bytes);
  std::optional<KfSync> kf_sync;
  if (wecom_api) {
    kf_sync.emplace(*wecom_api, *writer, clock, conversations, log_, [&dispatcher_ref] {
      if (dispatcher_ref != nullptr) dispatcher_ref->Notify();
    });
  }
  std::optional<channels::wecom::MediaFetcher> media_fetcher;
  if (wecom_api) {
    media_fetcher.emplace(*wecom_api, *writer, clock,
                          channels::wecom::MediaSettings{config_.store.files_dir, config_.wecom.max_media_bytes});
  }
  // SMS: providers with credentials, routed by number (SmsSender); templates from the
  // configured file or the embedded defaults.
  std::optional<channels::sms::Templates> sms_templates_file;
  if (!config_.sms.templates_file.empty()) {
    std::ifstream in(config_.sms.templates_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = channels::sms::Templates::Parse(text.str());
    if (!in || !parsed) {
      log_.Error("sms.templates_file cannot be used",
                 {{"path", config_.sms.templates_file}, {"error", parsed ? "cannot be read" : parsed.error().message}});
      return 1;
    }
    sms_templates_file = std::move(*parsed);
  }
  const auto& sms_templates = sms_templates_file ? *sms_templates_file : channels::sms::Templates::Embedded();
  const auto& sc = config_.sms;
  std::optional<channels::sms::TencentProvider> tencent;
  if (sc.TencentConfigured()) {
    tencent.emplace(http_client, clock,
                    channels::sms::TencentSettings{sc.tencent_endpoint, sc.tencent_region, sc.tencent_secret_id,
                                                   sc.tencent_secret_key, sc.tencent_sdk_app_id, sc.sign_name,
                                                   std::chrono::milliseconds(5000)});
  }
  std::optional<channels::sms::AliyunProvider> aliyun;
  if (sc.AliyunConfigured()) {
    aliyun.emplace(
        http_client, clock,
        channels::sms::AliyunSettings{sc.aliyun_endpoint, sc.aliyun_region, sc.aliyun_access_key_id,
                                      sc.aliyun_access_key_secret, sc.sign_name, std::chrono::milliseconds(5000)});
  }
  std::optional<channels::sms::TwilioProvider> twilio;
  if (sc.TwilioConfigured()) {
    twilio.emplace(http_client, channels::sms::TwilioSettings{
                                    sc.twilio_endpoint, sc.twilio_account_sid, sc.twilio_auth_token, sc.twilio_from,
                                    sc.twilio_messaging_service_sid,
                                    sc.public_base_url.empty() ? "" : sc.public_base_url + "/sms/twilio/status",
                                    std::chrono::milliseconds(5000)});
  }
  channels::sms::Provider* tencent_p = tencent ? &*tencent : nullptr;
  channels::sms::Provider* aliyun_p = aliyun ? &*aliyun : nullptr;
  channels::sms::Routes sms_routes;
  sms_routes.primary = sc.provider == "aliyun" ? aliyun_p : tencent_p;
  sms_routes.secondary = sc.provider == "aliyun" ? tencent_p : aliyun_p;
  if (sms_routes.primary == nullptr) std::swap(sms_routes.primary, sms_routes.secondary);
  sms_routes.international = twilio ? &*twilio : nullptr;
  std::optional<channels::sms::SmsSender> sms_sender;
  if (sms_routes.primary != nullptr || sms_routes.international != nullptr) {
    sms_sender.emplace(sms_templates, sc.sign_name, sms_routes, clock, sc.extend_code_digits);
  }

  // Email: SMTP when a server is configured; threading and unsubscribe tokens either way.
  const std::string email_secret = EmailTokenSecret(config_, clock);
  const auto& email_config = config_.email;
  channels::email::MailSettings mail_settings;
  mail_settings.from = {email_config.from_name, email_config.from};
  mail_settings.reply_address = email_config.reply_address;
  mail_settings.message_id_domain = email_config.message_id_domain;
  mail_settings.token_secret = email_secret;
  mail_settings.unsubscribe_mailto = email_config.unsubscribe_mailto;
  mail_settings.public_base_url = email_config.public_base_url;
  mail_settings.files_dir = config_.store.files_dir;
  std::optional<channels::email::SmtpSender> smtp_sender;
  if (email_config.SmtpConfigured()) {
    smtp_sender.emplace(
        channels::email::SmtpSettings{email_config.smtp_url, email_config.smtp_username, email_config.smtp_password,
                                      email_config.smtp_allow_plain, email_config.smtp_ca_file,
                                      email_config.smtp_timeout, email_config.smtp_idle_close,
                                      static_cast<std::size_t>(email_config.smtp_connections),
                                      // Beside the database, like its -wal and -shm files.
                                      config_.store.path == ":memory:" ? "" : config_.store.path + "-smtp-journal"},
        mail_settings, dialogs::Catalogue::Embedded(), clock);
  }

  std::map<std::string, channels::Sender*> senders;
  // Pulling kf messages and fetching files are tasks, not channels: no rate settings of their own.
  senders["wecom_kf_sync"] = kf_sync ? static_cast<channels::Sender*>(&*kf_sync) : &sandbox;
  senders["wecom_media"] = media_fetcher ? static_cast<channels::Sender*>(&*media_fetcher) : &sandbox;
  for (const auto& [channel, cfg] : config_.channels) {
    channels::Sender* live = nullptr;
    if (channel == "wecom" && wecom_sender) live = &*wecom_sender;
    if (channel == "wecom_kf" && kf_sender) live = &*kf_sender;
    if (channel == "wecom_robot" && robot_sender) live = &*robot_sender;
    if (channel == "sms" && sms_sender) live = &*sms_sender;
    if (channel == "email" && smtp_sender) live = &*smtp_sender;
    if (live != nullptr) {
      senders[channel] = live;
      log_.Info("channel live", {{"channel", channel}, {"sender", live->Name()}});
      continue;
    }
    senders[channel] = &sandbox;
    log_.Info("channel in sandbox mode: messages are recorded, never sent", {{"channel", channel}});
  }

  DispatcherOptions dopts;
  dopts.instance = InstanceId(clock);
  dopts.batch = config_.dispatcher.batch;
  dopts.concurrency = config_.dispatcher.concurrency;
  dopts.poll_interval = config_.dispatcher.poll_interval;
  dopts.unknown_recheck = config_.dispatcher.unknown_recheck;
  dopts.claim_stale = config_.dispatcher.claim_stale;
  dopts.unknown_give_up = config_.dispatcher.unknown_give_up;
  dopts.backoff = BackoffPolicy{config_.dispatcher.retry_base, config_.dispatcher.retry_cap};
  for (const auto& [channel, cfg] : config_.channels) {
    dopts.rates[channel] = {cfg.rate_per_s, cfg.burst};
    dopts.recipient_limits[channel] = {{cfg.recipient_per_min, std::chrono::minutes(1)},
                                       {cfg.recipient_per_hour, std::chrono::hours(1)}};
  }
  channels::sms::PolicySettings sms_policy;
  if (const auto quiet = ParseQuietHours(sc.quiet_hours)) {
    sms_policy.quiet_start_minute = quiet->first;
    sms_policy.quiet_end_minute = quiet->second;
  } else {
    sms_policy.quiet_start_minute = sms_policy.quiet_end_minute = 0;  // none configured
  }
  sms_policy.per_hour = sc.per_hour;
  sms_policy.per_day = sc.per_day;
  sms_policy.codes_per_hour = sc.codes_per_hour;
  sms_policy.codes_per_day = sc.codes_per_day;
  // The rules hold in sandbox mode too, so what the sandbox records is what would be sent.
  dopts.gates["sms"] = [sms_policy](store::Connection& c, const store::OutboxMessage& m, std::int64_t now_ms) {
    return channels::sms::CheckSms(c, m, now_ms, sms_policy);
  };
  dopts.coalesce["sms"] = [max = sc.coalesce_max](store::Connection& c, store::OutboxMessage& m, std::int64_t now_ms) {
    dialogs::CoalescePushes(c, dialogs::Catalogue::Embedded(), m, now_ms, max);
  };
  // Bounced and unsubscribed addresses get no more mail; the message falls back to the next channel.
  dopts.gates["email"] = [](store::Connection& c, const store::OutboxMessage& m, std::int64_t) {
    if (auto reason = store::Suppressions::Find(c, "email", m.recipient)) {
      return channels::GateDecision{channels::GateDecision::Kind::kRefuse, 0, "email suppressed: " + *reason};
    }
    return channels::GateDecision{};
  };
  // A number the provider says will never take our SMS is suppressed: later messages go to the
  // person's next channel without being tried (an opt-out taken back does not lift it).
  dopts.after_failure["sms"] = [](store::Connection& c, const store::OutboxMessage& m,
                                  const store::AttemptRecord& record, std::int64_t now_ms) {
    if (const auto reason = channels::sms::UnreachableReason(record)) {
      store::Suppressions::Add(c, "sms", m.recipient, *reason, record.sender + ": " + record.error.substr(0, 200),
                               now_ms);
    }
  };
  dopts.after_failure["email"] = [](store::Connection& c, const store::OutboxMessage& m,
                                    const store::AttemptRecord& record, std::int64_t now_ms) {
    if (channels::email::RecipientRefused(record)) {
      store::Suppressions::Add(c, "email", m.recipient, "bounce", "smtp: " + record.error.substr(0, 200), now_ms);
    }
  };
  Dispatcher dispatcher(ioc.get_executor(), *writer, senders, clock, random, &metrics, log_, dopts);
  dispatcher_ref = &dispatcher;

  Router router(log_);
  SourceLimit webhook_limit({"/wecom/", "/sms/", "/email/"}, config_.http.webhook_rate_per_source,
                            config_.http.webhook_burst_per_source, clock);
  router.LimitSources(&webhook_limit);
  AddHealthRoutes(router, HealthDeps{*writer, *readers, metrics, &conversations});
  std::optional<channels::wecom::Crypto> wecom_crypto;
  if (config_.wecom.CallbacksConfigured()) {
    auto crypto = channels::wecom::Crypto::Create(config_.wecom.token, config_.wecom.aes_key, config_.wecom.corp_id);
    if (!crypto) {
      log_.Error("wecom.aes_key is not a valid EncodingAESKey", {{"error", crypto.error().message}});
      return 1;
    }
    wecom_crypto = std::move(*crypto);
  } else {
    log_.Info("wecom callbacks not configured: /wecom/callback answers 503");
  }
  channels::wecom::ReplayCache replay(clock,
                                      std::chrono::duration_cast<Clock::Duration>(2 * config_.wecom.timestamp_window));
  AddWeComRoutes(router, WeComDeps{wecom_crypto ? &*wecom_crypto : nullptr, &replay, *writer, clock, log_,
                                   dialogs::Catalogue::Embedded(), config_.wecom.timestamp_window,
                                   [&dispatcher] { dispatcher.Notify(); }, &conversations});
  AddSmsRoutes(router, SmsDeps{*writer, clock, log_, sc.callback_secret, sc.allow_ip_list, sc.twilio_auth_token,
                               sc.public_base_url, [&dispatcher] { dispatcher.Notify(); }, &conversations,
                               sc.extend_code_digits});
  channels::email::UsedTokens mailgun_tokens(clock, std::chrono::seconds(2 * email_config.mailgun_max_age_s));
  channels::email::ParseLimits mail_limits;
  mail_limits.max_bytes = email_config.max_inbound_bytes;
  mail_limits.max_attachments = email_config.max_inbound_attachments;
  mail_limits.max_attachment_bytes = email_config.max_inbound_attachment_bytes;
  AddEmailRoutes(router, EmailDeps{*writer, clock, log_, dialogs::Catalogue::Embedded(), email_secret,
                                   email_config.inbound_secret, email_config.mailgun_signing_key,
                                   std::chrono::seconds(email_config.mailgun_max_age_s), &mailgun_tokens, mail_limits,
                                   config_.store.files_dir, [&dispatcher] { dispatcher.Notify(); }, &conversations});
  dialogs::BroadcastPolicy broadcast_policy;
  broadcast_policy.channel_order = config_.broadcast.channel_order;
  broadcast_policy.max_per_person_per_day = config_.broadcast.max_per_person_per_day;
  broadcast_policy.window = config_.broadcast.window;
  // The broadcast worker sleeps between ticks; a broadcast to go out now wakes it.
  net::steady_timer broadcast_timer(ioc);
  const auto wake_broadcasts = [&broadcast_timer, &ioc] {
    net::post(ioc, [&broadcast_timer] { broadcast_timer.cancel(); });
  };
  AddAdminRoutes(router, AdminDeps{*writer, clock, log_, dialogs::Programme::Embedded().at(config_.programme.id),
                                   dialogs::Catalogue::Embedded(), [&dispatcher] { dispatcher.Notify(); },
                                   readers.get(), matches.get(), broadcast_policy, wake_broadcasts,
                                   config_.store.files_dir + "/tmp", &sms_templates, sc.sign_name});
  metrics.SetRoutes(router.Labels());

  ServerOptions sopts;
  sopts.max_body_bytes = config_.http.max_body_bytes;
  sopts.max_header_bytes = config_.http.max_header_bytes;
  sopts.read_timeout = config_.http.read_timeout;
  sopts.idle_timeout = config_.http.idle_timeout;
  sopts.write_timeout = config_.http.write_timeout;
  sopts.shutdown_grace = config_.http.shutdown_grace;
  sopts.max_connections = config_.http.max_connections;
  sopts.access_log = config_.log.access;
  Server server(workers, sopts, router, metrics, log_);
  const auto endpoint = server.Listen(config_.http.address, config_.http.port);
  if (!endpoint) {
    log_.Error("cannot start the HTTP server", {{"error", endpoint.error().message}});
    return 1;
  }

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (stopping) {
      log_.Warn("second stop signal: exiting without waiting", {{"signal", signo}});
      stop_all();
      return;
    }
    stopping = true;
    log_.Info("stopping", {{"signal", signo}});
    signals.async_wait(on_signal);
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
          co_await server.Shutdown();
          if (config_.dispatcher.enabled) {
            co_await dispatcher.Stop();
          }
          signals.cancel();
          stop_all();
        },
        [this](const std::exception_ptr& e) {
          if (!e) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            log_.Error("shutdown failed", {{"error", ex.what()}});
          }
        });
  };
  signals.async_wait(on_signal);

  server.Start();
  if (config_.dispatcher.enabled) dispatcher.Start();
  PushPlannerOptions push_options;
  push_options.policy = {config_.matcher.pushes_per_week, config_.matcher.pushes_per_need_min,
                         config_.matcher.pushes_per_need_max, config_.matcher.score_floor};
  push_options.remind_after = std::chrono::hours(config_.matcher.push_remind_hours);
  push_options.close_after = std::chrono::hours(config_.matcher.push_close_hours);
  push_options.digest_after = std::chrono::minutes(config_.matcher.proposal_digest_minutes);
  PushPlanner pushes(*writer, *readers, *matches, dialogs::Programme::Embedded().at(config_.programme.id),
                     dialogs::Catalogue::Embedded(), clock, random, push_options);
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        net::steady_timer timer(ioc);
        const auto refresh = [&matches](store::Connection& c) { return matches->Refresh(c); };
        for (bool first = true;; first = false) {
          const auto started = std::chrono::steady_clock::now();
          try {
            const auto done = co_await readers->Run(refresh);
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
            if (first) {
              log_.Info(
                  "matcher ready",
                  {{"researchers", matches->ResearcherCount()}, {"needs", matches->NeedCount()}, {"ms", ms.count()}});
            } else if (done.upserts + done.removals > 0) {
              log_.Debug("matcher refreshed", {{"indexed", done.upserts}, {"removed", done.removals}});
            }
          } catch (const std::exception& e) {
            log_.Warn("matcher refresh failed; trying again", {{"error", e.what()}});
          }
          // Newly published needs are pushed once the matcher has seen the pool change.
          try {
            const auto pushed = co_await pushes.RunOnce();
            if (pushed.Queued()) dispatcher.Notify();
            if (pushed.needs + pushed.reminders + pushed.closed + pushed.digests > 0) {
              log_.Info("match pushes", {{"needs", pushed.needs},
                                         {"pushes", pushed.pushes},
                                         {"reminders", pushed.reminders},
                                         {"closed", pushed.closed},
                                         {"digests", pushed.digests}});
            }
          } catch (const std::exception& e) {
            log_.Warn("match pushes failed; trying again", {{"error", e.what()}});
          }
          timer.expires_after(config_.matcher.refresh);
          boost::system::error_code ec;
          co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
      },
      net::detached);
  BroadcastRunnerOptions broadcast_options;
  broadcast_options.policy = broadcast_policy;
  broadcast_options.plan_batch = config_.broadcast.plan_batch;
  broadcast_options.milestones = config_.broadcast.milestones;
  const auto& calendar = dialogs::WorkCalendar::Embedded();
  for (const auto& m : dialogs::Programme::Embedded().at(config_.programme.id).milestones) {
    const auto due = dialogs::ParseIsoDate(m.date);
    const int year = due ? static_cast<int>(std::chrono::year_month_day{*due}.year()) : 0;
    const bool upcoming = due && *due >= calendar.LocalDate(clock.Now());
    if (upcoming && !calendar.Covers(year)) {
      log_.Warn("the working-day calendar has no table for a milestone's year: Monday to Friday assumed",
                {{"milestone", m.id}, {"year", year}});
    }
  }
  BroadcastRunner broadcasts(*writer, dialogs::Programme::Embedded().at(config_.programme.id),
                             dialogs::Catalogue::Embedded(), calendar, clock, broadcast_options);
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        for (;;) {
          try {
            const auto done = co_await broadcasts.RunOnce();
            if (done.Queued()) dispatcher.Notify();
            const auto& b = done.broadcasts;
            if (b.started + b.finished + b.escalated + done.reminders + done.escalations + done.stage_digests > 0) {
              log_.Info("broadcasts", {{"started", b.started},
                                       {"planned", b.planned},
                                       {"skipped", b.skipped},
                                       {"next_channel", b.escalated},
                                       {"finished", b.finished},
                                       {"milestone_reminders", done.reminders},
                                       {"escalations", done.escalations},
                                       {"stage_digests", done.stage_digests}});
            }
          } catch (const std::exception& e) {
            log_.Warn("broadcasts failed; trying again", {{"error", e.what()}});
          }
          broadcast_timer.expires_after(config_.broadcast.tick);
          boost::system::error_code ec;
          co_await broadcast_timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
      },
      net::detached);
  if (config_.store.message_retention_days > 0) {
    net::co_spawn(ioc, ScrubOldMessagesForever(*writer, clock, config_.store.message_retention_days, log_),
                  net::detached);
  }
  const std::string listen =
      endpoint->address().is_v6() ? "[" + endpoint->address().to_string() + "]" : endpoint->address().to_string();
  log_.Info("listening", {{"address", listen + ":" + std::to_string(endpoint->port())},
                          {"database", config_.store.path},
                          {"threads", threads},
                          {"version", DUIJIE_VERSION}});

  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  keep_running.reserve(workers.size());
  for (auto* w : workers) keep_running.push_back(net::make_work_guard(*w));
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < workers.size(); ++i) pool.emplace_back([w = workers[i]] { w->run(); });
  ioc.run();
  for (auto& t : pool) t.join();

  // Everything the dispatcher and the handlers queued is committed before the process exits.
  http_client.Stop();
  if (smtp_sender) smtp_sender->Stop();
  writer->Stop();
  readers->Stop();
  const auto stats = writer->GetStats();
  log_.Info("stopped", {{"write_batches", stats.batches}, {"write_jobs", stats.jobs}});
  return 0;
}

}  // namespace duijie::bot
