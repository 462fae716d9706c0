#include "core/clock.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(FormatIsoTime, UtcWithMilliseconds) {
  const TimePoint t{std::chrono::milliseconds(1'795'000'000'123LL)};
  EXPECT_EQ(FormatIsoTime(t), "2026-11-18T11:06:40.123Z");
}

TEST(ManualClock, MovesOnlyWhenAdvanced) {
  ManualClock clock(TimePoint{});
  const auto start = clock.Now();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Now() - start, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace swarm
