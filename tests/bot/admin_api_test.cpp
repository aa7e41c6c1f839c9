// The admin API without sockets: every route × every role, through the router, on a real
// database. Refused requests change nothing.
#include <algorithm>

#include <gtest/gtest.h>

#include "bot/auth.hpp"
#include "bot/handlers/admin_handler.hpp"
#include "dialogs/conversations.hpp"
#include "store/matching.hpp"
#include "support/fakes.hpp"
#include "support/run.hpp"
#include "support/test_db.hpp"

namespace duijie::bot {
namespace {

using nlohmann::json;

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest() : writer_(db_.Path(), {}), router_(log_) {
    AddAdminRoutes(router_, AdminDeps{writer_,
                                      clock_,
                                      log_,
                                      programme_,
                                      dialogs::Catalogue::Embedded(),
                                      {},
                                      &readers_,
                                      &matches_,
                                      {},
                                      {},
                                      db_.Path() + ".tmp",
                                      &channels::sms::Templates::Embedded(),
                                      "科技对接"});
    writer_.RunSync([this](store::Connection& c) {
      const auto now = ToUnixMillis(clock_.Now());
      tokens_["admin"] = Tokens::Create(c, "hq", "admin", std::nullopt, now)->secret;
      tokens_["platform_reviewer"] = Tokens::Create(c, "platform", "platform_reviewer", std::nullopt, now)->secret;
      tokens_["bureau_reviewer"] = Tokens::Create(c, "wuhan", "bureau_reviewer", "hb01", now)->secret;
      tokens_["bureau_elsewhere"] = Tokens::Create(c, "yichang", "bureau_reviewer", "hb04", now)->secret;
      tokens_["viewer"] = Tokens::Create(c, "dashboard", "viewer", std::nullopt, now)->secret;
      // An enterprise in 武汉 (hb01) with a submitted need, and a researcher.
      // Verification codes are all 666666.
      test::FakeRandom random({0.65});
      const dialogs::Conversations conv(dialogs::Engine::Standard(), programme_, dialogs::Catalogue::Embedded(), {},
                                        &random);
      const auto say = [&](const std::string& who, const std::string& text) {
        conv.Process(c, {"wecom", who, "text", text, std::nullopt, std::nullopt, {}}, clock_.Now());
      };
      for (const char* t : {"注册企业",
                            "武汉光谷新材料科技有限公司",
                            "91350100M000100Y43",
                            "1",
                            "4",
                            "跳过",
                            "张三",
                            "13812345678",
                            "666666",
                            "跳过",
                            "确认",
                            "发布需求",
                            "高镍正极材料循环寿命提升",
                            "现有工艺下材料循环500次后容量衰减超过20%",
                            "循环1000次容量保持率不低于90%",
                            "跳过",
                            "1",
                            "6",
                            "20万",
                            "明年3月底",
                            "确认"}) {
        say("zhangsan", t);
      }
      for (const char* t : {"科技人员注册", "李四", "华中科技大学", "教授", "1", "4", "锂电池",
                            "从事锂离子电池正极材料研究十余年", "武汉", "2", "13912345678", "666666", "跳过", "确认"}) {
        say("lisi", t);
      }
      return 0;
    });
  }

  HttpResponse Call(http::verb method, const std::string& target, const std::string& who, const json& body = {}) {
    HttpRequest req{method, target, 11};
    if (!who.empty()) req.set(http::field::authorization, "Bearer " + (tokens_.contains(who) ? tokens_[who] : who));
    if (!body.is_null()) req.body() = body.dump();
    return test::RunAwaitable(ioc_, router_.Dispatch(req)).response;
  }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }

