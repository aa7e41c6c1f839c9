#include "channels/sms/callbacks.hpp"

#include <nlohmann/json.hpp>

#include "channels/sms/providers.hpp"
#include "common/digest.hpp"

namespace duijie::channels::sms {
namespace {

using nlohmann::json;

Error Invalid(std::string what) { return {Errc::kInvalidArgument, std::move(what)}; }

bool Digits(std::string_view s) {
  return !s.empty() && s.size() <= 15 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A string field, or a number written as one; nullopt if absent or another type.
std::optional<std::string> Field(const json& o, const char* name, std::size_t max = 256) {
  const auto it = o.find(name);
  if (it == o.end()) return std::nullopt;
  std::string v;
  if (it->is_string()) {
    v = it->get<std::string>();
  } else if (it->is_number_integer()) {
    v = std::to_string(it->get<std::int64_t>());
  } else {
    return std::nullopt;
  }
  if (v.size() > max) return std::nullopt;
  return v;
}

Result<json> Parse(std::string_view body, bool array) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return Invalid("body is not JSON");
  if (array ? !doc.is_array() : !doc.is_object())
    return Invalid(array ? "expected a JSON array" : "expected a JSON object");
  if (array && doc.size() > kMaxBatch) return Invalid("more than " + std::to_string(kMaxBatch) + " items");
  return doc;
}

// A JSON-array batch read item by item: the first bad item refuses the whole batch, named by its
// position, so nothing of it is stored half.
template <class T, class ReadItem>
Result<std::vector<T>> ParseBatch(std::string_view body, ReadItem read_item) {
  auto doc = Parse(body, true);
  if (!doc) return doc.error();
  std::vector<T> out;
  out.reserve(doc->size());
  for (std::size_t i = 0; i < doc->size(); ++i) {
    const std::string where = "item " + std::to_string(i + 1) + ": ";
    const json& item = (*doc)[i];
    if (!item.is_object()) return Invalid(where + "not an object");
    Result<T> one = read_item(item);
    if (!one) return Invalid(where + one.error().message);
    out.push_back(std::move(*one));
  }
  return out;
}

// Mainland numbers come bare (Alibaba) or with a separate country code (Tencent).
std::optional<std::string> E164(std::string_view nationcode, std::string_view mobile) {
  // A number written whole already carries its country code.
  if (mobile.starts_with('+')) {
    mobile.remove_prefix(1);
    if (!Digits(mobile)) return std::nullopt;
    return "+" + std::string(mobile);
  }
  if (!Digits(mobile) || (!nationcode.empty() && !Digits(nationcode))) return std::nullopt;
  if (nationcode.empty()) {
    if (mobile.size() == 11 && mobile[0] == '1') return "+86" + std::string(mobile);
    return "+" + std::string(mobile);
  }
  return "+" + std::string(nationcode) + std::string(mobile);
}

}  // namespace

Result<std::vector<Receipt>> ParseTencentReceipts(std::string_view body) {
  return ParseBatch<Receipt>(body, [](const json& r) -> Result<Receipt> {
    const auto sid = Field(r, "sid");
    const auto status = Field(r, "report_status");
    if (!sid || sid->empty()) return Invalid("sid is missing");
    if (!status || (*status != "SUCCESS" && *status != "FAIL")) return Invalid("report_status is not SUCCESS|FAIL");
    const std::string errmsg = Field(r, "errmsg").value_or("");
    Receipt rc;
    // Spec §1.7: deduplicate on (sid, report_status, errmsg).
    rc.key = "tencent:receipt:" + *sid + ":" + *status + ":" + errmsg;
    rc.provider_ref = "tencent:" + *sid;
    rc.number = E164(Field(r, "nationcode").value_or("86"), Field(r, "mobile").value_or("")).value_or("");
    rc.delivered = *status == "SUCCESS";
    rc.reason = errmsg + (r.contains("description") ? " " + Field(r, "description", 1024).value_or("") : "");
    return rc;
  });
}

Result<Incoming> ParseTencentReply(std::string_view body) {
  auto doc = Parse(body, false);
  if (!doc) return doc.error();
  const auto mobile = Field(*doc, "mobile");
  const auto text = Field(*doc, "text", kMaxTextBytes);
  const auto time = Field(*doc, "time");
  if (!mobile || !text || !time) return Invalid("mobile, text and time are required (text at most 4096 bytes)");
  const auto number = E164(Field(*doc, "nationcode").value_or("86"), *mobile);
  if (!number) return Invalid("mobile is not a phone number");
  // Spec §1.7: deduplicate on (nationcode, mobile, time, text).
  return Incoming{"tencent:reply:" + *number + ":" + *time + ":" + Sha256Hex(*text).substr(0, 16), *number, *text,
                  Field(*doc, "extend", kMaxExtendBytes).value_or("")};
}

Result<std::vector<Receipt>> ParseAliyunReports(std::string_view body) {
  return ParseBatch<Receipt>(body, [](const json& r) -> Result<Receipt> {
    const auto biz = Field(r, "biz_id");
    if (!biz || biz->empty()) return Invalid("biz_id is missing");
    if (!r.contains("success") || !r["success"].is_boolean()) return Invalid("success must be true or false");
    const std::string code = Field(r, "err_code").value_or("");
    Receipt rc;
    rc.key = "aliyun:report:" + *biz + ":" + code;
    rc.provider_ref = "aliyun:" + *biz;
    rc.outbox_id = OutboxIdOf(Field(r, "out_id").value_or(""));
    rc.number = E164("", Field(r, "phone_number").value_or("")).value_or("");
    rc.delivered = r["success"].get<bool>();
    rc.reason = code + " " + Field(r, "err_msg", 1024).value_or("");
    return rc;
  });
}

Result<std::vector<Incoming>> ParseAliyunUps(std::string_view body) {
  return ParseBatch<Incoming>(body, [](const json& r) -> Result<Incoming> {
    const auto phone = Field(r, "phone_number");
    const auto content = Field(r, "content", kMaxTextBytes);
    if (!phone || !content) return Invalid("phone_number and content are required (content at most 4096 bytes)");
    const auto number = E164("", *phone);
    if (!number) return Invalid("phone_number is not a phone number");
    const auto seq = Field(r, "sequence_id");
    const std::string key = seq ? "aliyun:up:" + *seq
                                : "aliyun:up:" + *number + ":" + Field(r, "send_time").value_or("") + ":" +
                                      Sha256Hex(*content).substr(0, 16);
    return Incoming{key, *number, *content, Field(r, "dest_code", kMaxExtendBytes).value_or("")};
  });
}

namespace {
std::string FormValue(const Params& form, std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  return {};
}
}  // namespace

Result<Incoming> ParseTwilioInbound(const Params& form) {
  const std::string sid = FormValue(form, "MessageSid");
  const std::string from = FormValue(form, "From");
  const std::string body = FormValue(form, "Body");
  if (sid.empty() || sid.size() > 64) return Invalid("MessageSid is missing");
  if (from.size() < 2 || from[0] != '+' || !Digits(std::string_view(from).substr(1)))
    return Invalid("From is not E.164");
  if (body.size() > kMaxTextBytes) return Invalid("Body is longer than 4096 bytes");
  return Incoming{"twilio:inbound:" + sid, from, body, ""};
}

Result<std::optional<Receipt>> ParseTwilioStatus(const Params& form) {
  const std::string sid = FormValue(form, "MessageSid");
  const std::string status = FormValue(form, "MessageStatus");
  if (sid.empty() || sid.size() > 64 || status.empty()) return Invalid("MessageSid and MessageStatus are required");
  if (status != "delivered" && status != "undelivered" && status != "failed") return std::optional<Receipt>{};
  Receipt rc;
  rc.key = "twilio:status:" + sid + ":" + status;  // Twilio may repeat a callback
  rc.provider_ref = "twilio:" + sid;
  if (const std::string to = FormValue(form, "To"); to.size() > 1 && to[0] == '+' && Digits(to.substr(1))) {
    rc.number = to;
  }
  rc.delivered = status == "delivered";
  rc.reason = status + " " + FormValue(form, "ErrorCode");
  return std::optional<Receipt>(std::move(rc));
}

}  // namespace duijie::channels::sms
