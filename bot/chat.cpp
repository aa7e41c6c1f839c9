#include "bot/chat.hpp"

#include <istream>
#include <ostream>
#include <random>

#include "bot/http/call.hpp"
#include "channels/email/compose.hpp"
#include "channels/email/render.hpp"
#include "channels/sms/providers.hpp"
#include "channels/sms/signing.hpp"
#include "channels/wecom/crypto.hpp"
#include "channels/wecom/message.hpp"
#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/digest.hpp"
#include "common/mask.hpp"
#include "dialogs/catalogue.hpp"
#include "store/connection.hpp"

namespace duijie::bot {
namespace {

namespace wecom = channels::wecom;

// One POST as the provider would send it.
Result<HttpResponse> Post(const Endpoint& ep, const std::string& target, const std::string& body,
                          std::chrono::milliseconds timeout, const std::string& content_type = "application/xml",
                          const std::string& signature = "") {
  HttpRequest req{http::verb::post, target, 11};
  req.set(http::field::content_type, content_type);
  if (!signature.empty()) req.set("X-Twilio-Signature", signature);
  req.body() = body;
  return CallOnce(ep, std::move(req), timeout);
}

std::string Digits(std::mt19937_64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
  return s;
}

store::Connection ReadOnly(const Config& config) {
  store::ConnectionOptions o;
  o.read_only = true;
  return store::Connection(config.store.path, o);
}

// Where the conversation with `recipient` on `channel` stands: answers from before this chat
// are not shown.
std::int64_t LastOutboxId(const Config& config, const std::string& channel, const std::string& recipient) {
  auto c = ReadOnly(config);
  auto& q = c.Prepare("SELECT COALESCE(max(id), 0) FROM outbox WHERE channel = ? AND recipient = ?");
  q.bind(1, channel);
  q.bind(2, recipient);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

// How the gateway took one chat line: accepted (its answers get printed), refused (shown, the
// chat goes on), or not reached (the chat ends).
enum class Taken { kAccepted, kRefused, kFailed };
Taken Report(const Result<HttpResponse>& res, std::ostream& out, std::ostream& err) {
  if (!res) {
    err << "duijie chat: " << res.error().message << "\n";
    return Taken::kFailed;
  }
  if (res->result() != http::status::ok) {
    out << "! " << res->result_int() << " " << res->body() << "\n";
    return Taken::kRefused;
  }
  return Taken::kAccepted;
}

// SMS answers queued for `number` after outbox id `after`: printed, and the last id returned.
std::int64_t PrintSmsAnswers(const Config& config, const std::string& number, std::int64_t after, std::ostream& out) {
  auto c = ReadOnly(config);
  auto& q = c.Prepare("SELECT id, payload FROM outbox WHERE channel = 'sms' AND recipient = ? AND id > ? ORDER BY id");
  q.bind(1, number);
  q.bind(2, after);
  bool any = false;
  while (q.executeStep()) {
    after = q.getColumn(0).getInt64();
    const auto payload = nlohmann::json::parse(q.getColumn(1).getString(), nullptr, false);
    out << "duijie (SMS): " << (payload.is_object() ? payload.value("text", "") : "") << "\n";
    any = true;
  }
  if (!any) out << "(no SMS answer)\n";
  return after;
}

int RunSmsChat(const Config& config, const ChatOptions& options, const Endpoint& ep, std::istream& in,
               std::ostream& out, std::ostream& err) {
  const auto& sms = config.sms;
  const bool twilio = options.provider == "twilio";
  if (options.from.size() < 8 || options.from[0] != '+') {
    err << "duijie chat: --from: expected a mobile number in E.164, e.g. +8613711112222\n";
    return 2;
  }
  if (twilio ? sms.twilio_auth_token.empty() : sms.callback_secret.empty()) {
    err << "duijie chat: set " << (twilio ? "DUIJIE_SMS_TWILIO_AUTH_TOKEN" : "DUIJIE_SMS_CALLBACK_SECRET")
        << " to the gateway's value\n";
    return 1;
  }
  std::int64_t last = 0;
  try {
    last = LastOutboxId(config, "sms", options.from);
  } catch (const std::exception& e) {
    err << "duijie chat: cannot read " << config.store.path << ": " << e.what() << "\n";
    return 1;
  }
  out << "Texting the gateway as " << MaskPhone(options.from) << " through " << options.provider
      << ". Type a message; /quit.\n";
  SystemClock clock;
  std::mt19937_64 rng{std::random_device{}()};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line == "/quit") break;
    const std::int64_t now = ToUnixMillis(clock.Now()) / 1000;
    std::string target;
    std::string body;
    std::string type = "application/json";
    std::string signature;
    const std::string national = options.from.starts_with("+86") ? options.from.substr(3) : options.from.substr(1);
    if (options.provider == "tencent") {
      target = "/sms/tencent/" + sms.callback_secret + "/reply";
      body = nlohmann::json{{"extend", ""},
                            {"mobile", national},
                            {"nationcode", options.from.starts_with("+86") ? "86" : ""},
                            {"sign", sms.sign_name},
                            {"text", line},
                            {"time", now}}
                 .dump();
    } else if (options.provider == "aliyun") {
      target = "/sms/aliyun/" + sms.callback_secret + "/up";
      body = nlohmann::json::array({{{"phone_number", national},
                                     {"content", line},
                                     {"send_time", FormatUtc(clock.Now())},
                                     {"dest_code", ""},
                                     {"sequence_id", std::to_string(rng())}}})
                 .dump();
    } else {
      target = "/sms/twilio/inbound";
      const channels::sms::Params form = {{"MessageSid", "SM" + Digits(rng, 32)},
                                          {"AccountSid", sms.twilio_account_sid},
                                          {"From", options.from},
                                          {"To", sms.twilio_from},
                                          {"Body", line},
                                          {"NumMedia", "0"}};
      body = channels::sms::FormEncode(form);
      type = "application/x-www-form-urlencoded";
      signature = channels::sms::TwilioSignature(sms.twilio_auth_token, sms.public_base_url + target, form);
    }
    const Taken taken = Report(Post(ep, target, body, options.timeout, type, signature), out, err);
    if (taken == Taken::kFailed) return 1;
    if (taken == Taken::kRefused) continue;
    last = PrintSmsAnswers(config, options.from, last, out);
  }
  return 0;
}

// The gateway's key for Message-ID tags: configured, or the one its database keeps.
std::string EmailSecret(const Config& config) {
  if (!config.email.token_secret.empty()) return config.email.token_secret;
  auto c = ReadOnly(config);
  auto& q = c.Prepare("SELECT value FROM local_secrets WHERE name = 'email.token_secret'");
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

struct MailSeen {
  std::int64_t last_id = 0;
  std::string last_subject;
};

// Mail queued for `address` after outbox id `after`, rendered as the gateway sends it.
MailSeen PrintMail(const Config& config, const std::string& address, const std::string& secret, MailSeen seen,
                   std::ostream& out) {
  auto c = ReadOnly(config);
  auto& q = c.Prepare(
      "SELECT id, kind, payload FROM outbox WHERE channel = 'email' AND recipient = ? AND id > ? ORDER BY id");
  q.bind(1, address);
  q.bind(2, seen.last_id);
  channels::email::MailSettings settings;
  settings.from = {config.email.from_name, config.email.from};
  settings.token_secret = secret;
  settings.reply_address = config.email.reply_address;
  bool any = false;
  while (q.executeStep()) {
    store::OutboxMessage m;
    m.id = q.getColumn(0).getInt64();
    m.kind = q.getColumn(1).getString();
    m.payload = q.getColumn(2).getString();
    m.channel = "email";
    m.recipient = address;
    seen.last_id = m.id;
    const auto mail = channels::email::RenderOutbox(m, settings, dialogs::Catalogue::Embedded(), 0, "chat");
    if (!mail) continue;
    seen.last_subject = mail->subject;
    out << "duijie (email) Subject: " << mail->subject << "\n" << mail->text << "\n";
    any = true;
  }
  if (!any) out << "(no mail in answer)\n";
  return seen;
}

int RunEmailChat(const Config& config, const ChatOptions& options, const Endpoint& ep, std::istream& in,
                 std::ostream& out, std::ostream& err) {
  std::string from = options.from;
  std::transform(from.begin(), from.end(), from.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!channels::email::PlausibleAddress(from)) {
    err << "duijie chat: --from: expected an email address, e.g. zhang.san@example.edu.cn\n";
    return 2;
  }
  if (config.email.inbound_secret.empty()) {
    err << "duijie chat: set DUIJIE_EMAIL_INBOUND_SECRET to the gateway's value\n";
    return 1;
  }
  MailSeen seen;
  std::string secret;
  try {
    secret = EmailSecret(config);
    seen.last_id = LastOutboxId(config, "email", from);
  } catch (const std::exception& e) {
    err << "duijie chat: cannot read " << config.store.path << ": " << e.what() << "\n";
    return 1;
  }
  out << "Mailing the gateway as " << MaskEmail(from) << ". Type a message; /quit.\n";
  SystemClock clock;
  const std::string domain = config.email.message_id_domain.empty()
                                 ? config.email.from.substr(config.email.from.find('@') + 1)
                                 : config.email.message_id_domain;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line == "/quit") break;
    channels::email::OutgoingMail mail;
    mail.from = {"", from};
    mail.to = {{"", config.email.reply_address.empty() ? config.email.from : config.email.reply_address}};
    mail.subject = seen.last_subject.empty()                 ? std::string("duijie chat")
                   : seen.last_subject.rfind("Re: ", 0) == 0 ? seen.last_subject
                                                             : "Re: " + seen.last_subject;
    mail.message_id = "chat." + RandomHex(8) + "@" + from.substr(from.find('@') + 1);
    if (seen.last_id > 0 && !secret.empty()) {
      mail.in_reply_to = channels::email::MessageIdFor(seen.last_id, secret, domain);
    }
    mail.text = line;
    mail.date_unix = ToUnixMillis(clock.Now()) / 1000;
    mail.boundary_seed = RandomHex(8);
    const Taken taken = Report(Post(ep, "/email/inbound/" + config.email.inbound_secret, channels::email::Compose(mail),
                                    options.timeout, "message/rfc822"),
                               out, err);
    if (taken == Taken::kFailed) return 1;
    if (taken == Taken::kRefused) continue;
    seen = PrintMail(config, from, secret, seen, out);
  }
  return 0;
}

}  // namespace

