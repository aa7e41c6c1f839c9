#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"

namespace duijie::bot {

using Millis = std::chrono::milliseconds;

struct HttpConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  Millis read_timeout{15'000};  // a request's header and body must arrive within this
  Millis idle_timeout{60'000};  // a keep-alive connection with no request is closed after this
  Millis write_timeout{15'000};
  Millis shutdown_grace{10'000};  // in-flight requests get this long after SIGTERM
  int threads = 0;                // 0 = one per core
  int max_connections = 10'000;
  // Per source address on the public webhook routes (/wecom, /sms, /email); 0 = no limit.
  double webhook_rate_per_source = 200;
  double webhook_burst_per_source = 400;
};

struct StoreConfig {
  std::string path = "./duijie.db";
  std::string files_dir = "./files";  // files people send (contracts, invoices), by SHA-256
  std::string synchronous = "full";
  Millis busy_timeout{5'000};
  int readers = 2;
  int max_batch = 1024;
  int message_retention_days = 365;  // message bodies kept this long once finished; 0 = for ever
};

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  bool access = true;
};

struct DispatcherConfig {
  bool enabled = true;
  int batch = 64;  // messages claimed per channel per round
  // Messages claimed and not yet answered by their provider: the sends under way plus those
  // queued for an HTTP thread. It has to cover the time a claim takes to commit, or the provider
  // idles between claims (bench/sms_dispatch.sh: 64 kept it busy about 65 % of the time).
  int concurrency = 256;
  Millis poll_interval{1'000};
  Millis retry_base{1'000};
  Millis retry_cap{1'800'000};
  Millis unknown_recheck{60'000};
  Millis claim_stale{300'000};
  Millis unknown_give_up{86'400'000};
};

/// Per-channel settings shared by every channel section. Credentials come with each channel's
/// own issue; a channel without them runs in sandbox mode.
struct ChannelConfig {
  double rate_per_s = 0;  // 0 = unlimited
  double burst = 1;
  int recipient_per_min = 0;  // messages one recipient may get in any minute; 0 = unlimited
  int recipient_per_hour = 0;
};

/// The WeCom self-built app (DESIGN.md §4 names). Inbound callbacks need corp_id, token and
/// aes_key; active sending (later) needs secret and agent_id too. Secrets belong in the
/// environment (DUIJIE_WECOM_TOKEN, DUIJIE_WECOM_AES_KEY, DUIJIE_WECOM_SECRET).
struct WeComConfig {
  std::string corp_id;
  std::string token;
  std::string aes_key;
  std::string secret;
  std::string agent_id;
  std::string api_base = "https://qyapi.weixin.qq.com";
  std::chrono::seconds timestamp_window{300};
  std::size_t max_media_bytes = std::size_t{20} << 20;

  [[nodiscard]] bool CallbacksConfigured() const { return !corp_id.empty() && !token.empty() && !aes_key.empty(); }
  [[nodiscard]] bool SendingConfigured() const { return !corp_id.empty() && !secret.empty() && !agent_id.empty(); }
};

/// Group robots (群机器人, spec §5): named webhook keys, "name=KEY,name2=KEY2". The key is the
/// credential: set it as DUIJIE_WECOM_ROBOT_KEYS. A broadcast addresses a robot by its name.
struct WeComRobotConfig {
  std::string keys_text;                    // as configured
  std::map<std::string, std::string> keys;  // parsed: name -> key
};

/// SMS (DESIGN.md §4, spec sms-email.md): Tencent Cloud or Alibaba Cloud for mainland numbers
/// (the other one, when configured too, takes over on retryable failures), Twilio for numbers
/// abroad. A provider is live when its credentials are set; with none the channel is in sandbox
/// mode. Secrets belong in the environment (DUIJIE_SMS_TENCENT_SECRET_KEY, ...).
struct SmsConfig {
  std::string provider = "tencent";  // primary for mainland numbers
  std::string sign_name;             // the approved signature text, e.g. 科技服务
  std::string tencent_secret_id;
  std::string tencent_secret_key;
  std::string tencent_sdk_app_id;
  std::string tencent_region = "ap-guangzhou";
  std::string tencent_endpoint = "https://sms.tencentcloudapi.com";
  std::string aliyun_access_key_id;
  std::string aliyun_access_key_secret;
  std::string aliyun_region = "cn-hangzhou";
  std::string aliyun_endpoint = "https://dysmsapi.aliyuncs.com";
  std::string twilio_account_sid;
  std::string twilio_auth_token;
  std::string twilio_from;
  std::string twilio_messaging_service_sid;
  std::string twilio_endpoint = "https://api.twilio.com";
  std::string public_base_url;              // how providers reach us, e.g. https://duijie.example.cn (Twilio signs it)
  std::string callback_secret;              // path segment of the unsigned Tencent and Alibaba callbacks
  std::string allow_ips;                    // comma-separated source addresses for those callbacks; empty = any
  std::vector<std::string> allow_ip_list;   // allow_ips parsed and normalised
  std::string templates_file;               // empty = the embedded config/sms/templates.json
  std::string quiet_hours = "21:00-08:00";  // Asia/Shanghai; empty = none
  int per_hour = 1;
  int per_day = 3;
  int codes_per_hour = 5;
  int codes_per_day = 10;
  int coalesce_max = 5;
  int extend_code_digits = 0;

  [[nodiscard]] bool TencentConfigured() const { return !tencent_secret_id.empty(); }
  [[nodiscard]] bool AliyunConfigured() const { return !aliyun_access_key_id.empty(); }
  [[nodiscard]] bool TwilioConfigured() const { return !twilio_account_sid.empty(); }
};

/// Email (issue 8, spec sms-email.md §6): SMTP out, raw MIME and Mailgun in.
struct EmailConfig {
  std::string smtp_url;  // smtps://host:465 or smtp://host:587 (STARTTLS required); empty = sandbox
  std::string smtp_username;
  std::string smtp_password;
  bool smtp_allow_plain = false;  // smtp:// without TLS, for a relay on the same host only
  std::string smtp_ca_file;       // empty = the system trust store
  Millis smtp_timeout{30'000};
  Millis smtp_idle_close{20'000};
  int smtp_connections = 2;
  std::string from = "noreply@duijie.invalid";
  std::string from_name;            // empty = the catalogue's email.from_name
  std::string reply_address;        // e.g. reply@inbound.example.cn: Reply-To reply+<token>@…
  std::string message_id_domain;    // empty = the domain of `from`
  std::string token_secret;         // keys Message-IDs and reply tokens; empty = one kept in the database
  std::string unsubscribe_mailto;   // e.g. unsubscribe@notify.example.cn
  std::string public_base_url;      // https://…: one-click unsubscribe links
  std::string inbound_secret;       // path segment of POST /email/inbound/<secret>; empty = route off
  std::string mailgun_signing_key;  // empty = POST /email/mailgun answers 503
  int mailgun_max_age_s = 900;
  std::size_t max_inbound_bytes = std::size_t{25} << 20;
  int max_inbound_attachments = 20;
  std::size_t max_inbound_attachment_bytes = std::size_t{20} << 20;

  [[nodiscard]] bool SmtpConfigured() const { return !smtp_url.empty(); }
};

/// Which edition of the programme the conversations run (config/programmes/<id>.json).
struct ProgrammeConfig {
  std::string id = "hubei-2020";
};

/// The conversations' own limits.
struct DialogsConfig {
  std::size_t max_state_bytes = std::size_t{64} << 10;  // one person's conversation state, serialised
};

/// Matching and push planning (issue 6).
struct MatcherConfig {
  /// OpenCC's traditional → simplified configuration; empty turns the conversion off.
  std::string opencc_config = "/usr/share/opencc/t2s.json";
  int pushes_per_week = 3;      // per researcher, across all needs
  int pushes_per_need_min = 5;  // a published need reaches at least this many, when there are candidates
  int pushes_per_need_max = 10;
  double score_floor = 0.35;         // candidates below this share of the need's best score are not pushed
  Millis refresh{5'000};             // how often the gateway indexes what changed in the store
  int push_remind_hours = 48;        // an unanswered push gets one reminder after this
  int push_close_hours = 96;         // ... and closes as unanswered after this
  int proposal_digest_minutes = 10;  // proposals reach the enterprise in a digest after this quiet spell
};

struct BroadcastConfig {
  std::vector<std::string> channel_order{"wecom", "sms", "email"};  // a person's preferred channel goes first
  int max_per_person_per_day = 3;  // staff broadcasts reaching one person in 24 h (deadline reminders exempt)
  Millis tick{5'000};              // how often scheduled broadcasts, acknowledgements and milestones are checked
  int plan_batch = 2'000;          // recipients planned per write transaction
  int window = 20'000;             // a broadcast's messages waiting in the outbox at most (0: no limit)
  bool milestones = true;          // the programme's milestones send their reminder ladders
};

/// What the command-line tools (`duijie broadcast`) use against a running gateway's admin API.
struct ApiClientConfig {
  std::string token;  // a bearer token (`duijie token create`); a secret: DUIJIE_API_TOKEN
};

struct Config {
  HttpConfig http;
  StoreConfig store;
  LogConfig log;
  DispatcherConfig dispatcher;
  ProgrammeConfig programme;
  DialogsConfig dialogs;
  MatcherConfig matcher;
  BroadcastConfig broadcast;
  ApiClientConfig api;
  WeComConfig wecom;
  WeComRobotConfig wecom_robot;
  SmsConfig sms;
  EmailConfig email;
  // WeCom silently drops app messages past 30 a minute or 1000 an hour per member, and a group
  // robot refuses more than 20 a minute (spec §4.7, §5).
  std::map<std::string, ChannelConfig> channels = {{"wecom", {50, 50, 30, 1000}},
                                                   {"wecom_robot", {10, 10, 20, 0}},
                                                   {"wecom_kf", {50, 50, 0, 0}},
                                                   {"sms", {20, 20, 0, 0}},
                                                   {"email", {10, 10, 0, 0}}};
};

/// "HH:MM-HH:MM" as minutes past midnight (start, end); nullopt if malformed.
[[nodiscard]] std::optional<std::pair<int, int>> ParseQuietHours(std::string_view text);

/// Environment variables as name -> value; only DUIJIE_* names matter.
using Environment = std::map<std::string, std::string>;

/// One documented configuration key (DESIGN.md §4): `section.key` in the file,
/// DUIJIE_<SECTION>_<KEY> in the environment.
struct ConfigKey {
  std::string_view section;
  std::string_view key;
  std::string_view type;  // 'string', 'integer', 'number', 'boolean', 'milliseconds', 'host:port', one of a|b|c
  std::string_view doc;
};

/// Every key duijie reads, in documentation order.
[[nodiscard]] std::vector<ConfigKey> ConfigKeys();
[[nodiscard]] std::string EnvName(const ConfigKey& key);

struct LoadedConfig {
  Config config;
  /// One line per problem: key, value, what is expected. Empty when the config is valid.
  std::vector<std::string> problems;
};

/// Embedded defaults, then the file (JSON, comments allowed) if given, then the environment.
/// Unknown keys and unknown DUIJIE_* variables are problems too: a typo must not be ignored.
[[nodiscard]] LoadedConfig LoadConfig(const std::optional<std::string>& file, const Environment& env);
/// The same from text already read (`origin` names it in messages).
[[nodiscard]] LoadedConfig ParseConfig(std::string_view text, std::string_view origin, const Environment& env);

/// The DUIJIE_* variables of this process.
[[nodiscard]] Environment ProcessEnvironment();

}  // namespace duijie::bot
