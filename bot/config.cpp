#include "bot/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include "dialogs/programme.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not in any header C++ sees

namespace duijie::bot {
namespace {

using nlohmann::json;

enum class Kind { kString, kOptionalString, kInteger, kNumber, kBoolean, kMillis, kListen, kChoice };

struct Spec {
  ConfigKey info;
  Kind kind;
  double min = 0;
  double max = std::numeric_limits<double>::max();
  std::vector<std::string_view> choices;
  std::function<void(Config&, const json&)> apply;
};

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool SplitListen(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = text.substr(colon + 1);
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port_text.empty() || value > 65535) {
    return false;
  }
  boost::system::error_code addr_ec;
  (void)boost::asio::ip::make_address(host, addr_ec);
  if (addr_ec) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::vector<Spec> BuildSpecs() {
  std::vector<Spec> specs;
  auto add = [&specs](std::string_view section, std::string_view key, Kind kind, std::string_view type,
                      std::string_view doc, std::function<void(Config&, const json&)> apply, double min = 0,
                      double max = std::numeric_limits<double>::max(), std::vector<std::string_view> choices = {}) {
    specs.push_back(Spec{ConfigKey{section, key, type, doc}, kind, min, max, std::move(choices), std::move(apply)});
  };
  auto ms = [](const json& v) { return Millis{v.get<std::int64_t>()}; };

  add("http", "listen", Kind::kListen, "host:port", "address and port to listen on; port 0 picks a free port",
      [](Config& c, const json& v) {
        std::string host;
        std::uint16_t port = 0;
        SplitListen(v.get<std::string>(), host, port);
        c.http.address = host;
        c.http.port = port;
      });
  add(
      "http", "max_body_bytes", Kind::kInteger, "integer", "largest request body accepted; larger gets 413",
      [](Config& c, const json& v) { c.http.max_body_bytes = v.get<std::size_t>(); }, 1, 1 << 30);
  add(
      "http", "max_header_bytes", Kind::kInteger, "integer", "largest request header block; larger gets 431",
      [](Config& c, const json& v) { c.http.max_header_bytes = v.get<std::size_t>(); }, 1024, 1 << 20);
  add(
      "http", "read_timeout_ms", Kind::kMillis, "milliseconds",
      "a request's header and body must arrive within this; a slow client gets 408",
      [ms](Config& c, const json& v) { c.http.read_timeout = ms(v); }, 1, 3'600'000);
  add(
      "http", "idle_timeout_ms", Kind::kMillis, "milliseconds", "a keep-alive connection without a request is closed",
      [ms](Config& c, const json& v) { c.http.idle_timeout = ms(v); }, 1, 3'600'000);
  add(
      "http", "write_timeout_ms", Kind::kMillis, "milliseconds", "a response must be written within this",
      [ms](Config& c, const json& v) { c.http.write_timeout = ms(v); }, 1, 3'600'000);
  add(
      "http", "shutdown_grace_ms", Kind::kMillis, "milliseconds",
      "after SIGTERM/SIGINT, in-flight requests get this long to finish",
      [ms](Config& c, const json& v) { c.http.shutdown_grace = ms(v); }, 0, 3'600'000);
  add(
      "http", "threads", Kind::kInteger, "integer", "I/O threads; 0 = one per core",
      [](Config& c, const json& v) { c.http.threads = v.get<int>(); }, 0, 256);
  add(
      "http", "max_connections", Kind::kInteger, "integer", "connections beyond this are refused",
      [](Config& c, const json& v) { c.http.max_connections = v.get<int>(); }, 1, 1'000'000);
  add(
      "http", "webhook_rate_per_source", Kind::kNumber, "number",
      "requests a second one source address may make to /wecom, /sms and /email routes (beyond: 429); 0 = no limit",
      [](Config& c, const json& v) { c.http.webhook_rate_per_source = v.get<double>(); }, 0, 1'000'000);
  add(
      "http", "webhook_burst_per_source", Kind::kNumber, "number",
      "requests one source may make at once before its rate applies",
      [](Config& c, const json& v) { c.http.webhook_burst_per_source = v.get<double>(); }, 1, 1'000'000);

  add("store", "path", Kind::kString, "string", "SQLite database file",
      [](Config& c, const json& v) { c.store.path = v.get<std::string>(); });
  add("store", "files_dir", Kind::kString, "string", "directory for files people send, stored by SHA-256",
      [](Config& c, const json& v) { c.store.files_dir = v.get<std::string>(); });
  add("store", "synchronous", Kind::kChoice, "full|normal",
      "full keeps every answered message across power loss; normal only across process crashes",
      [](Config& c, const json& v) { c.store.synchronous = v.get<std::string>(); }, 0, 0, {"full", "normal"});
  add(
      "store", "busy_timeout_ms", Kind::kMillis, "milliseconds", "how long to wait for a lock held by another process",
      [ms](Config& c, const json& v) { c.store.busy_timeout = ms(v); }, 0, 600'000);
  add(
      "store", "readers", Kind::kInteger, "integer", "read-only connections (and threads) for queries",
      [](Config& c, const json& v) { c.store.readers = v.get<int>(); }, 1, 64);
  add(
      "store", "max_batch", Kind::kInteger, "integer", "most write jobs committed in one transaction (group commit)",
      [](Config& c, const json& v) { c.store.max_batch = v.get<int>(); }, 1, 100'000);
  add(
      "store", "message_retention_days", Kind::kInteger, "integer",
      "days a finished message keeps its body and address (inbox, outbox, sandbox); 0 = for ever",
      [](Config& c, const json& v) { c.store.message_retention_days = v.get<int>(); }, 0, 3650);

  add("log", "level", Kind::kChoice, "debug|info|warn|error|off", "lowest level written to stderr",
      [](Config& c, const json& v) { ParseLogLevel(v.get<std::string>(), c.log.level); }, 0, 0,
      {"debug", "info", "warn", "error", "off"});
  add("log", "access", Kind::kBoolean, "boolean", "one JSON line per HTTP request",
      [](Config& c, const json& v) { c.log.access = v.get<bool>(); });

  add("dispatcher", "enabled", Kind::kBoolean, "boolean", "run the outbox dispatcher in this process",
      [](Config& c, const json& v) { c.dispatcher.enabled = v.get<bool>(); });
  add(
      "dispatcher", "batch", Kind::kInteger, "integer", "messages claimed per channel per round",
      [](Config& c, const json& v) { c.dispatcher.batch = v.get<int>(); }, 1, 10'000);
  add(
      "dispatcher", "concurrency", Kind::kInteger, "integer", "sends in flight at once",
      [](Config& c, const json& v) { c.dispatcher.concurrency = v.get<int>(); }, 1, 10'000);
  add(
      "dispatcher", "poll_interval_ms", Kind::kMillis, "milliseconds",
      "longest sleep when nothing is due (new messages wake it at once)",
      [ms](Config& c, const json& v) { c.dispatcher.poll_interval = ms(v); }, 1, 3'600'000);
  add(
      "dispatcher", "retry_base_ms", Kind::kMillis, "milliseconds", "first retry delay; doubles per attempt, jittered",
      [ms](Config& c, const json& v) { c.dispatcher.retry_base = ms(v); }, 1, 86'400'000);
  add(
      "dispatcher", "retry_cap_ms", Kind::kMillis, "milliseconds", "longest retry delay",
      [ms](Config& c, const json& v) { c.dispatcher.retry_cap = ms(v); }, 1, 86'400'000);
  add(
      "dispatcher", "unknown_recheck_ms", Kind::kMillis, "milliseconds",
      "how often a message with an unknown outcome is checked with its provider",
      [ms](Config& c, const json& v) { c.dispatcher.unknown_recheck = ms(v); }, 1, 86'400'000);
  add(
      "dispatcher", "unknown_give_up_ms", Kind::kMillis, "milliseconds",
      "a message whose outcome is still unknown this long after its attempt is dead-lettered (never resent)",
      [ms](Config& c, const json& v) { c.dispatcher.unknown_give_up = ms(v); }, 60'000, 2'592'000'000);
  add(
      "dispatcher", "claim_stale_ms", Kind::kMillis, "milliseconds",
      "a message claimed longer ago than this by another instance is examined as in doubt",
      [ms](Config& c, const json& v) { c.dispatcher.claim_stale = ms(v); }, 1000, 86'400'000);

  add("programme", "id", Kind::kString, "string",
      "the programme edition the conversations follow: a file name in config/programmes/ without .json",
      [](Config& c, const json& v) { c.programme.id = v.get<std::string>(); });
  add(
      "dialogs", "max_state_bytes", Kind::kInteger, "integer",
      "largest conversation state (serialised JSON) kept per person; a turn beyond it is refused and the person told",
      [](Config& c, const json& v) { c.dialogs.max_state_bytes = v.get<std::size_t>(); }, 4096, 16'777'216);
  add("matcher", "opencc_config", Kind::kOptionalString, "string",
      "OpenCC configuration that makes traditional Chinese simplified before matching; empty: no conversion",
      [](Config& c, const json& v) { c.matcher.opencc_config = v.get<std::string>(); });
  add(
      "matcher", "pushes_per_week", Kind::kInteger, "integer",
      "match pushes one researcher may get in any 7 days, across all needs",
      [](Config& c, const json& v) { c.matcher.pushes_per_week = v.get<int>(); }, 1, 100);
  add(
      "matcher", "pushes_per_need_min", Kind::kInteger, "integer",
      "researchers a published need is pushed to at least, when that many candidates exist",
      [](Config& c, const json& v) { c.matcher.pushes_per_need_min = v.get<int>(); }, 1, 100);
  add(
      "matcher", "pushes_per_need_max", Kind::kInteger, "integer", "researchers a published need is pushed to at most",
      [](Config& c, const json& v) { c.matcher.pushes_per_need_max = v.get<int>(); }, 1, 1000);
  add(
      "matcher", "score_floor", Kind::kNumber, "number",
      "share of a need's best match score below which a candidate is pushed only to reach the minimum",
      [](Config& c, const json& v) { c.matcher.score_floor = v.get<double>(); }, 0, 1);
  add(
      "matcher", "refresh_ms", Kind::kMillis, "milliseconds",
      "how often the gateway indexes the researchers and needs that changed in the store",
      [ms](Config& c, const json& v) { c.matcher.refresh = ms(v); }, 100, 3'600'000);
  add(
      "matcher", "push_remind_hours", Kind::kInteger, "integer",
      "hours after which an unanswered match push gets its one reminder",
      [](Config& c, const json& v) { c.matcher.push_remind_hours = v.get<int>(); }, 1, 24 * 30);
  add(
      "matcher", "push_close_hours", Kind::kInteger, "integer",
      "hours after which an unanswered match push closes as unanswered",
      [](Config& c, const json& v) { c.matcher.push_close_hours = v.get<int>(); }, 1, 24 * 60);
  add(
      "matcher", "proposal_digest_minutes", Kind::kInteger, "integer",
      "researchers' proposals for a need reach its enterprise in one digest once none came for this long",
      [](Config& c, const json& v) { c.matcher.proposal_digest_minutes = v.get<int>(); }, 0, 24 * 60);
  add("api", "token", Kind::kOptionalString, "string (secret)",
      "admin API token the command-line tools (duijie broadcast) present to a running gateway; set it in the "
      "environment",
      [](Config& c, const json& v) { c.api.token = v.get<std::string>(); });
  add("broadcast", "channel_order", Kind::kString, "comma-separated channels",
      "the order a broadcast tries a person's channels in (their preferred channel first): wecom, sms, email",
      [](Config& c, const json& v) {
        c.broadcast.channel_order.clear();
        std::string item;
        for (const char ch : v.get<std::string>() + ",") {
          if (ch == ',') {
            if (!item.empty()) c.broadcast.channel_order.push_back(item);
            item.clear();
          } else if (ch != ' ') {
            item += ch;
          }
        }
      });
  add(
      "broadcast", "max_per_person_per_day", Kind::kInteger, "integer",
      "staff broadcasts one person gets in any 24 hours; more are skipped for them (deadline reminders exempt)",
      [](Config& c, const json& v) { c.broadcast.max_per_person_per_day = v.get<int>(); }, 1, 100);
  add(
      "broadcast", "tick_ms", Kind::kMillis, "milliseconds",
      "how often due broadcasts, acknowledgement deadlines and programme milestones are checked",
      [ms](Config& c, const json& v) { c.broadcast.tick = ms(v); }, 10, 3'600'000);
  add(
      "broadcast", "plan_batch", Kind::kInteger, "integer", "recipients of a broadcast planned per write transaction",
      [](Config& c, const json& v) { c.broadcast.plan_batch = v.get<int>(); }, 1, 100'000);
  add(
      "broadcast", "window", Kind::kInteger, "integer",
      "messages of one broadcast waiting in the outbox at most; the rest are planned as these go out (0: no limit)",
      [](Config& c, const json& v) { c.broadcast.window = v.get<int>(); }, 0, 10'000'000);
  add("broadcast", "milestones", Kind::kBoolean, "boolean",
      "send the reminder ladders and escalations of the programme's milestones",
      [](Config& c, const json& v) { c.broadcast.milestones = v.get<bool>(); });
  add("wecom", "corp_id", Kind::kOptionalString, "string",
      "CorpID of the operator's WeCom (企业ID); also the receive id",
      [](Config& c, const json& v) { c.wecom.corp_id = v.get<std::string>(); });
  add("wecom", "token", Kind::kOptionalString, "string (secret)",
      "callback Token (回调配置); set it in the environment",
      [](Config& c, const json& v) { c.wecom.token = v.get<std::string>(); });
  add("wecom", "aes_key", Kind::kOptionalString, "string (secret)",
      "callback EncodingAESKey, 43 characters; set it in the environment",
      [](Config& c, const json& v) { c.wecom.aes_key = v.get<std::string>(); });
  add("wecom", "secret", Kind::kOptionalString, "string (secret)",
      "app Secret for active sending; set it in the environment",
      [](Config& c, const json& v) { c.wecom.secret = v.get<std::string>(); });
  add("wecom", "agent_id", Kind::kOptionalString, "string", "AgentId of the self-built app",
      [](Config& c, const json& v) { c.wecom.agent_id = v.get<std::string>(); });
  add("wecom", "api_base", Kind::kString, "string", "WeCom API base URL; tests point it at a local fake",
      [](Config& c, const json& v) { c.wecom.api_base = v.get<std::string>(); });
  add(
      "wecom", "timestamp_window_s", Kind::kInteger, "integer",
      "callbacks whose timestamp is further than this from now are refused (replay protection)",
      [](Config& c, const json& v) { c.wecom.timestamp_window = std::chrono::seconds{v.get<std::int64_t>()}; }, 10,
      86'400);

  add(
      "wecom", "max_media_bytes", Kind::kInteger, "integer", "largest file fetched with media/get; larger ones fail",
      [](Config& c, const json& v) { c.wecom.max_media_bytes = v.get<std::size_t>(); }, 1024, 104'857'600);
  add("wecom_robot", "keys", Kind::kOptionalString, "string (secret)",
      "group robots as name=KEY pairs separated by commas; set it in the environment",
      [](Config& c, const json& v) { c.wecom_robot.keys_text = v.get<std::string>(); });

  // SMS: one string key per setting; secrets marked so the example file leaves them empty.
  const auto sms_string = [&add](std::string_view key, std::string_view type, std::string_view doc,
                                 std::string SmsConfig::*field, Kind kind = Kind::kOptionalString) {
    add("sms", key, kind, type, doc, [field](Config& c, const json& v) { c.sms.*field = v.get<std::string>(); });
  };
  add("sms", "provider", Kind::kChoice, "tencent|aliyun",
      "provider for mainland numbers; the other one, if configured, takes over on retryable failures",
      [](Config& c, const json& v) { c.sms.provider = v.get<std::string>(); }, 0, 0, {"tencent", "aliyun"});
  sms_string("sign_name", "string", "the approved SMS signature text (not its id), e.g. 科技服务",
             &SmsConfig::sign_name);
  sms_string("tencent_secret_id", "string", "Tencent Cloud SecretId", &SmsConfig::tencent_secret_id);
  sms_string("tencent_secret_key", "string (secret)", "Tencent Cloud SecretKey; set it in the environment",
             &SmsConfig::tencent_secret_key);
  sms_string("tencent_sdk_app_id", "string", "Tencent SmsSdkAppId, e.g. 1400006666", &SmsConfig::tencent_sdk_app_id);
  sms_string("tencent_region", "string", "Tencent region (X-TC-Region)", &SmsConfig::tencent_region, Kind::kString);
  sms_string("tencent_endpoint", "string", "Tencent SMS API URL; tests point it at a local fake",
             &SmsConfig::tencent_endpoint, Kind::kString);
  sms_string("aliyun_access_key_id", "string", "Alibaba Cloud AccessKeyId", &SmsConfig::aliyun_access_key_id);
  sms_string("aliyun_access_key_secret", "string (secret)", "Alibaba Cloud AccessKeySecret; set it in the environment",
             &SmsConfig::aliyun_access_key_secret);
  sms_string("aliyun_region", "string", "Alibaba RegionId", &SmsConfig::aliyun_region, Kind::kString);
  sms_string("aliyun_endpoint", "string", "Alibaba SMS API URL; tests point it at a local fake",
             &SmsConfig::aliyun_endpoint, Kind::kString);
  sms_string("twilio_account_sid", "string", "Twilio Account SID (numbers outside mainland China)",
             &SmsConfig::twilio_account_sid);
  sms_string("twilio_auth_token", "string (secret)", "Twilio auth token; set it in the environment",
             &SmsConfig::twilio_auth_token);
  sms_string("twilio_from", "string", "Twilio sender number (E.164)", &SmsConfig::twilio_from);
  sms_string("twilio_messaging_service_sid", "string", "Twilio Messaging Service SID, instead of a sender number",
             &SmsConfig::twilio_messaging_service_sid);
  sms_string("twilio_endpoint", "string", "Twilio API URL; tests point it at a local fake", &SmsConfig::twilio_endpoint,
             Kind::kString);
  sms_string("public_base_url", "string",
             "the URL providers use to reach this gateway, e.g. https://duijie.example.cn (Twilio signs it)",
             &SmsConfig::public_base_url);
  sms_string("callback_secret", "string (secret)",
             "path segment protecting the unsigned Tencent and Alibaba callbacks: /sms/<provider>/<secret>/...",
             &SmsConfig::callback_secret);
  sms_string("allow_ips", "string", "comma-separated source addresses allowed on those callbacks; empty = any",
             &SmsConfig::allow_ips);
  sms_string("templates_file", "string", "SMS templates with approved ids; empty = config/sms/templates.json",
             &SmsConfig::templates_file);
  sms_string("quiet_hours", "HH:MM-HH:MM", "Asia/Shanghai hours when pushes and reminders wait; empty = none",
             &SmsConfig::quiet_hours);
  const auto sms_int = [&add](std::string_view key, std::string_view doc, int SmsConfig::*field) {
    add(
        "sms", key, Kind::kInteger, "integer", doc, [field](Config& c, const json& v) { c.sms.*field = v.get<int>(); },
        0, 1000);
  };
  sms_int("per_hour", "SMS pushes and reminders one number may get in an hour; 0 = no cap", &SmsConfig::per_hour);
  sms_int("per_day", "... in any 24 hours; 0 = no cap", &SmsConfig::per_day);
  sms_int("codes_per_hour", "verification codes one number may get in an hour", &SmsConfig::codes_per_hour);
  sms_int("codes_per_day", "verification codes one number may get in any 24 hours", &SmsConfig::codes_per_day);
  add(
      "sms", "coalesce_max", Kind::kInteger, "integer",
      "match pushes waiting for one number that go out as one SMS (a digest); 1 = each on its own",
      [](Config& c, const json& v) { c.sms.coalesce_max = v.get<int>(); }, 1, 10);
  add(
      "sms", "extend_code_digits", Kind::kInteger, "integer",
      "digits of the extension code each mainland SMS carries so a reply names the SMS it answers "
      "(ExtendCode / SmsUpExtendCode; ask the provider to enable it); 0 = off",
      [](Config& c, const json& v) { c.sms.extend_code_digits = v.get<int>(); }, 0, 6);

  const auto email_string = [&add](std::string_view key, std::string_view type, std::string_view doc,
                                   std::string EmailConfig::*field, Kind kind = Kind::kOptionalString) {
    add("email", key, kind, type, doc, [field](Config& c, const json& v) { c.email.*field = v.get<std::string>(); });
  };
  email_string("smtp_url", "string",
               "smtps://host:465 (implicit TLS) or smtp://host:587 (STARTTLS, required); empty = sandbox",
               &EmailConfig::smtp_url);
  email_string("smtp_username", "string", "SMTP login, usually the mailbox", &EmailConfig::smtp_username);
  email_string("smtp_password", "string (secret)", "SMTP password or 授权码; set it in the environment",
               &EmailConfig::smtp_password);
  add("email", "smtp_allow_plain", Kind::kBoolean, "boolean",
      "send over smtp:// without TLS (a relay on the same host only); never for credentials on a network",
      [](Config& c, const json& v) { c.email.smtp_allow_plain = v.get<bool>(); });
  email_string("smtp_ca_file", "string", "CA bundle for the SMTP server's certificate; empty = system store",
               &EmailConfig::smtp_ca_file);
  add(
      "email", "smtp_timeout_ms", Kind::kMillis, "milliseconds", "deadline of one SMTP transaction",
      [ms](Config& c, const json& v) { c.email.smtp_timeout = ms(v); }, 1000, 600'000);
  add(
      "email", "smtp_idle_close_ms", Kind::kMillis, "milliseconds",
      "an SMTP connection idle this long is closed, before the server's own timeout",
      [ms](Config& c, const json& v) { c.email.smtp_idle_close = ms(v); }, 1000, 600'000);
  add(
      "email", "smtp_connections", Kind::kInteger, "integer", "SMTP sessions in parallel",
      [](Config& c, const json& v) { c.email.smtp_connections = v.get<int>(); }, 1, 64);
  email_string("from", "string", "sender address (From and envelope)", &EmailConfig::from, Kind::kString);
  email_string("from_name", "string", "sender name; empty = the message catalogue's email.from_name",
               &EmailConfig::from_name);
  email_string("reply_address", "string",
               "address replies go to, with a per-message plus token: reply@inbound.example.cn -> reply+<token>@...",
               &EmailConfig::reply_address);
  email_string("message_id_domain", "string", "domain of our Message-IDs; empty = the domain of email.from",
               &EmailConfig::message_id_domain);
  email_string("token_secret", "string (secret)",
               "keys Message-ID tags and reply tokens; empty = a random one kept in the database",
               &EmailConfig::token_secret);
  email_string("unsubscribe_mailto", "string", "mailto address in List-Unsubscribe, e.g. unsubscribe@notify.example.cn",
               &EmailConfig::unsubscribe_mailto);
  email_string("public_base_url", "string", "https base URL of this gateway for one-click unsubscribe links",
               &EmailConfig::public_base_url);
  email_string("inbound_secret", "string (secret)",
               "path segment of POST /email/inbound/<secret> (raw MIME, e.g. piped from Postfix); empty = off",
               &EmailConfig::inbound_secret);
  email_string("mailgun_signing_key", "string (secret)", "Mailgun HTTP webhook signing key; empty = route off",
               &EmailConfig::mailgun_signing_key);
  add(
      "email", "mailgun_max_age_s", Kind::kInteger, "integer", "Mailgun webhooks older than this are refused",
      [](Config& c, const json& v) { c.email.mailgun_max_age_s = v.get<int>(); }, 60, 86'400);
  add(
      "email", "max_inbound_bytes", Kind::kInteger, "integer", "largest inbound mail (raw MIME or webhook body)",
      [](Config& c, const json& v) { c.email.max_inbound_bytes = v.get<std::size_t>(); }, 65'536, 104'857'600);
  add(
      "email", "max_inbound_attachments", Kind::kInteger, "integer",
      "most files kept from one inbound mail; a mail with more is refused (413)",
      [](Config& c, const json& v) { c.email.max_inbound_attachments = v.get<int>(); }, 0, 100);
  add(
      "email", "max_inbound_attachment_bytes", Kind::kInteger, "integer",
      "largest file (decoded) kept from an inbound mail; a mail with a larger one is refused (413)",
      [](Config& c, const json& v) { c.email.max_inbound_attachment_bytes = v.get<std::size_t>(); }, 1024, 104'857'600);

  for (std::string_view channel : {"wecom", "wecom_robot", "wecom_kf", "sms", "email"}) {
    add(
        channel, "rate_per_s", Kind::kNumber, "number", "messages per second sent on this channel; 0 = unlimited",
        [channel](Config& c, const json& v) { c.channels[std::string(channel)].rate_per_s = v.get<double>(); }, 0, 1e6);
    add(
        channel, "burst", Kind::kNumber, "number", "messages that may go at once after a quiet spell",
        [channel](Config& c, const json& v) { c.channels[std::string(channel)].burst = v.get<double>(); }, 1, 1e6);
    add(
        channel, "recipient_per_min", Kind::kInteger, "integer",
        "messages one recipient may get in any minute; more wait; 0 = unlimited",
        [channel](Config& c, const json& v) { c.channels[std::string(channel)].recipient_per_min = v.get<int>(); }, 0,
        1'000'000);
    add(
        channel, "recipient_per_hour", Kind::kInteger, "integer",
        "messages one recipient may get in any hour; more wait; 0 = unlimited",
        [channel](Config& c, const json& v) { c.channels[std::string(channel)].recipient_per_hour = v.get<int>(); }, 0,
        1'000'000);
  }
  return specs;
}

const std::vector<Spec>& Specs() {
  static const std::vector<Spec> kSpecs = BuildSpecs();
  return kSpecs;
}

std::string Describe(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// Returns what is wrong with `value` for `spec`, or an empty string.
std::string Check(const Spec& spec, const json& value) {
  auto range = [&spec]() {
    std::ostringstream os;
    os << "between " << spec.min << " and " << spec.max;
    return os.str();
  };
  switch (spec.kind) {
    case Kind::kString:
      if (!value.is_string() || value.get<std::string>().empty()) return "expected a non-empty string";
      return "";
    case Kind::kOptionalString:
      if (!value.is_string()) return "expected a string";
      return "";
    case Kind::kInteger:
    case Kind::kMillis: {
      const char* what = spec.kind == Kind::kMillis ? "expected whole milliseconds " : "expected a whole number ";
      if (!value.is_number_integer()) return what + range();
      const auto v = static_cast<double>(value.get<std::int64_t>());
      if (v < spec.min || v > spec.max) return what + range();
      return "";
    }
    case Kind::kNumber: {
      if (!value.is_number()) return "expected a number " + range();
      const auto v = value.get<double>();
      if (v < spec.min || v > spec.max) return "expected a number " + range();
      return "";
    }
    case Kind::kBoolean:
      if (!value.is_boolean()) return "expected true or false";
      return "";
    case Kind::kListen: {
      std::string host;
      std::uint16_t port = 0;
      if (!value.is_string() || !SplitListen(value.get<std::string>(), host, port)) {
        return "expected host:port with an IP address, e.g. 127.0.0.1:8080 or [::1]:8080";
      }
      return "";
    }
    case Kind::kChoice: {
      const bool ok = value.is_string() && std::find(spec.choices.begin(), spec.choices.end(),
                                                     value.get<std::string>()) != spec.choices.end();
      if (ok) return "";
      std::string list;
      for (auto c : spec.choices) list += (list.empty() ? "" : ", ") + std::string(c);
      return "expected one of " + list;
    }
  }
  return "";
}

// Environment values are text; turn them into the JSON type the key expects where they parse,
// and leave them as strings otherwise so Check reports them.
json FromEnv(const Spec& spec, const std::string& text) {
  switch (spec.kind) {
    case Kind::kInteger:
    case Kind::kMillis: {
      std::int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc{} && ptr == text.data() + text.size() && !text.empty()) return v;
      return text;
    }
    case Kind::kNumber: {
      double v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc{} && ptr == text.data() + text.size() && !text.empty()) return v;
      return text;
    }
    case Kind::kBoolean: {
      std::string lower = text;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
      if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
      return text;
    }
    default:
      return text;
  }
}

void Apply(const Spec& spec, const json& value, const std::string& origin, LoadedConfig& out) {
  const std::string problem = Check(spec, value);
  if (!problem.empty()) {
    out.problems.push_back("config: " + std::string(spec.info.section) + "." + std::string(spec.info.key) + " = " +
                           Describe(value) + " (" + origin + "): " + problem);
    return;
  }
  spec.apply(out.config, value);
}

const Spec* FindSpec(std::string_view section, std::string_view key) {
  for (const auto& s : Specs()) {
    if (s.info.section == section && s.info.key == key) return &s;
  }
  return nullptr;
}

std::string LineCol(std::string_view text, std::size_t byte) {
  std::size_t line = 1;
  std::size_t col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace

std::vector<ConfigKey> ConfigKeys() {
  std::vector<ConfigKey> keys;
  for (const auto& s : Specs()) keys.push_back(s.info);
  return keys;
}

std::string EnvName(const ConfigKey& key) { return "DUIJIE_" + Upper(key.section) + "_" + Upper(key.key); }

std::optional<std::pair<int, int>> ParseQuietHours(std::string_view text) {
  const auto minute = [](std::string_view hm) -> std::optional<int> {
    if (hm.size() != 5 || hm[2] != ':') return std::nullopt;
    for (const std::size_t i : {0U, 1U, 3U, 4U}) {
      if (hm[i] < '0' || hm[i] > '9') return std::nullopt;
    }
    const int h = (hm[0] - '0') * 10 + (hm[1] - '0');
    const int m = (hm[3] - '0') * 10 + (hm[4] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    return h * 60 + m;
  };
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto start = minute(text.substr(0, dash));
  const auto end = minute(text.substr(dash + 1));
  if (!start || !end) return std::nullopt;
  return std::make_pair(*start, *end);
}

LoadedConfig ParseConfig(std::string_view text, std::string_view origin, const Environment& env) {
  LoadedConfig out;
  if (!text.empty()) {
    json doc;
    try {
      doc = json::parse(text, nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
      out.problems.push_back("config: " + std::string(origin) + ":" + LineCol(text, e.byte > 0 ? e.byte - 1 : 0) +
                             ": not valid JSON: " + e.what());
      return out;
    } catch (const json::exception& e) {
      // A number too large for any type (found by fuzzing) is not a parse_error.
      out.problems.push_back("config: " + std::string(origin) + ": not valid JSON: " + e.what());
      return out;
    }
    if (!doc.is_object()) {
      out.problems.push_back("config: " + std::string(origin) + ": expected a JSON object of sections");
      return out;
    }
    for (const auto& [section, keys] : doc.items()) {
      const bool known = std::any_of(Specs().begin(), Specs().end(),
                                     [&section = section](const Spec& s) { return s.info.section == section; });
      if (!known) {
        out.problems.push_back("config: " + section + " (" + std::string(origin) +
                               "): unknown section; see config/duijie.example.json");
        continue;
      }
      if (!keys.is_object()) {
        out.problems.push_back("config: " + section + " = " + Describe(keys) + " (" + std::string(origin) +
                               "): expected an object of keys");
        continue;
      }
      for (const auto& [key, value] : keys.items()) {
        const Spec* spec = FindSpec(section, key);
        if (spec == nullptr) {
          out.problems.push_back("config: " + section + "." + key + " (" + std::string(origin) +
                                 "): unknown key; see config/duijie.example.json");
          continue;
        }
        Apply(*spec, value, std::string(origin), out);
      }
    }
  }
  for (const auto& [name, value] : env) {
    if (!name.starts_with("DUIJIE_")) continue;
    const Spec* match = nullptr;
    for (const auto& s : Specs()) {
      if (EnvName(s.info) == name) match = &s;
    }
    if (match == nullptr) {
      out.problems.push_back("config: " + name + " (environment): unknown variable; names are DUIJIE_<SECTION>_<KEY>");
      continue;
    }
    Apply(*match, FromEnv(*match, value), "from " + name, out);
  }
  if (!dialogs::Programme::Embedded().contains(out.config.programme.id)) {
    std::string known;
    for (const auto& [id, p] : dialogs::Programme::Embedded()) known += (known.empty() ? "" : ", ") + id;
    out.problems.push_back("config: programme.id = \"" + out.config.programme.id +
                           "\": unknown programme; known: " + known);
  }
  {
    const auto& order = out.config.broadcast.channel_order;
    bool valid = !order.empty();
    for (std::size_t i = 0; i < order.size(); ++i) {
      valid = valid && (order[i] == "wecom" || order[i] == "sms" || order[i] == "email") &&
              std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(i), order[i]) ==
                  order.begin() + static_cast<std::ptrdiff_t>(i);
    }
    if (!valid) {
      out.problems.push_back(
          "config: broadcast.channel_order: expected wecom, sms and email, each at most once, comma-separated");
    }
  }
  if (out.config.matcher.push_remind_hours >= out.config.matcher.push_close_hours) {
    out.problems.push_back(
        "config: matcher.push_remind_hours = " + std::to_string(out.config.matcher.push_remind_hours) +
        ": must be less than matcher.push_close_hours (" + std::to_string(out.config.matcher.push_close_hours) + ")");
  }
  if (out.config.matcher.pushes_per_need_min > out.config.matcher.pushes_per_need_max) {
    out.problems.push_back(
        "config: matcher.pushes_per_need_min = " + std::to_string(out.config.matcher.pushes_per_need_min) +
        ": more than matcher.pushes_per_need_max (" + std::to_string(out.config.matcher.pushes_per_need_max) + ")");
  }
  // name=KEY,name2=KEY2: every pair needs both halves and a name used once.
  auto& robots = out.config.wecom_robot;
  robots.keys.clear();
  for (std::string_view rest = robots.keys_text; !rest.empty();) {
    const auto comma = rest.find(',');
    const auto pair = rest.substr(0, comma);
    const auto eq = pair.find('=');
    const bool valid = eq != std::string_view::npos && eq > 0 && eq + 1 < pair.size() &&
                       robots.keys.emplace(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1))).second;
    if (!valid) {
      out.problems.push_back("config: wecom_robot.keys: entry " + std::to_string(robots.keys.size() + 1) +
                             " is not name=KEY with a name used once (expected e.g. staff=693a91f6-...,ops=...)");
      break;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  const auto& sms = out.config.sms;
  const auto together = [&out](std::string_view what, std::initializer_list<const std::string*> fields) {
    const auto set = std::count_if(fields.begin(), fields.end(), [](const std::string* f) { return !f->empty(); });
    if (set != 0 && set != static_cast<long>(fields.size())) {
      out.problems.push_back("config: " + std::string(what) + " go together: set all of them or none");
    }
  };
  together("sms.tencent_secret_id, sms.tencent_secret_key and sms.tencent_sdk_app_id",
           {&sms.tencent_secret_id, &sms.tencent_secret_key, &sms.tencent_sdk_app_id});
  together("sms.aliyun_access_key_id and sms.aliyun_access_key_secret",
           {&sms.aliyun_access_key_id, &sms.aliyun_access_key_secret});
  together("sms.twilio_account_sid and sms.twilio_auth_token", {&sms.twilio_account_sid, &sms.twilio_auth_token});
  if ((sms.TencentConfigured() || sms.AliyunConfigured()) && sms.sign_name.empty()) {
    out.problems.push_back("config: sms.sign_name is required when Tencent or Alibaba SMS is configured");
  }
  if (sms.TwilioConfigured() && sms.twilio_from.empty() && sms.twilio_messaging_service_sid.empty()) {
    out.problems.push_back("config: sms.twilio_from or sms.twilio_messaging_service_sid is required with Twilio");
  }
  if (!sms.callback_secret.empty() && sms.callback_secret.size() < 16) {
    out.problems.push_back(
        "config: sms.callback_secret: at least 16 characters (it is the callbacks' only protection)");
  }
  if (!sms.callback_secret.empty() &&
      sms.callback_secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
          std::string::npos) {
    out.problems.push_back("config: sms.callback_secret: letters, digits, '-' and '_' only (it is a URL path segment)");
  }
  const auto& email = out.config.email;
  if (!email.smtp_url.empty() && email.smtp_url.rfind("smtps://", 0) != 0 && email.smtp_url.rfind("smtp://", 0) != 0) {
    out.problems.push_back("config: email.smtp_url = \"" + email.smtp_url +
                           "\": expected smtps://host:465 or smtp://host:587");
  }
  together("email.smtp_username and email.smtp_password", {&email.smtp_username, &email.smtp_password});
  if (email.from.find('@') == std::string::npos) {
    out.problems.push_back("config: email.from = \"" + email.from + "\": expected an address like noreply@example.cn");
  }
  if (!email.reply_address.empty() && email.reply_address.find('@') == std::string::npos) {
    out.problems.push_back("config: email.reply_address = \"" + email.reply_address +
                           "\": expected an address like reply@inbound.example.cn");
  }
  if (!email.token_secret.empty() && email.token_secret.size() < 16) {
    out.problems.push_back("config: email.token_secret: at least 16 characters");
  }
  if (!email.inbound_secret.empty() &&
      (email.inbound_secret.size() < 16 ||
       email.inbound_secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
           std::string::npos)) {
    out.problems.push_back(
        "config: email.inbound_secret: at least 16 letters, digits, '-' or '_' (it is a URL path segment)");
  }
  out.config.sms.allow_ip_list.clear();
  for (std::string_view rest = sms.allow_ips; !rest.empty();) {
    const auto comma = rest.find(',');
    std::string ip(rest.substr(0, comma));
    ip.erase(0, ip.find_first_not_of(' '));
    ip.erase(ip.find_last_not_of(' ') + 1);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(ip, ec);
    if (ec) {
      out.problems.push_back("config: sms.allow_ips: \"" + ip +
                             "\" is not an IP address (expected e.g. 1.2.3.4,5.6.7.8)");
      break;
    }
    out.config.sms.allow_ip_list.push_back(address.to_string());
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!sms.quiet_hours.empty() && !ParseQuietHours(sms.quiet_hours)) {
    out.problems.push_back("config: sms.quiet_hours = \"" + sms.quiet_hours +
                           "\": expected HH:MM-HH:MM, e.g. 21:00-08:00");
  }
  const auto& w = out.config.wecom;
  // Callbacks need token + aes_key, sending needs secret + agent_id; both need the corp id.
  if (w.token.empty() != w.aes_key.empty()) {
    out.problems.push_back("config: wecom.token and wecom.aes_key go together: set both (WeCom callbacks) or neither");
  }
  if (w.secret.empty() != w.agent_id.empty()) {
    out.problems.push_back(
        "config: wecom.secret and wecom.agent_id go together: set both (sending) or neither (sandbox mode)");
  }
  if (w.corp_id.empty() && !(w.token.empty() && w.secret.empty())) {
    out.problems.push_back("config: wecom.corp_id is required when callbacks or sending are configured");
  }
  if (!w.aes_key.empty() && w.aes_key.size() != 43) {
    out.problems.push_back("config: wecom.aes_key (" + std::to_string(w.aes_key.size()) +
                           " characters): expected the 43-character EncodingAESKey");
  }
  return out;
}

LoadedConfig LoadConfig(const std::optional<std::string>& file, const Environment& env) {
  if (!file) return ParseConfig("", "defaults", env);
  std::ifstream in(*file, std::ios::binary);
  if (!in) {
    LoadedConfig out;
    out.problems.push_back("config: " + *file + ": cannot be read");
    return out;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  if (content.find_first_not_of(" \t\r\n") == std::string::npos) {
    LoadedConfig out;
    out.problems.push_back("config: " + *file + ": is empty; expected a JSON object");
    return out;
  }
  return ParseConfig(content, *file, env);
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("DUIJIE_")) continue;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

}  // namespace duijie::bot
