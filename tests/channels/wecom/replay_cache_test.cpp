#include "channels/wecom/replay_cache.hpp"

#include <gtest/gtest.h>

#include "support/fakes.hpp"

namespace duijie::channels::wecom {
namespace {

using namespace std::chrono_literals;

TEST(ReplayCache, SameNonceSameSignatureIsARedeliveryAnotherSignatureIsAReplay) {
  test::FakeClock clock;
  ReplayCache cache(clock, 600s);
  EXPECT_TRUE(cache.Admit("n1", "sig-a"));
  EXPECT_TRUE(cache.Admit("n1", "sig-a"));
  EXPECT_FALSE(cache.Admit("n1", "sig-b"));
  EXPECT_TRUE(cache.Admit("n2", "sig-b"));
}

TEST(ReplayCache, ForgetsAfterTheWindowAndStaysBounded) {
  test::FakeClock clock;
  ReplayCache cache(clock, 600s, 3);
  EXPECT_TRUE(cache.Admit("n1", "a"));
  clock.Advance(601s);
  EXPECT_TRUE(cache.Admit("n1", "b"));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(cache.Admit("x" + std::to_string(i), "s"));
  EXPECT_TRUE(cache.Admit("n1", "c"));  // evicted by size
}

}  // namespace
}  // namespace duijie::channels::wecom
