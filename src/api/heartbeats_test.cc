#include "api/heartbeats.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

using std::chrono::milliseconds;
using Beat = Heartbeats::BeatResult;

const MonotonicTime t0{milliseconds(1'000'000)};

TEST(Heartbeats, UnknownAgentsLeaveNoTrace) {
  Heartbeats hb(milliseconds(1000));
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(hb.Beat("made-up-" + std::to_string(i), t0), Beat::kUnknown);
  EXPECT_EQ(hb.size(), 0u);
  EXPECT_EQ(hb.LastSeen("made-up-1"), std::nullopt);
  hb.MarkOffline("made-up-2");
  EXPECT_EQ(hb.size(), 0u);
}

TEST(Heartbeats, KnownAgentThrottlesPersisting) {
  Heartbeats hb(milliseconds(1000));
  hb.Known("a", t0);
  EXPECT_EQ(hb.Beat("a", t0 + milliseconds(500)), Beat::kRecorded);
  EXPECT_EQ(hb.Beat("a", t0 + milliseconds(1000)), Beat::kPersist);
  EXPECT_EQ(hb.Beat("a", t0 + milliseconds(1500)), Beat::kRecorded);
  EXPECT_EQ(hb.LastSeen("a"), t0 + milliseconds(1500));
  EXPECT_EQ(hb.LastSeen("b"), std::nullopt);
}

TEST(Heartbeats, OfflineAgentPersistsOnNextBeat) {
  Heartbeats hb(milliseconds(1000));
  hb.Known("a", t0);
  hb.MarkOffline("a");
  EXPECT_EQ(hb.Beat("a", t0 + milliseconds(1)), Beat::kPersist);
  EXPECT_EQ(hb.Beat("a", t0 + milliseconds(2)), Beat::kRecorded);
}

}  // namespace
}  // namespace swarm