  test::TestDb db_;
  store::Writer writer_;
  test::FakeClock clock_{FromUnixMillis(1'795'305'600'000)};
  Logger log_{clock_, LogLevel::kOff};
  const dialogs::Programme& programme_ = dialogs::Programme::Embedded().at("hubei-2020");
  store::Readers readers_{db_.Path(), {}, 1};
  MatchService matches_{matcher::AnalyzerOptions{}};
  Router router_;
  net::io_context ioc_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(AdminApiTest, EveryRouteForEveryRole) {
  const std::vector<std::string> roles = {"admin", "platform_reviewer", "bureau_reviewer", "bureau_elsewhere",
                                          "viewer"};
  const auto need = Scalar("SELECT id FROM needs");
  const auto enterprise = Scalar("SELECT id FROM enterprises");
  const auto researcher = Scalar("SELECT person_id FROM researchers");
  const std::string n = std::to_string(need);
  // Reading: everyone, a bureau only within its region.
  for (const auto& role : roles) {
    const bool elsewhere = role == "bureau_elsewhere";
    const auto list = Call(http::verb::get, "/api/v1/needs", role);
    EXPECT_EQ(list.result(), http::status::ok) << role;
    EXPECT_EQ(json::parse(list.body())["needs"].size(), elsewhere ? 0U : 1U) << role;
    EXPECT_EQ(Call(http::verb::get, "/api/v1/needs/" + n, role).result(),
              elsewhere ? http::status::forbidden : http::status::ok)
        << role;
    EXPECT_EQ(json::parse(Call(http::verb::get, "/api/v1/enterprises", role).body())["enterprises"].size(),
              elsewhere ? 0U : 1U)
        << role;
    EXPECT_EQ(Call(http::verb::get, "/api/v1/people/" + std::to_string(researcher) + "/conversation", role).result(),
              role == "admin" ? http::status::ok : http::status::forbidden)
        << role;
  }
  // Deciding: refusals first, and they change nothing.
  const json recommend{{"decision", "recommend"}, {"reason", "企业研发基础好，需求明确，推荐"}};
  const std::map<std::string, http::status> review_refusals = {{"viewer", http::status::forbidden},
                                                               {"platform_reviewer", http::status::forbidden},
                                                               {"bureau_elsewhere", http::status::forbidden}};
  for (const auto& [role, status] : review_refusals) {
    EXPECT_EQ(Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", role, recommend).result(), status) << role;
  }
  const std::map<std::string, http::status> verify_refusals = {{"viewer", http::status::forbidden},
                                                               {"bureau_elsewhere", http::status::forbidden}};
  for (const auto& [role, status] : verify_refusals) {
    EXPECT_EQ(Call(http::verb::post, "/api/v1/enterprises/" + std::to_string(enterprise) + "/verification", role,
                   {{"decision", "verify"}})
                  .result(),
              status)
        << role;
  }
  for (const auto& role : {"viewer", "bureau_reviewer", "bureau_elsewhere"}) {
    EXPECT_EQ(Call(http::verb::post, "/api/v1/researchers/" + std::to_string(researcher) + "/verification", role,
                   {{"decision", "verify"}})
                  .result(),
              http::status::forbidden)
        << role;
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM need_reviews"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_log"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM needs WHERE stage = 'submitted'"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM enterprises WHERE status = 'pending'"), 1);

  // The allowed ones.
  EXPECT_EQ(Call(http::verb::post, "/api/v1/enterprises/" + std::to_string(enterprise) + "/verification",
                 "bureau_reviewer", {{"decision", "verify"}})
                .result(),
            http::status::ok);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/researchers/" + std::to_string(researcher) + "/verification",
                 "platform_reviewer", {{"decision", "verify"}})
                .result(),
            http::status::ok);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", "bureau_reviewer", recommend).result(),
            http::status::ok);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", "bureau_reviewer", recommend).result(),
            http::status::forbidden);  // the platform decides now
  const auto approved =
      Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", "platform_reviewer", {{"decision", "approve"}});
  ASSERT_EQ(approved.result(), http::status::ok) << approved.body();
  EXPECT_EQ(json::parse(approved.body())["stage"], "published");
  EXPECT_EQ(json::parse(approved.body())["reviews"].size(), 2U);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", "admin", {{"decision", "approve"}}).result(),
            http::status::conflict);
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_log"), 4);
  // Each decision told the person on the channel they use (here WeCom, in sandbox mode).
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE kind = 'notice' AND channel = 'wecom'"), 4);
}

