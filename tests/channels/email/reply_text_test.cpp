#include "channels/email/reply_text.hpp"

#include <gtest/gtest.h>

namespace duijie::channels::email {
namespace {

TEST(ExtractReply, QuoteHeadersOfEachClient) {
  EXPECT_EQ(ExtractReply("好的\n\n在 2026-01-01 10:00:00，\"张三\" <a@163.com> 写道：\n> 原文"), "好的");
  EXPECT_EQ(ExtractReply("好的\nWu <w@email.cn> 于2021年4月7日周三 下午3:51写道：\n> x"), "好的");
  EXPECT_EQ(ExtractReply("ok\n\nOn Tue, Nov 14, 2023 at 10:13 PM Someone <s@x.cn> wrote:\n> x"), "ok");
  EXPECT_EQ(ExtractReply("ok\nOn Tue, Nov 14, 2023 at 10:13 PM Someone Long Name\n<s@x.cn> wrote:\n> x"), "ok");
  EXPECT_EQ(ExtractReply("收到\n------------------ 原始邮件 ------------------\n发件人: x"), "收到");
  EXPECT_EQ(ExtractReply("收到\n-----原始邮件-----\n发件人: x\n发送时间: y\n主题: z"), "收到");
  EXPECT_EQ(ExtractReply("Yes\n-----Original Message-----\nFrom: x"), "Yes");
  EXPECT_EQ(ExtractReply("Yes\n\n________________________________\nFrom: x\nSent: y\nTo: z\nSubject: w"), "Yes");
  EXPECT_EQ(ExtractReply("收到\n发件人：科技服务\n发送时间：2026年11月20日\n收件人：我\n主题：需求"), "收到");
  EXPECT_EQ(ExtractReply("see below\n---------- Forwarded message ---------\nFrom: x"), "see below");
}

TEST(ExtractReply, QuotedLinesAndSignatures) {
  EXPECT_EQ(ExtractReply("1\n> old\n> older"), "1");
  EXPECT_EQ(ExtractReply("有意向\n\n-- \n王五\n华中科技大学"), "有意向");
  EXPECT_EQ(ExtractReply("有意向\n\n发自我的iPhone"), "有意向");
  EXPECT_EQ(ExtractReply("Interested\nSent from my iPhone"), "Interested");
}

TEST(ExtractReply, KeepsWhatOnlyLooksLikeAHeader) {
  // One "From:" line in the person's own text is not a quote header.
  EXPECT_EQ(ExtractReply("From: our lab, two proposals.\nBoth attached."),
            "From: our lab, two proposals.\nBoth attached.");
  EXPECT_EQ(ExtractReply("第一行\r\n第二行\r\n"), "第一行\n第二行");
}

TEST(ExtractReply, NeverEmpty) {
  EXPECT_EQ(ExtractReply("> only a quote"), "> only a quote");
  EXPECT_EQ(ExtractReply("\xEF\xBB\xBF  1  "), "1");
  EXPECT_EQ(ExtractReply("a\xC2\xA0"
                         "b"),
            "a b");
}

}  // namespace
}  // namespace duijie::channels::email
