// WeCom's side of the callbacks, played by the official @wecom/crypto npm package
// (tests/peers/wecom_peer.js): sealing callbacks as WeCom does and opening the gateway's replies.
#pragma once
#include <ctime>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace duijie::test::wecom {

using nlohmann::json;

// The official Python sample's settings (spec §2, set B): public test values, not secrets.
constexpr const char* kToken = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
constexpr const char* kKey = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
constexpr const char* kCorp = "ww1436e0e65a779aee";

inline json Peer(const json& request) {
  const auto r = test::RunCommand(DUIJIE_NODE, {std::string(DUIJIE_PEERS_DIR) + "/wecom_peer.js", request.dump()});
  if (r.exit_code != 0) throw std::runtime_error("wecom_peer.js failed: " + r.err);
  return json::parse(r.out);
}

inline std::string Now() { return std::to_string(std::time(nullptr)); }

inline std::string TextXml(const std::string& from, const std::string& content, const std::string& msg_id) {
  return "<xml><ToUserName><![CDATA[" + std::string(kCorp) + "]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>" + Now() +
         "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content + "]]></Content><MsgId>" +
         msg_id + "</MsgId><AgentID>1000002</AgentID></xml>";
}

inline std::string EventXml(const std::string& from, const std::string& event, const std::string& key) {
  return "<xml><ToUserName><![CDATA[" + std::string(kCorp) + "]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>" + Now() +
         "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[" + event +
         "]]></Event><EventKey><![CDATA[" + key + "]]></EventKey><AgentID>1000002</AgentID></xml>";
}

struct Sealed {
  std::string encrypt;
  std::string signature;
  std::string timestamp;
  std::string nonce;
};

inline Sealed Seal(const std::string& message, const std::string& nonce, const std::string& receiveid = kCorp,
                   const std::string& timestamp = Now()) {
  const auto r = Peer({{"op", "seal"},
                       {"key", kKey},
                       {"token", kToken},
                       {"receiveid", receiveid},
                       {"timestamp", timestamp},
                       {"nonce", nonce},
                       {"messages", {message}}});
  return {r[0]["encrypt"], r[0]["signature"], timestamp, nonce};
}

inline std::string Target(const Sealed& s) {
  return "/wecom/callback?msg_signature=" + s.signature + "&timestamp=" + s.timestamp + "&nonce=" + s.nonce;
}

inline std::string Envelope(const std::string& encrypt) {
  return "<xml><ToUserName><![CDATA[" + std::string(kCorp) + "]]></ToUserName>\n<Encrypt><![CDATA[" + encrypt +
         "]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>";
}

/// The text inside the gateway's encrypted passive reply (empty for an empty reply).
inline std::string OpenReply(const std::string& reply) {
  if (reply.empty()) return {};
  return Peer({{"op", "open"}, {"key", kKey}, {"token", kToken}, {"reply", reply}})["message"].get<std::string>();
}

/// An image message (a contract's scan, an invoice) with its media id.
inline std::string ImageXml(const std::string& from, const std::string& media_id, const std::string& msg_id) {
  return "<xml><ToUserName><![CDATA[" + std::string(kCorp) + "]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>" + Now() +
         "</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/p]]></PicUrl><MediaId><![CDATA[" +
         media_id + "]]></MediaId><MsgId>" + msg_id + "</MsgId><AgentID>1000002</AgentID></xml>";
}

/// A callback delivered to the gateway on `port` as WeCom delivers it (sealed with `nonce`): the
/// HTTP status and the text of the passive reply.
struct Delivered {
  int status = 0;
  std::string reply;
};
inline Delivered Deliver(std::uint16_t port, const std::string& xml, const std::string& nonce) {
  const auto sealed = Seal(xml, nonce);
  HttpConnection conn(port);
  const auto res = conn.Request(http::verb::post, Target(sealed), Envelope(sealed.encrypt));
  return {static_cast<int>(res.result_int()), OpenReply(res.body())};
}

}  // namespace duijie::test::wecom
