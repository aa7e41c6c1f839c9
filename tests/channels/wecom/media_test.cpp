// Fetching files with media/get against a loopback fake: stored once by SHA-256, recorded in
// documents, bad ids and oversized files refused.
#include "channels/wecom/media.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "channels/curl_http_client.hpp"
#include "common/digest.hpp"
#include "store/outbox_repository.hpp"
#include "support/fakes.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_db.hpp"
#include "support/test_http_server.hpp"

namespace duijie::channels::wecom {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(WeComMedia, Sha256AndSafeFileNames) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  EXPECT_EQ(FileNameFrom(R"(attachment; filename="技术合同.pdf")", "x"), "技术合同.pdf");
  EXPECT_EQ(FileNameFrom("attachment; filename=invoice.jpg; size=3", "x"), "invoice.jpg");
  EXPECT_EQ(FileNameFrom(R"(attachment; filename="../../etc/passwd")", "x"), "passwd");
  EXPECT_EQ(FileNameFrom("attachment; filename=\"a\x01\x1f"
                         "b\"",
                         "x"),
            "ab");
  EXPECT_EQ(FileNameFrom("inline", "image-1"), "image-1");
  EXPECT_EQ(FileNameFrom(R"(attachment; filename="..")", "f"), "f");
  EXPECT_LE(FileNameFrom("attachment; filename=\"" + std::string(400, 'n') + "\"", "x").size(), 255U);
}

class MediaFetcherTest : public ::testing::Test {
 protected:
  MediaFetcherTest()
      : server_([this](const HttpRequest& req) {
          HttpResponse res{http::status::ok, 11};
          const std::string target(req.target());
          if (target.rfind("/cgi-bin/gettoken", 0) == 0) {
            res.body() = json{{"errcode", 0}, {"access_token", "T"}, {"expires_in", 7200}}.dump();
          } else if (target.find("media_id=GOOD") != std::string::npos) {
            res.set(http::field::content_type, "application/pdf");
            res.set(http::field::content_disposition, R"(attachment; filename="技术合同.pdf")");
            res.body() = file_;
          } else if (target.find("media_id=BIG") != std::string::npos) {
            res.set(http::field::content_type, "image/jpeg");
            res.body() = std::string(2048, 'j');
          } else {
            res.set(http::field::content_type, "application/json");
            res.body() = json{{"errcode", 40007}, {"errmsg", "invalid media_id"}}.dump();
          }
          return res;
        }),
        writer_(db_.Path(), {}) {}

  store::OutboxMessage Task(const std::string& media_id, const std::string& key) {
    auto task = FetchMediaTask(media_id, "file", "wecom", key);
    const auto id =
        writer_.RunSync([&](store::Connection& c) { return store::OutboxRepository::Enqueue(c, task, 1).id; });
    store::OutboxMessage m;
    m.id = id;
    m.idempotency_key = task.idempotency_key;
    m.channel = task.channel;
    m.recipient = task.recipient;
    m.payload = task.payload;
    return m;
  }
  store::AttemptRecord Fetch(const store::OutboxMessage& m) { return test::RunAwaitable(ioc_, fetcher_.Send(m)); }

  std::string file_ = std::string("%PDF-1.7\n\x00\x01\xff binary", 20) + std::string(1000, 'p');
  test::TestHttpServer server_;
  net::io_context ioc_;
  test::TestDb db_;
  store::Writer writer_;
  test::TempDir files_;
  test::FakeClock clock_;
  CurlHttpClient http_{2};
  ApiClient api_{http_, clock_, ApiSettings{server_.Url(""), "ww1", "s", "1", 5s}};
  MediaFetcher fetcher_{api_, writer_, clock_, MediaSettings{files_.Path(), 1500}};
};

TEST_F(MediaFetcherTest, StoresTheFileOnceByItsHashAndRecordsIt) {
  const auto r = Fetch(Task("GOOD", "msg:1"));
  ASSERT_EQ(r.outcome, store::AttemptOutcome::kSent) << r.error;
  const std::string sha = Sha256Hex(file_);
  EXPECT_EQ(r.provider_ref, sha);
  std::ifstream in(files_.Path() / sha.substr(0, 2) / sha, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), file_);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM documents WHERE sha256 = '" + sha +
                       "' AND file_name = '技术合同.pdf' AND media_type = 'application/pdf' AND size_bytes = " +
                       std::to_string(file_.size()) + " AND source_channel = 'wecom' AND inbox_id IS NULL"),
            1);
  EXPECT_EQ(Fetch(Task("GOOD", "msg:1")).outcome, store::AttemptOutcome::kSent);  // a redone fetch adds nothing
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM documents"), 1);
  EXPECT_FALSE(std::filesystem::exists(files_.Path() / sha.substr(0, 2) / (sha + ".part")));
}

TEST_F(MediaFetcherTest, UnknownMediaAndOversizedFilesFailForGoodAndStoreNothing) {
  const auto unknown = Fetch(Task("NOPE", "msg:2"));
  EXPECT_EQ(unknown.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(unknown.error.find("40007"), std::string::npos);
  const auto big = Fetch(Task("BIG", "msg:3"));
  EXPECT_EQ(big.outcome, store::AttemptOutcome::kFailed);
  EXPECT_NE(big.error.find("1500"), std::string::npos);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM documents"), 0);
  EXPECT_TRUE(std::filesystem::is_empty(files_.Path()));
}

}  // namespace
}  // namespace duijie::channels::wecom
