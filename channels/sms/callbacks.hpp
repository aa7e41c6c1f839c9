#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channels/sms/signing.hpp"
#include "common/error.hpp"

namespace duijie::channels::sms {

/// A delivery receipt, whatever provider sent it.
struct Receipt {
  std::string key;                        // inbox key: the same receipt twice is one
  std::string provider_ref;               // "<provider>:<id>" as the send recorded it
  std::optional<std::int64_t> outbox_id;  // when the provider echoes our reference (Alibaba out_id)
  std::string number;                     // E.164, when the receipt names it
  bool delivered = false;
  std::string reason;  // the carrier's code and text
};

/// An SMS a person sent us.
struct Incoming {
  std::string key;     // inbox key
  std::string number;  // E.164
  std::string text;
  std::string extend;  // the extension code it came back on (Tencent extend, Alibaba dest_code)
};

inline constexpr std::size_t kMaxBatch = 1000;  // items in one callback
inline constexpr std::size_t kMaxTextBytes = 4096;
inline constexpr std::size_t kMaxExtendBytes =
    32;  // extension codes are a few digits  // an SMS reply; long SMS are ~500 characters

/// Tencent: receipts are a JSON array, a reply one object (spec §1.7). Every malformed body or
/// item is refused whole (kInvalidArgument naming the field), so nothing is half-stored.
[[nodiscard]] Result<std::vector<Receipt>> ParseTencentReceipts(std::string_view body);
[[nodiscard]] Result<Incoming> ParseTencentReply(std::string_view body);
/// Alibaba: SmsReport and SmsUp batches (spec §2.4), sequence_id as a string or a number.
[[nodiscard]] Result<std::vector<Receipt>> ParseAliyunReports(std::string_view body);
[[nodiscard]] Result<std::vector<Incoming>> ParseAliyunUps(std::string_view body);
/// Twilio: form parameters (already signature-checked).
[[nodiscard]] Result<Incoming> ParseTwilioInbound(const Params& form);
/// A final status (delivered, undelivered, failed) as a receipt; nullopt for the others.
[[nodiscard]] Result<std::optional<Receipt>> ParseTwilioStatus(const Params& form);

/// The acknowledgement bodies each provider expects.
inline constexpr std::string_view kTencentAck = R"({"result":0,"errmsg":"OK"})";
inline constexpr std::string_view kAliyunAck = R"({"code":0,"msg":"接收成功"})";
inline constexpr std::string_view kTwiMlEmpty = R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)";

}  // namespace duijie::channels::sms
