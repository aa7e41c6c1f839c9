// Staff and contracts (issue 7): the list with the evidence and what was flagged, the same file
// found by content across contracts, verification only once the evidence is complete, within
// the reviewer's region, the enterprise told.
#include <gtest/gtest.h>

#include "dialogs/staff.hpp"
#include "support/fakes.hpp"
#include "support/test_db.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

class ContractsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.SeedEnterprise("武汉某风电公司");
    db_.Conn().Db().exec(R"sql(
      INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (1, 'wecom_userid', 'zhangsan', 'verified', 0);
      INSERT INTO people (id, role, status, display_name, created_at, updated_at) VALUES (2, 'researcher', 'verified', '李四', 0, 0);
      INSERT INTO units (id, name, kind, created_at) VALUES (1, '华中科技大学', 'university', 0);
      INSERT INTO needs (id, enterprise_id, programme_id, title, stage, created_at, updated_at) VALUES
        (7, 1, 1, '风机叶片冬季覆冰', 'evidenced', 0, 0), (8, 1, 1, '齿轮箱故障预警', 'contracted', 0, 0);
      INSERT INTO contracts (id, need_id, researcher_person_id, unit_id, contract_type, amount_wan, signed_on, status,
                             created_at, updated_at) VALUES
        (3, 7, 2, 1, 'development', 20, '2026-11-20', 'evidenced', 0, 0),
        (4, 8, 2, 1, 'service', 8, '2026-11-21', 'recorded', 0, 0);
      INSERT INTO inbox (id, channel, provider_key, sender, payload, status, received_at) VALUES
        (50, 'wecom', 'msg:1', 'zhangsan', '{"kind":"file","text":"MEDIA-A"}', 'processed', 0),
        (51, 'wecom', 'msg:2', 'zhangsan', '{"kind":"file","text":"MEDIA-B"}', 'processed', 0);
      INSERT INTO documents (kind, file_name, media_type, size_bytes, sha256, storage_path, source_channel, inbox_id,
                             created_at) VALUES
        ('other', 'a.jpg', 'image/jpeg', 10, 'aaaa', 'files/aa/aaaa', 'wecom', 50, 0),
        ('other', 'b.jpg', 'image/jpeg', 10, 'aaaa', 'files/aa/aaaa', 'wecom', 51, 0);
      INSERT INTO evidence (contract_id, kind, file_ref, stated_amount_wan, problems, created_at) VALUES
        (3, 'contract', 'MEDIA-A', 20, '[]', 0), (3, 'invoice', 'MEDIA-X', 20, '[]', 0),
        (3, 'payment_proof', 'MEDIA-Y', 18, '["文件金额18万元与登记的合同金额20万元不一致"]', 0),
        (4, 'contract', 'MEDIA-B', 8, '[]', 0);
    )sql");
  }
  long long Scalar(const std::string& sql) { return db_.Scalar(sql); }

  test::TestDb db_;
  test::FakeClock clock_{FromUnixMillis(1'795'341'600'000)};
  const Staff wuhan_{"wuhan", "bureau_reviewer", "hb01"};
};

TEST_F(ContractsTest, TheListShowsEvidenceFlagsAndTheSameFileFoundByContent) {
  const json all = ListContracts(db_.Conn(), wuhan_, std::nullopt);
  ASSERT_EQ(all.size(), 2U);
  const json& first = all[0]["evidence"];
  ASSERT_EQ(first.size(), 3U);
  EXPECT_EQ(first[0]["document_sha256"], "aaaa");
  // Two uploads with their own media ids, one file: each points at the other contract's.
  ASSERT_EQ(first[0]["same_file_as"].size(), 1U) << first.dump();
  EXPECT_EQ(first[0]["same_file_as"][0]["contract_id"], 4);
  EXPECT_EQ(first[2]["problems"][0], "文件金额18万元与登记的合同金额20万元不一致");
  EXPECT_TRUE(first[1]["document_sha256"].is_null()) << "not fetched yet";
  EXPECT_EQ(ListContracts(db_.Conn(), wuhan_, std::string("recorded")).size(), 1U);
  EXPECT_TRUE(ListContracts(db_.Conn(), Staff{"yichang", "bureau_reviewer", "hb04"}, std::nullopt).empty());
}

TEST_F(ContractsTest, VerifiedOnlyWithCompleteEvidenceWithinTheRegionAndTheEnterpriseIsTold) {
  const json verify = {{"decision", "verify"}};
  EXPECT_EQ(VerifyContract(db_.Conn(), Catalogue::Embedded(), Staff{"yichang", "bureau_reviewer", "hb04"}, 3, verify,
                           clock_.Now())
                .error()
                .code,
            make_error_code(Errc::kPermissionDenied));
  EXPECT_EQ(VerifyContract(db_.Conn(), Catalogue::Embedded(), wuhan_, 4, verify, clock_.Now()).error().code,
            make_error_code(Errc::kConflict))
      << "its evidence is not complete";
  EXPECT_EQ(
      VerifyContract(db_.Conn(), Catalogue::Embedded(), wuhan_, 4, {{"decision", "refuse"}}, clock_.Now()).error().code,
      make_error_code(Errc::kInvalidArgument))
      << "a refusal needs a reason";
  EXPECT_EQ(Scalar("SELECT count(*) FROM audit_log"), 0);
  const auto done = VerifyContract(db_.Conn(), Catalogue::Embedded(), wuhan_, 3, verify, clock_.Now());
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->body["status"], "verified");
  EXPECT_TRUE(done->queued);
  EXPECT_EQ(Scalar("SELECT count(*) FROM evidence WHERE contract_id = 3 AND status = 'verified'"), 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM transitions WHERE entity = 'contract' AND to_state = 'verified'"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM outbox WHERE recipient = 'zhangsan' AND payload LIKE '%通过工作人员核实%'"),
            1);
  const auto refused =
      VerifyContract(db_.Conn(), Catalogue::Embedded(), wuhan_, 4,
                     {{"decision", "refuse"}, {"reason", "合同另一方不是科技人员的派出单位"}}, clock_.Now());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->body["status"], "refused");
}

}  // namespace
}  // namespace duijie::dialogs
