#include "dialogs/message.hpp"

#include <gtest/gtest.h>

namespace duijie::dialogs {
namespace {

TEST(Message, InboundEventRoundTripsThroughJson) {
  InboundEvent e{"sms", "+8613812345678", "text", "1 A7K", std::nullopt, std::string("push-9"), {"doc-1"}};
  const nlohmann::json j = e;
  const auto back = j.get<InboundEvent>();
  EXPECT_EQ(back.channel, "sms");
  EXPECT_EQ(back.text, "1 A7K");
  EXPECT_FALSE(back.event.has_value());
  EXPECT_EQ(back.reply_to, "push-9");
  EXPECT_EQ(back.attachments, std::vector<std::string>{"doc-1"});
}

TEST(Message, OutboundMessageRoundTripsAndOmitsEmptyOptionals) {
  OutboundMessage m{"text", "您的需求已发布", std::nullopt, std::string("need_published"), {{"need", 7}}};
  const nlohmann::json j = m;
  EXPECT_FALSE(j.contains("title"));
  const auto back = j.get<OutboundMessage>();
  EXPECT_EQ(back.text, "您的需求已发布");
  EXPECT_EQ(back.template_id, "need_published");
  EXPECT_EQ(back.params["need"], 7);
}

TEST(Message, MissingRequiredFieldThrows) {
  EXPECT_ANY_THROW((void)nlohmann::json::parse(R"({"kind":"text"})").get<InboundEvent>());
}

}  // namespace
}  // namespace duijie::dialogs
