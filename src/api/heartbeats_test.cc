#include "api/heartbeats.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

using std::chrono::milliseconds;

TEST(Heartbeats, FirstBeatPersistsThenThrottles) {
  Heartbeats hb(milliseconds(1000));
  const TimePoint t0{milliseconds(1'000'000)};
  EXPECT_TRUE(hb.Beat("a", t0));
  EXPECT_FALSE(hb.Beat("a", t0 + milliseconds(500)));
  EXPECT_TRUE(hb.Beat("a", t0 + milliseconds(1000)));
  EXPECT_EQ(hb.LastSeen("a"), t0 + milliseconds(1000));
  EXPECT_EQ(hb.LastSeen("b"), std::nullopt);
}

TEST(Heartbeats, LastSeenMovesEvenWhenNotPersisted) {
  Heartbeats hb(milliseconds(1000));
  const TimePoint t0{milliseconds(1'000'000)};
  hb.Beat("a", t0);
  hb.Beat("a", t0 + milliseconds(10));
  EXPECT_EQ(hb.LastSeen("a"), t0 + milliseconds(10));
}

TEST(Heartbeats, OfflineAgentPersistsOnNextBeat) {
  Heartbeats hb(milliseconds(1000));
  const TimePoint t0{milliseconds(1'000'000)};
  hb.Beat("a", t0);
  hb.MarkOffline("a");
  EXPECT_TRUE(hb.Beat("a", t0 + milliseconds(1)));
  EXPECT_FALSE(hb.Beat("a", t0 + milliseconds(2)));
}

}  // namespace
}  // namespace swarm
