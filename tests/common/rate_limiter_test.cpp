#include "common/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "support/fakes.hpp"

namespace duijie {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, AllowsBurstThenRefillsAtRate) {
  test::FakeClock clock;
  TokenBucket bucket(10, 3, clock.Now());  // 10/s, burst 3
  EXPECT_EQ(bucket.Available(clock.Now()), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.TryTake(clock.Now()), Clock::Duration::zero());
  const auto wait = bucket.TryTake(clock.Now());
  EXPECT_GT(wait, Clock::Duration::zero());
  EXPECT_LE(wait, std::chrono::duration_cast<Clock::Duration>(100ms));
  clock.Advance(100ms);
  EXPECT_EQ(bucket.TryTake(clock.Now()), Clock::Duration::zero());
  clock.Advance(10s);  // refills to the burst, not beyond
  EXPECT_EQ(bucket.Available(clock.Now()), 3);
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  test::FakeClock clock;
  TokenBucket bucket(0, 1, clock.Now());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(bucket.TryTake(clock.Now()), Clock::Duration::zero());
}

TEST(TokenBucket, ClockSteppingBackMintsNothing) {
  test::FakeClock clock;
  TokenBucket bucket(1, 1, clock.Now());
  EXPECT_EQ(bucket.TryTake(clock.Now()), Clock::Duration::zero());
  clock.Advance(-1h);
  EXPECT_GT(bucket.TryTake(clock.Now()), Clock::Duration::zero());
}

TEST(WindowLimiter, NeverLetsMoreThanTheCountIntoAnyWindow) {
  test::FakeClock clock;
  WindowLimiter limiter({{30, 60s}});
  for (int i = 0; i < 30; ++i) EXPECT_EQ(limiter.TryTake("zhangsan", clock.Now()), Clock::Duration::zero()) << i;
  EXPECT_EQ(limiter.TryTake("zhangsan", clock.Now()), std::chrono::duration_cast<Clock::Duration>(60s));
  EXPECT_EQ(limiter.TryTake("lisi", clock.Now()), Clock::Duration::zero());  // keys are separate
  clock.Advance(59s);
  EXPECT_EQ(limiter.TryTake("zhangsan", clock.Now()), std::chrono::duration_cast<Clock::Duration>(1s));
  clock.Advance(1s);  // the first 30 have left the window: 30 more may go, not 31
  for (int i = 0; i < 30; ++i) EXPECT_EQ(limiter.TryTake("zhangsan", clock.Now()), Clock::Duration::zero()) << i;
  EXPECT_GT(limiter.TryTake("zhangsan", clock.Now()), Clock::Duration::zero());
}

TEST(WindowLimiter, EveryWindowMustHaveRoom) {
  test::FakeClock clock;
  WindowLimiter limiter({{2, 1s}, {3, 1h}});
  EXPECT_EQ(limiter.TryTake("u", clock.Now()), Clock::Duration::zero());
  EXPECT_EQ(limiter.TryTake("u", clock.Now()), Clock::Duration::zero());
  clock.Advance(1s);
  EXPECT_EQ(limiter.TryTake("u", clock.Now()), Clock::Duration::zero());
  clock.Advance(1s);
  // The second window is full until the first use is an hour old.
  EXPECT_EQ(limiter.TryTake("u", clock.Now()), std::chrono::duration_cast<Clock::Duration>(1h - 2s));
}

TEST(WindowLimiter, NoLimitsIsUnlimitedAndQuietKeysAreForgotten) {
  test::FakeClock clock;
  WindowLimiter none({});
  EXPECT_TRUE(none.Unlimited());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(none.TryTake("u", clock.Now()), Clock::Duration::zero());
  WindowLimiter limiter({{1, 1s}});
  for (int i = 0; i < 5000; ++i) {
    (void)limiter.TryTake("user" + std::to_string(i), clock.Now());
    clock.Advance(1ms);
  }
  EXPECT_LT(limiter.Keys(), 5000U);  // keys older than the window were pruned on the way
}

}  // namespace
}  // namespace duijie
