#include "common/clock.hpp"

#include <gtest/gtest.h>

namespace duijie {
namespace {

TEST(Clock, UnixMillisRoundTrip) {
  const auto t = FromUnixMillis(1'790'000'000'123);
  EXPECT_EQ(ToUnixMillis(t), 1'790'000'000'123);
}

TEST(Clock, FormatsRfc3339Utc) {
  EXPECT_EQ(FormatUtc(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(FromUnixMillis(1'609'459'199'999)), "2020-12-31T23:59:59.999Z");
}

TEST(SystemRandom, StaysInUnitInterval) {
  SystemRandom random;
  for (int i = 0; i < 1000; ++i) {
    const double v = random.Uniform();
    EXPECT_GE(v, 0.0);
    EXPECT_LT(v, 1.0);
  }
}

}  // namespace
}  // namespace duijie
