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

}  // namespace
}  // namespace duijie