int RunChat(const Config& config, const ChatOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  std::string url = options.url;
  if (url.empty()) url = "http://" + config.http.address + ":" + std::to_string(config.http.port);
  const auto endpoint = ParseEndpoint(url);
  if (!endpoint) {
    err << "duijie chat: --url " << url << ": expected http://host:port\n";
    return 2;
  }
  const Endpoint& ep = *endpoint;
  if (options.channel == "sms") return RunSmsChat(config, options, ep, in, out, err);
  if (options.channel == "email") return RunEmailChat(config, options, ep, in, out, err);
  if (options.user.empty()) {
    err << "duijie chat: --user is required with --channel wecom\n";
    return 2;
  }
  if (!config.wecom.CallbacksConfigured()) {
    err << "duijie chat: WeCom is not configured; set DUIJIE_WECOM_CORP_ID, DUIJIE_WECOM_TOKEN and "
           "DUIJIE_WECOM_AES_KEY to the gateway's values\n";
    return 1;
  }
  const auto crypto = wecom::Crypto::Create(config.wecom.token, config.wecom.aes_key, config.wecom.corp_id);
  if (!crypto) {
    err << "duijie chat: " << crypto.error().message << "\n";
    return 1;
  }
  SystemClock clock;
  std::mt19937_64 rng{std::random_device{}()};
  out << "Talking to " << url << " as WeCom user " << options.user
      << ". Type a message; /subscribe, /enter, /click KEY, /quit.\n";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line == "/quit") break;
    const std::int64_t now = ToUnixMillis(clock.Now()) / 1000;
    std::string plain;
    if (line == "/subscribe" || line == "/enter") {
      plain = wecom::EventPlaintext(config.wecom.corp_id, options.user, line == "/enter" ? "enter_agent" : "subscribe",
                                    "", now, config.wecom.agent_id);
    } else if (line.rfind("/click ", 0) == 0) {
      plain = wecom::EventPlaintext(config.wecom.corp_id, options.user, "click", line.substr(7), now,
                                    config.wecom.agent_id);
    } else {
      plain = wecom::TextMessagePlaintext(config.wecom.corp_id, options.user, line, now, rng(), config.wecom.agent_id);
    }
    const std::string encrypted = crypto->Encrypt(plain);
    const std::string timestamp = std::to_string(now);
    const std::string nonce = Digits(rng, 10);
    const std::string target = "/wecom/callback?msg_signature=" + crypto->Sign(timestamp, nonce, encrypted) +
                               "&timestamp=" + timestamp + "&nonce=" + nonce;
    const std::string body = "<xml><ToUserName><![CDATA[" + config.wecom.corp_id +
                             "]]></ToUserName><Encrypt><![CDATA[" + encrypted + "]]></Encrypt><AgentID><![CDATA[" +
                             config.wecom.agent_id + "]]></AgentID></xml>";
    const auto res = Post(ep, target, body, options.timeout);
    if (!res) {
      err << "duijie chat: " << url << ": " << res.error().message << "\n";
      return 1;
    }
    if (res->result() != http::status::ok) {
      out << "! " << res->result_int() << " " << res->body() << "\n";
      continue;
    }
    if (res->body().empty()) {
      out << "(no reply)\n";
      continue;
    }
    const auto envelope = wecom::ParseReplyEnvelope(res->body());
    if (!envelope || !crypto->Verify(envelope->signature, envelope->timestamp, envelope->nonce, envelope->encrypt)) {
      out << "! the reply is not a correctly signed WeCom reply\n";
      continue;
    }
    const auto reply = crypto->Decrypt(envelope->encrypt);
    const auto message = reply ? wecom::ParsePlaintext(*reply) : Result<wecom::CallbackMessage>(reply.error());
    if (!message) {
      out << "! " << message.error().message << "\n";
      continue;
    }
    out << "duijie: " << message->content << "\n";
  }
  return 0;
}

}  // namespace duijie::bot