TEST_F(AdminApiTest, MatchesForANeedRankResearchersWithWhyWithinTheStaffsRegion) {
  const std::string n = std::to_string(Scalar("SELECT id FROM needs"));
  const auto researcher = Scalar("SELECT person_id FROM researchers");
  const std::string target = "/api/v1/needs/" + n + "/matches";
  EXPECT_EQ(Call(http::verb::get, target, "admin").result(), http::status::service_unavailable);  // not built yet
  const auto refreshed = matches_.Refresh(db_.Conn());
  EXPECT_EQ(refreshed.upserts, 1U);  // the researcher; the need is not published yet
  EXPECT_EQ(matches_.ResearcherCount(), 1U);
  EXPECT_EQ(matches_.NeedCount(), 0U);

  const auto res = Call(http::verb::get, target + "?limit=5", "bureau_reviewer");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto body = json::parse(res.body());
  ASSERT_EQ(body["matches"].size(), 1U);
  EXPECT_EQ(body["matches"][0]["researcher_id"], researcher);
  EXPECT_EQ(body["matches"][0]["name"], "李四");
  EXPECT_EQ(body["matches"][0]["unit"], "华中科技大学");
  EXPECT_FALSE(body["matches"][0]["terms"].empty());

  EXPECT_EQ(Call(http::verb::get, target, "bureau_elsewhere").result(), http::status::forbidden);
  EXPECT_EQ(Call(http::verb::get, target, "").result(), http::status::unauthorized);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/needs/999/matches", "admin").result(), http::status::not_found);
  for (const char* bad : {"?limit=0", "?limit=101", "?limit=many"}) {
    EXPECT_EQ(Call(http::verb::get, target + bad, "admin").result(), http::status::bad_request) << bad;
  }
}

TEST_F(AdminApiTest, TheMatcherFollowsTheStoreAsProfilesAndNeedsChange) {
  const auto need = Scalar("SELECT id FROM needs");
  const auto researcher = Scalar("SELECT person_id FROM researchers");
  (void)matches_.Refresh(db_.Conn());
  EXPECT_EQ(matches_.NeedCount(), 0U);
  db_.Conn().Exec("UPDATE needs SET stage = 'published', updated_at = updated_at + 1 WHERE id = " +
                  std::to_string(need));
  auto r = matches_.Refresh(db_.Conn());
  EXPECT_EQ(matches_.NeedCount(), 1U);
  EXPECT_GE(r.upserts, 1U);
  // Edited keywords are indexed again: the need's words now find nothing of the old profile.
  const auto mentions_cathode = [&] {
    bool found = false;
    for (const auto& m : matches_.NeedsFor(*store::LoadResearcher(db_.Conn(), researcher), 5)) {
      for (const auto& t : m.terms) found = found || t.find("正极") != std::string::npos;
    }
    return found;
  };
  EXPECT_TRUE(mentions_cathode());
  db_.Conn().Exec(
      "UPDATE researchers SET keywords = '[\"古籍修复\"]', bio = '研究古籍纸张修复工艺', updated_at = updated_at + 1 "
      "WHERE person_id = " +
      std::to_string(researcher));
  (void)matches_.Refresh(db_.Conn());
  EXPECT_FALSE(mentions_cathode());
  // Refused researchers and needs leaving the open stages are dropped.
  db_.Conn().Exec("UPDATE researchers SET status = 'refused', updated_at = updated_at + 1");
  db_.Conn().Exec("UPDATE needs SET stage = 'withdrawn', updated_at = updated_at + 1");
  r = matches_.Refresh(db_.Conn());
  EXPECT_EQ(r.removals, 2U);
  EXPECT_EQ(matches_.ResearcherCount(), 0U);
  EXPECT_EQ(matches_.NeedCount(), 0U);
}

