#include "common/backoff.hpp"

#include <gtest/gtest.h>

#include "support/fakes.hpp"

namespace duijie {
namespace {

using std::chrono::milliseconds;

TEST(RetryDelay, DoublesPerAttemptWithinEqualJitterBounds) {
  const BackoffPolicy policy{milliseconds(1000), milliseconds(60'000)};
  test::FakeRandom lowest({0.0});
  test::FakeRandom highest({0.999999});
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const auto ceiling = std::min<long long>(1000LL << (attempt - 1), 60'000);
    EXPECT_EQ(RetryDelay(attempt, policy, lowest).count(), ceiling / 2) << attempt;
    EXPECT_NEAR(static_cast<double>(RetryDelay(attempt, policy, highest).count()), static_cast<double>(ceiling), 1.0)
        << attempt;
  }
}

TEST(RetryDelay, IsCappedAndNeverZero) {
  const BackoffPolicy policy{milliseconds(500), milliseconds(10'000)};
  test::FakeRandom random({0.0});
  EXPECT_EQ(RetryDelay(50, policy, random).count(), 5'000);
  EXPECT_EQ(RetryDelay(1000, policy, random).count(), 5'000);
  EXPECT_GT(RetryDelay(0, policy, random).count(), 0);
}

}  // namespace
}  // namespace duijie
