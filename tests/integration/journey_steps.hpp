// Steps of the programme's journeys that several end-to-end tests take: what an enterprise types
// to register and post a need, and the code the gateway texted to a mobile.
#pragma once
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/connection.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace duijie::test {

// The verification code the gateway texted to `mobile` (recorded by the sandbox SMS channel):
// what the person reads on their phone.
inline std::string TextedCode(const std::string& db, const std::string& mobile) {
  store::ConnectionOptions o;
  o.read_only = true;
  store::Connection c(db, o);
  auto& q = c.Prepare(
      "SELECT payload FROM outbox WHERE kind = 'verification_code' AND recipient = ? ORDER BY id DESC LIMIT 1");
  q.bind(1, mobile);
  if (!q.executeStep()) return "no code";
  return nlohmann::json::parse(q.getColumn(0).getString())["params"]["code"].get<std::string>();
}

// An enterprise registers on WeCom (the mobile proved by the code texted to it) and posts a need.
inline constexpr const char* kRegisterAndPost[] = {"注册企业",
                                                   "武汉光谷新材料科技有限公司",
                                                   "91350100M000100Y43",
                                                   "武汉",
                                                   "新材料",
                                                   "跳过",
                                                   "张三",
                                                   "13812345678",
                                                   "<code>",
                                                   "跳过",
                                                   "确认",
                                                   "发布需求",
                                                   "高镍正极材料循环寿命提升",
                                                   "现有工艺下材料循环500次后容量衰减超过20%",
                                                   "产品性能更好一些，寿命更长",
                                                   "跳过",
                                                   "技术攻关",
                                                   "新能源",
                                                   "二十万",
                                                   "明年3月底",
                                                   "确认"};

/// A staff token made with `duijie token create ARGS` against the database at `db`: the secret
/// it prints once (empty, and a test failure, if the command failed).
inline std::string CreateToken(const std::string& db, const std::string& cwd, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"token", "create"};
  all.insert(all.end(), args.begin(), args.end());
  const auto r = RunCommand(DUIJIE_BINARY, all, {{"DUIJIE_STORE_PATH", db}}, cwd);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "duijie token create failed: " << r.err;
    return {};
  }
  return r.out.substr(0, r.out.find('\n'));
}

// The admin API over a real socket, with a bearer token.
inline HttpResponse Api(std::uint16_t port, http::verb method, const std::string& target, const std::string& token,
                        const nlohmann::json& body = nullptr) {
  test::HttpConnection conn(port);
  const std::string payload = body.is_null() ? "" : body.dump();
  conn.SendRaw(std::string(http::to_string(method)) + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
               "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(payload.size()) + "\r\n\r\n" + payload);
  auto res = conn.ReadResponse();
  if (!res) throw std::runtime_error("no answer to " + target + " with token [" + token + "]");
  return *res;
}

}  // namespace duijie::test