TEST_F(AdminApiTest, ATokenLinkedToAWeComMemberLetsThemBroadcastByChat) {
  const dialogs::Conversations conv(dialogs::Engine::Standard(), programme_, dialogs::Catalogue::Embedded());
  const auto say = [&](store::Connection& c, const std::string& who, const std::string& text) {
    std::string all;
    for (const auto& r :
         conv.Process(c, {"wecom", who, "text", text, std::nullopt, std::nullopt, {}}, clock_.Now()).replies) {
      all += r;
    }
    return all;
  };
  writer_.RunSync([&](store::Connection& c) {
    const auto now = ToUnixMillis(clock_.Now());
    // wangwu wrote to the bot before being made staff; zhaoliu never did.
    EXPECT_EQ(say(c, "wangwu", "发通知").find("发给谁"), std::string::npos);
    EXPECT_TRUE(Tokens::Create(c, "wuhan-wang", "bureau_reviewer", "hb01", now, "wangwu"));
    EXPECT_TRUE(Tokens::Create(c, "hq-zhao", "admin", std::nullopt, now, "zhaoliu"));
    EXPECT_FALSE(Tokens::Create(c, "x", "admin", std::nullopt, now, std::string(65, 'a')));
    EXPECT_NE(say(c, "wangwu", "发通知").find("全部企业联系人（武汉市）"), std::string::npos);
    const auto reply = say(c, "zhaoliu", "发通知");
    EXPECT_NE(reply.find("发给谁"), std::string::npos) << reply;
    EXPECT_EQ(reply.find("（武汉市）"), std::string::npos) << reply;
    return 0;
  });
  EXPECT_EQ(Scalar("SELECT count(*) FROM people p JOIN identities i ON i.person_id = p.id WHERE p.role = 'staff' "
                   "AND i.kind = 'wecom_userid' AND i.address IN ('wangwu', 'zhaoliu')"),
            2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM api_tokens WHERE person_id IS NOT NULL"), 2);
}

TEST_F(AdminApiTest, BadTokensAndBadRequestsAreRefusedClearly) {
  EXPECT_EQ(Call(http::verb::get, "/api/v1/needs", "").result(), http::status::unauthorized);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/needs", "dj_not_a_real_token_at_all").result(), http::status::unauthorized);
  writer_.RunSync([](store::Connection& c) { return Tokens::Revoke(c, "dashboard", 1); });
  EXPECT_EQ(Call(http::verb::get, "/api/v1/needs", "viewer").result(), http::status::unauthorized);
  const std::string n = std::to_string(Scalar("SELECT id FROM needs"));
  const auto no_reason =
      Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", "bureau_reviewer", {{"decision", "reject"}});
  EXPECT_EQ(no_reason.result(), http::status::bad_request);
  EXPECT_NE(json::parse(no_reason.body())["error"]["message"].get<std::string>().find("reason"), std::string::npos);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", "bureau_reviewer",
                 {{"decision", "return"}, {"reason", "指标不清楚"}, {"fields", {"colour"}}})
                .result(),
            http::status::bad_request);
  EXPECT_EQ(
      Call(http::verb::post, "/api/v1/needs/" + n + "/reviews", "bureau_reviewer", {{"decision", "approve"}}).result(),
      http::status::bad_request);  // the bureau recommends; approving is the platform's
  HttpRequest raw{http::verb::post, "/api/v1/needs/" + n + "/reviews", 11};
  raw.set(http::field::authorization, "Bearer " + tokens_["admin"]);
  raw.body() = "{not json";
  EXPECT_EQ(test::RunAwaitable(ioc_, router_.Dispatch(raw)).response.result(), http::status::bad_request);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/needs/abc", "admin").result(), http::status::not_found);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/needs/999", "admin").result(), http::status::not_found);
  EXPECT_EQ(Scalar("SELECT count(*) FROM need_reviews"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM needs WHERE stage = 'submitted'"), 1);
}

TEST_F(AdminApiTest, BroadcastsPreviewCreateTwiceAtOnceFollowAndCancel) {
  // The audience first: a count and a sample, nothing sent.
  const json audience = {{"roles", {"enterprise_contact", "researcher"}}};
  const auto preview = Call(http::verb::post, "/api/v1/audiences/preview", "viewer", {{"audience", audience}});
  ASSERT_EQ(preview.result(), http::status::ok) << preview.body();
  EXPECT_EQ(json::parse(preview.body())["count"], 2);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/audiences/preview", "admin", {{"audience", {{"stage", "x"}}}}).result(),
            http::status::bad_request);
  // A bureau reviewer reaches its own region only.
  EXPECT_EQ(
      Call(http::verb::post, "/api/v1/audiences/preview", "bureau_reviewer", {{"audience", {{"regions", {"hb04"}}}}})
          .result(),
      http::status::forbidden);

  const json request = {{"title", "合同签订提醒"},
                        {"audience", audience},
                        {"message", {{"text", "{name}您好，请于2月28日前签订合同。"}}}};
  // The same Idempotency-Key sent twice at once: one broadcast, answered 201 then 200.
  const auto post = [this, &request]() -> net::awaitable<HttpResponse> {
    HttpRequest req{http::verb::post, "/api/v1/broadcasts", 11};
    req.set(http::field::authorization, "Bearer " + tokens_["admin"]);
    req.set("Idempotency-Key", "reminder-2021-02");
    req.body() = request.dump();
    co_return (co_await router_.Dispatch(req)).response;
  };
  std::vector<http::status> statuses;
  for (int i = 0; i < 2; ++i) {
    net::co_spawn(ioc_, post(),
                  [&statuses](const std::exception_ptr&, const HttpResponse& r) { statuses.push_back(r.result()); });
  }
  ioc_.restart();
  while (statuses.size() < 2) ioc_.run_one();
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<http::status>{http::status::ok, http::status::created}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM broadcasts"), 1);
  const std::string id = std::to_string(Scalar("SELECT id FROM broadcasts"));
  EXPECT_EQ(json::parse(Call(http::verb::get, "/api/v1/broadcasts/" + id, "viewer").body())["status"], "draft");
  // The same key with another body is a conflict; a viewer cannot send.
  json other = request;
  other["title"] = "别的";
  HttpRequest conflict{http::verb::post, "/api/v1/broadcasts", 11};
  conflict.set(http::field::authorization, "Bearer " + tokens_["admin"]);
  conflict.set("Idempotency-Key", "reminder-2021-02");
  conflict.body() = other.dump();
  EXPECT_EQ(test::RunAwaitable(ioc_, router_.Dispatch(conflict)).response.result(), http::status::conflict);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/broadcasts", "viewer", request).result(), http::status::forbidden);
  // A preview for one person, then send, then cancel.
  const auto person = Scalar("SELECT person_id FROM identities WHERE address = 'zhangsan'");
  const auto rendered =
      Call(http::verb::get, "/api/v1/broadcasts/" + id + "/preview?person_id=" + std::to_string(person), "admin");
  ASSERT_EQ(rendered.result(), http::status::ok) << rendered.body();
  EXPECT_NE(rendered.body().find("请于2月28日前签订合同"), std::string::npos);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/broadcasts/" + id + "/preview", "admin").result(),
            http::status::bad_request);
  const auto sent = Call(http::verb::post, "/api/v1/broadcasts/" + id + "/send", "admin", json::object());
  EXPECT_EQ(json::parse(sent.body())["status"], "scheduled") << sent.body();
  const auto cancelled = Call(http::verb::post, "/api/v1/broadcasts/" + id + "/cancel", "admin", json::object());
  EXPECT_EQ(json::parse(cancelled.body())["status"], "cancelled");
  EXPECT_EQ(Call(http::verb::post, "/api/v1/broadcasts/" + id + "/explode", "admin", json::object()).result(),
            http::status::not_found);
  const auto report = Call(http::verb::get, "/api/v1/broadcasts/" + id + "/report", "viewer");
  EXPECT_EQ(report.result(), http::status::ok);
  EXPECT_TRUE(json::parse(report.body()).contains("channels"));
  const auto csv = Call(http::verb::get, "/api/v1/broadcasts/" + id + "/report.csv", "viewer");
  EXPECT_EQ(csv.result(), http::status::ok);
  EXPECT_EQ(csv[http::field::content_type], "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body().rfind("person_id,", 0), 0U);
  EXPECT_EQ(json::parse(Call(http::verb::get, "/api/v1/broadcasts", "viewer").body())["broadcasts"].size(), 1U);
  // Saved audiences.
  EXPECT_EQ(Call(http::verb::post, "/api/v1/audiences", "admin", {{"name", "全部"}, {"audience", audience}}).result(),
            http::status::created);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/audiences", "admin", {{"name", "全部"}, {"audience", audience}}).result(),
            http::status::conflict);
  EXPECT_EQ(json::parse(Call(http::verb::get, "/api/v1/audiences", "viewer").body())["audiences"].size(), 1U);
}

