#include "channels/email/smtp_sender.hpp"

#include <cstring>
#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/digest.hpp"
#include <curl/curl.h>

namespace duijie::channels::email {
namespace {

struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
  EndOfDataJournal* journal = nullptr;
  std::int64_t id = 0;
};

std::size_t OnRead(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t room = size * n;
  const std::size_t left = up->data->size() - up->offset;
  const std::size_t len = std::min(room, left);
  std::memcpy(buffer, up->data->data() + up->offset, len);
  up->offset += len;
  // The last bytes are leaving; the terminating dot follows them.
  if (len > 0 && up->offset == up->data->size() && up->journal != nullptr) up->journal->Mark(up->id);
  return len;
}

}  // namespace

store::AttemptOutcome ClassifySmtp(const SmtpOutcome& o) {
  if (o.curl_code == CURLE_OK && o.reply_code >= 200 && o.reply_code < 400) return store::AttemptOutcome::kSent;
  if (o.curl_code == CURLE_OK && o.reply_code == 0) return store::AttemptOutcome::kSent;
  // The whole message went out after the server's 354 and its final answer never came: it may
  // have taken the mail. Sending again could deliver it twice.
  if (o.body_sent && o.reply_code == 354) return store::AttemptOutcome::kUnknown;
  if (o.reply_code >= 500 && o.reply_code < 600) {
    // 530/535 (authentication) are our configuration, not the message: worth another try once
    // the operator fixes it.
    if (o.reply_code == 530 || o.reply_code == 535 || o.reply_code == 534) return store::AttemptOutcome::kRetryable;
    return store::AttemptOutcome::kFailed;
  }
  switch (o.curl_code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return store::AttemptOutcome::kFailed;
    default:
      return store::AttemptOutcome::kRetryable;
  }
}

bool RecipientRefused(const store::AttemptRecord& record) {
  if (record.outcome != store::AttemptOutcome::kFailed) return false;
  for (std::string_view code : {"(SMTP 550)", "(SMTP 551)", "(SMTP 553)"}) {
    if (record.error.find(code) != std::string::npos) return true;
  }
  return false;
}

SmtpSender::SmtpSender(SmtpSettings smtp, MailSettings mail, const dialogs::Catalogue& catalogue, const Clock& clock)
    : smtp_(std::move(smtp)),
      mail_(std::move(mail)),
      catalogue_(catalogue),
      clock_(clock),
      pool_(smtp_.connections == 0 ? 1 : smtp_.connections),
      reaper_(pool_.get_executor()) {
  if (!smtp_.journal_path.empty()) journal_.emplace(smtp_.journal_path);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ScheduleReaper();
}

SmtpSender::~SmtpSender() { Stop(); }

void SmtpSender::Stop() {
  {
    const std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  net::post(reaper_.get_executor(), [this] { reaper_.cancel(); });
  pool_.join();
  const std::lock_guard lock(mu_);
  for (auto& s : idle_) curl_easy_cleanup(static_cast<CURL*>(s.handle));  // QUIT
  idle_.clear();
}

void SmtpSender::ScheduleReaper() {
  reaper_.expires_after(smtp_.idle_close / 2);
  reaper_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    CloseIdle();
    const std::lock_guard lock(mu_);
    if (!stopped_) ScheduleReaper();
  });
}

