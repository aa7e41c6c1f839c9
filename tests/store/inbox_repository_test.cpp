#include "store/inbox_repository.hpp"

#include <gtest/gtest.h>

#include "store/outbox_repository.hpp"
#include "store/writer.hpp"
#include "support/test_db.hpp"

namespace duijie::store {
namespace {

InboundRecord Rec(const std::string& key) {
  return InboundRecord{"wecom", key, "zhangsan", R"({"kind":"text","text":"你好"})", std::nullopt};
}

TEST(InboxRepository, FirstDeliveryIsNewRedeliveryGetsStoredReply) {
  test::TestDb db;
  auto& c = db.Conn();
  const auto first = InboxRepository::Begin(c, Rec("msg-1"), 1000);
  EXPECT_FALSE(first.duplicate);
  InboxRepository::Complete(c, first.id, "processed", {200, "application/xml", std::string("<xml>\0</xml>", 12)}, 1001);
  for (int i = 2; i <= 4; ++i) {
    const auto again = InboxRepository::Begin(c, Rec("msg-1"), 1000 + i);
    EXPECT_TRUE(again.duplicate);
    EXPECT_EQ(again.id, first.id);
    EXPECT_EQ(again.deliveries, i);
    ASSERT_TRUE(again.reply.has_value());
    EXPECT_EQ(again.reply->body, std::string("<xml>\0</xml>", 12));  // binary-safe
    EXPECT_EQ(again.reply->content_type, "application/xml");
  }
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM inbox"), 1);
  EXPECT_EQ(InboxRepository::CountByStatus(c).at("processed"), 1);
}

TEST(InboxRepository, SameKeyOnAnotherChannelIsAnotherMessage) {
  test::TestDb db;
  auto rec = Rec("42");
  EXPECT_FALSE(InboxRepository::Begin(db.Conn(), rec, 1).duplicate);
  rec.channel = "sms";
  EXPECT_FALSE(InboxRepository::Begin(db.Conn(), rec, 1).duplicate);
}

// The ledger's promise: inbox row, state change and outbox rows commit together or not at all.
TEST(InboxRepository, AFailedProcessingStepLeavesNoInboxRowSoTheRedeliveryIsProcessed) {
  test::TestDb db;
  Writer writer(db.Path(), {});
  EXPECT_ANY_THROW(writer.RunSync([](Connection& c) {
    const auto entry = InboxRepository::Begin(c, Rec("m"), 1);
    NewOutboxMessage out{"reply-m", "wecom", "zhangsan", "reply", "{}", std::nullopt,
                         entry.id,  0,       8,          0,       {},   std::nullopt};
    OutboxRepository::Enqueue(c, out, 1);
    throw std::runtime_error("dialog failed");
  }));
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM inbox"), 0);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM outbox"), 0);
  const bool duplicate = writer.RunSync([](Connection& c) { return InboxRepository::Begin(c, Rec("m"), 2).duplicate; });
  EXPECT_FALSE(duplicate);
}

}  // namespace
}  // namespace duijie::store