TEST_F(AdminApiTest, TemplatesPerChannelSavedPreviewedForOnePersonAndUsedByABroadcast) {
  const json tmpl = {
      {"name", "report_due"},
      {"variables", {"deadline"}},
      {"title", "总结报告提醒"},
      {"text",
       {{"zh-CN", "{name}，您好：总结报告请于{deadline}前提交。"},
        {"en", "Dear {name}, file the report by {deadline}."}}},
      {"wecom",
       {{"format", "markdown"}, {"text", "**{name}**，总结报告请于<font color=\"warning\">{deadline}</font>前提交"}}},
      {"sms", {{"template", "reminder"}, {"params", {{"text", "{name}，总结报告请于{deadline}前提交。"}}}}},
      {"email",
       {{"subject", "【提醒】总结报告{deadline}截止"},
        {"html", "<p>{name}，您好：</p><p><b>{deadline}</b>前提交。</p>"}}}};
  // A viewer cannot save; bad templates are refused naming what is wrong, and nothing is kept.
  EXPECT_EQ(Call(http::verb::post, "/api/v1/templates", "viewer", tmpl).result(), http::status::forbidden);
  const auto refused = [this](json body, const std::string& why) {
    const auto r = Call(http::verb::post, "/api/v1/templates", "admin", body);
    EXPECT_EQ(r.result(), http::status::bad_request) << r.body();
    EXPECT_NE(r.body().find(why), std::string::npos) << r.body();
  };
  json bad = tmpl;
  bad["text"] = "{name}请于{due}前提交";
  refused(bad, "{due} is not a variable");
  bad = tmpl;
  bad["sms"]["template"] = "nonexistent";
  refused(bad, "not an SMS template of the gateway");
  bad = tmpl;
  bad["sms"]["params"] = json::object();
  refused(bad, "needs {text}");
  bad = tmpl;
  bad["sms"]["params"]["text"] = "详见 https://example.com";
  refused(bad, "a link cannot go by SMS");
  bad = tmpl;
  bad["email"]["html"] = "<p onclick=\"x()\">hi</p>";
  refused(bad, "event handler");
  bad = tmpl;
  bad["wecom"]["format"] = "video";
  refused(bad, "wecom.format");
  bad = tmpl;
  bad["text"] = {{"en", "only english"}};
  refused(bad, "zh-CN text is required");
  EXPECT_EQ(Scalar("SELECT count(*) FROM message_templates"), 0);

  const auto created = Call(http::verb::post, "/api/v1/templates", "platform_reviewer", tmpl);
  ASSERT_EQ(created.result(), http::status::created) << created.body();
  EXPECT_EQ(Call(http::verb::post, "/api/v1/templates", "admin", tmpl).result(), http::status::conflict);
  // The list has the saved one and the catalogue's (read-only) templates.
  const auto list = json::parse(Call(http::verb::get, "/api/v1/templates", "viewer").body())["templates"];
  ASSERT_GE(list.size(), 2U);
  EXPECT_EQ(list[0]["name"], "report_due");
  EXPECT_TRUE(std::any_of(list.begin(), list.end(), [](const json& t) {
    return t["name"] == "broadcast.deadline" && t["source"] == "catalogue";
  }));

  // Rendered for 张三 (WeCom and a mobile): markdown on WeCom, the SMS counted with the signature,
  // the mail with its own subject and HTML, the variable escaped inside HTML.
  const auto person = Scalar("SELECT person_id FROM identities WHERE address = 'zhangsan'");
  const auto preview = Call(http::verb::post, "/api/v1/templates/report_due/preview", "viewer",
                            {{"person_id", person}, {"vars", {{"deadline", "11月30日<前>"}}}});
  ASSERT_EQ(preview.result(), http::status::ok) << preview.body();
  const auto p = json::parse(preview.body());
  ASSERT_EQ(p["channels"].size(), 2U) << p.dump();
  EXPECT_EQ(p["channels"][0]["channel"], "wecom");
  const auto& msg = p["channels"][0]["message"];
  EXPECT_EQ(msg["kind"], "markdown");
  EXPECT_EQ(msg["text"], "**张三**，总结报告请于<font color=\"warning\">11月30日<前></font>前提交");
  EXPECT_EQ(msg["params"]["mail"]["subject"], "【提醒】总结报告11月30日<前>截止");
  EXPECT_EQ(msg["params"]["mail"]["html"], "<p>张三，您好：</p><p><b>11月30日&lt;前&gt;</b>前提交。</p>");
  EXPECT_EQ(p["channels"][1]["channel"], "sms");
  EXPECT_EQ(p["channels"][1]["sms"]["text"], "张三，总结报告请于11月30日<前>前提交。回复TD退订。");
  EXPECT_EQ(p["channels"][1]["sms"]["parts"], 1);
  EXPECT_EQ(p["channels"][1]["sms"]["length"], 29 + 6);  // 【科技对接】 counts too
  EXPECT_EQ(p["missing_vars"], json::array());
  // With acknowledgement the WeCom message becomes a card with a button (markdown cannot carry one).
  const auto acked = json::parse(Call(http::verb::post, "/api/v1/templates/report_due/preview", "viewer",
                                      {{"person_id", person}, {"vars", {{"deadline", "11月30日"}}}, {"ack", true}})
                                     .body());
  EXPECT_EQ(acked["channels"][0]["message"]["kind"], "template");
  EXPECT_EQ(acked["channels"][0]["message"]["text"], "张三，您好：总结报告请于11月30日前提交。");
  EXPECT_EQ(acked["channels"][1]["sms"]["text"], "张三，总结报告请于11月30日前提交。回复1确认收到。回复TD退订。");
  EXPECT_EQ(Call(http::verb::post, "/api/v1/templates/none/preview", "viewer", {{"person_id", person}}).result(),
            http::status::not_found);

  // A broadcast from the template needs its variables, and keeps the template as it was.
  const json request = {
      {"title", "总结报告"}, {"audience", {{"roles", {"enterprise_contact"}}}}, {"template", "report_due"}};
  const auto missing = Call(http::verb::post, "/api/v1/broadcasts", "admin", request);
  EXPECT_EQ(missing.result(), http::status::bad_request);
  EXPECT_NE(missing.body().find("needs {deadline}"), std::string::npos) << missing.body();
  json with_vars = request;
  with_vars["vars"] = {{"deadline", "11月30日"}};
  const auto made = Call(http::verb::post, "/api/v1/broadcasts", "admin", with_vars);
  ASSERT_EQ(made.result(), http::status::created) << made.body();
  const std::string id = std::to_string(json::parse(made.body())["id"].get<long long>());
  json changed = tmpl;
  changed["title"] = "改过的标题";
  changed.erase("name");
  ASSERT_EQ(Call(http::verb::put, "/api/v1/templates/report_due", "admin", changed).result(), http::status::ok);
  EXPECT_EQ(json::parse(Call(http::verb::get, "/api/v1/templates/report_due", "viewer").body())["title"], "改过的标题");
  const auto bp =
      Call(http::verb::get, "/api/v1/broadcasts/" + id + "/preview?person_id=" + std::to_string(person), "admin");
  EXPECT_EQ(json::parse(bp.body())["channels"][1]["sms"]["text"], "张三，总结报告请于11月30日前提交。回复TD退订。");
  EXPECT_EQ(bp.body().find("改过的标题"), std::string::npos);
  // Renamed by PUT: refused; deleted: gone (the broadcast keeps its copy).
  changed["name"] = "other";
  EXPECT_EQ(Call(http::verb::put, "/api/v1/templates/report_due", "admin", changed).result(),
            http::status::bad_request);
  EXPECT_EQ(Call(http::verb::put, "/api/v1/templates/nothing", "admin", tmpl).result(), http::status::bad_request);
  EXPECT_EQ(Call(http::verb::delete_, "/api/v1/templates/report_due", "viewer").result(), http::status::forbidden);
  EXPECT_EQ(Call(http::verb::delete_, "/api/v1/templates/report_due", "admin").result(), http::status::ok);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/templates/report_due", "viewer").result(), http::status::not_found);
  EXPECT_EQ(Call(http::verb::delete_, "/api/v1/templates/report_due", "admin").result(), http::status::not_found);
}

}  // namespace
}  // namespace duijie::bot