void SmtpSender::CloseIdle() {
  std::vector<Session> expired;
  {
    const std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (now - it->last_used >= smtp_.idle_close) {
        expired.push_back(*it);
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : expired) curl_easy_cleanup(static_cast<CURL*>(s.handle));
}

void* SmtpSender::Acquire() {
  {
    const std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    while (!idle_.empty()) {
      const Session s = idle_.back();
      idle_.pop_back();
      if (now - s.last_used < smtp_.idle_close) return s.handle;
      curl_easy_cleanup(static_cast<CURL*>(s.handle));
    }
  }
  return curl_easy_init();
}

void SmtpSender::Release(void* handle) {
  const std::lock_guard lock(mu_);
  idle_.push_back({handle, std::chrono::steady_clock::now()});
}

store::AttemptRecord SmtpSender::Transfer(std::int64_t id, const std::string& message, const std::string& message_id,
                                          const std::string& from, const std::vector<std::string>& to) {
  auto* h = static_cast<CURL*>(Acquire());
  if (h == nullptr) return {store::AttemptOutcome::kRetryable, "smtp", "", "curl_easy_init failed"};
  // A handle keeps its connection across curl_easy_reset: every option is set again.
  curl_easy_reset(h);
  std::unique_ptr<curl_slist, ListDeleter> rcpt;
  for (const auto& r : to) rcpt.reset(curl_slist_append(rcpt.release(), ("<" + r + ">").c_str()));
  Upload upload{&message, 0, journal_ ? &*journal_ : nullptr, id};
  char error_buffer[CURL_ERROR_SIZE] = {};
  const std::string mail_from = "<" + from + ">";
  curl_easy_setopt(h, CURLOPT_URL, smtp_.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  // STARTTLS on smtp:// is required unless plain text was allowed explicitly; never TRY, which
  // would continue in the clear (spec §6.1).
  curl_easy_setopt(h, CURLOPT_USE_SSL, smtp_.allow_plain ? CURLUSESSL_NONE : CURLUSESSL_ALL);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!smtp_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, smtp_.ca_file.c_str());
  if (!smtp_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, smtp_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, smtp_.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(smtp_.timeout.count(), 10'000)));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(smtp_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode code = curl_easy_perform(h);
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  const auto outcome = ClassifySmtp({static_cast<int>(code), reply, "", upload.offset == message.size()});
  const bool taken = outcome == store::AttemptOutcome::kSent;
  if (journal_ && taken) journal_->MarkTaken(id);
  if (code != CURLE_OK) {
    std::string error =
        std::string(curl_easy_strerror(code)) + (error_buffer[0] != '\0' ? std::string(": ") + error_buffer : "");
    if (reply != 0) error += " (SMTP " + std::to_string(reply) + ")";
    curl_easy_cleanup(h);  // the session's state is unknown: never reuse it
    return {outcome, "smtp", taken ? message_id : "", std::move(error)};
  }
  Release(h);
  return {outcome, "smtp", taken ? message_id : "", ""};
}

net::awaitable<store::AttemptRecord> SmtpSender::Send(const store::OutboxMessage& msg) {
  const auto now = ToUnixMillis(clock_.Now()) / 1000;
  auto mail = RenderOutbox(msg, mail_, catalogue_, now, RandomHex(8));
  if (!mail) co_return store::AttemptRecord{store::AttemptOutcome::kFailed, "smtp", "", mail.error().message};
  std::string message = Compose(*mail);
  std::vector<std::string> to = EnvelopeRecipients(*mail);
  std::string from = mail->from.address;
  std::string message_id = mail->message_id;
  const auto transfer = [this, id = msg.id, message = std::move(message), message_id = std::move(message_id),
                         from = std::move(from), to = std::move(to)]() -> net::awaitable<store::AttemptRecord> {
    co_return Transfer(id, message, message_id, from, to);
  };
  co_return co_await net::co_spawn(pool_.get_executor(), transfer, net::use_awaitable);
}

net::awaitable<LookupResult> SmtpSender::Lookup(const store::OutboxMessage& msg) {
  // A message still 'sending' was claimed by a process that died: the journal says whether the
  // server took it, cannot have it (resent), or may have it. One 'unknown' had its whole DATA go
  // out and no answer (ClassifySmtp): never resent.
  if (msg.status != "sending" || !journal_) co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
  switch (journal_->Of(msg.id)) {
    case EndOfDataJournal::State::kTaken:
      co_return LookupResult{store::Recovery::kWasSent, MessageIdFor(msg.id, mail_), "sent"};
    case EndOfDataJournal::State::kUnseen:
      co_return LookupResult{store::Recovery::kWasLost, "", "sent"};
    case EndOfDataJournal::State::kEnded:
      break;
  }
  co_return LookupResult{store::Recovery::kStillUnknown, "", "sent"};
}

}  // namespace duijie::channels::email
