#pragma once
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "channels/email/end_of_data_journal.hpp"
#include "channels/email/render.hpp"
#include "channels/sender.hpp"
#include "common/clock.hpp"

namespace duijie::channels::email {

/// How to reach the submission server (spec sms-email.md §6.1).
struct SmtpSettings {
  std::string url;       // smtps://host:465 (implicit TLS) or smtp://host:587 (STARTTLS, required)
  std::string username;  // often the mailbox; QQ/163 want an 授权码 as the password
  std::string password;
  bool allow_plain = false;  // smtp:// without TLS: only for a relay on the same host
  std::string ca_file;       // empty: the system's trust store
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds idle_close{20'000};  // a connection idle this long is closed (QUIT)
  std::size_t connections = 2;                   // parallel SMTP sessions
  // Where mails that reached the end of their DATA are noted (EndOfDataJournal); empty: none,
  // and a mail whose sender died mid-transfer is never resent.
  std::string journal_path;
};

/// What one SMTP transaction ended in, before it becomes an attempt record.
struct SmtpOutcome {
  int curl_code = 0;
  long reply_code = 0;  // the server's last reply code
  std::string error;
  bool body_sent = false;  // every byte of the message was handed over after the server's 354
};
/// 2xx: sent; 5xx and a refused message: failed for good; the whole message sent and no final
/// answer: unknown (never sent again); 4xx, connection and TLS trouble before that: retryable.
[[nodiscard]] store::AttemptOutcome ClassifySmtp(const SmtpOutcome& outcome);

/// Whether a failed attempt says the mailbox does not exist or refuses mail for good (550, 551,
/// 553): the address is then suppressed like a bounce.
[[nodiscard]] bool RecipientRefused(const store::AttemptRecord& record);

/// Sends outbox messages as mail through libcurl's SMTP. Each transfer runs on a small pool of
/// its own threads, never on an I/O thread; connections are kept between messages and closed
/// when idle longer than `idle_close`, before the server's own timeout.
class SmtpSender final : public Sender {
 public:
  SmtpSender(SmtpSettings smtp, MailSettings mail, const dialogs::Catalogue& catalogue, const Clock& clock);
  ~SmtpSender() override;
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  [[nodiscard]] std::string_view Name() const override { return "smtp"; }
  net::awaitable<store::AttemptRecord> Send(const store::OutboxMessage& msg) override;
  /// SMTP has no way to ask. For a mail whose sender died the journal knows: taken (sent), its
  /// DATA never ended (the server cannot have it: resent), or neither (unknown, never resent).
  net::awaitable<LookupResult> Lookup(const store::OutboxMessage& msg) override;

  /// Closes the pooled connections and stops the pool.
  void Stop();

 private:
  struct Session {
    void* handle = nullptr;  // CURL*
    std::chrono::steady_clock::time_point last_used;
  };
  // One SMTP transaction for outbox message `id`, on the calling (pool) thread; the record
  // carries `message_id` when the server took the mail.
  store::AttemptRecord Transfer(std::int64_t id, const std::string& message, const std::string& message_id,
                                const std::string& from, const std::vector<std::string>& to);
  void* Acquire();
  void Release(void* handle);
  void CloseIdle();
  void ScheduleReaper();

  SmtpSettings smtp_;
  MailSettings mail_;
  const dialogs::Catalogue& catalogue_;
  const Clock& clock_;
  net::thread_pool pool_;
  net::steady_timer reaper_;
  std::mutex mu_;
  std::vector<Session> idle_;
  bool stopped_ = false;
  std::optional<EndOfDataJournal> journal_;
};

}  // namespace duijie::channels::email
