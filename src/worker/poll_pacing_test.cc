#include "worker/poll_pacing.h"

#include <gtest/gtest.h>

namespace swarm::worker {
namespace {

using std::chrono::milliseconds;

TEST(PollPause, NoneAfterAHeldLongPoll) {
  EXPECT_EQ(PollPause(milliseconds(10'000), milliseconds(10'003)), milliseconds(0));
  EXPECT_EQ(PollPause(milliseconds(10'000), milliseconds(9'600)), milliseconds(0));
  EXPECT_EQ(PollPause(milliseconds(1'000), milliseconds(950)), milliseconds(0));
}

TEST(PollPause, TheRestOfTheWaitAfterAnEarlyAnswer) {
  EXPECT_EQ(PollPause(milliseconds(10'000), milliseconds(2)), milliseconds(9'998));
  EXPECT_EQ(PollPause(milliseconds(10'000), milliseconds(7'000)), milliseconds(3'000));
}

TEST(PollPause, AtLeastASecond) {
  EXPECT_EQ(PollPause(milliseconds(1'000), milliseconds(500)), milliseconds(1'000));
  EXPECT_EQ(PollPause(milliseconds(100), milliseconds(1)), milliseconds(1'000));
  EXPECT_EQ(PollPause(milliseconds(10'000), milliseconds(9'200)), milliseconds(1'000));
}

}  // namespace
}  // namespace swarm::worker
