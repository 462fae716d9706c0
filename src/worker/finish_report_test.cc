#include "worker/finish_report.h"

#include <gtest/gtest.h>

namespace swarm::worker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Steady::time_point t0 = Steady::now();

TEST(FinishDeadline, TheTasksOwnDeadlineWhileRunning) {
  // Claimed at t0 with a 600 s timeout, finished after 10 s: retried until t0 + 600 s.
  EXPECT_EQ(FinishDeadline(t0, seconds(600), std::nullopt, t0 + seconds(10)), t0 + seconds(600));
}

TEST(FinishDeadline, ALateFinishStillGetsAWindow) {
  // The run took its whole timeout: the report still rides out an API restart.
  EXPECT_EQ(FinishDeadline(t0, seconds(60), std::nullopt, t0 + seconds(61)),
            t0 + seconds(61) + kFinishMinWindow);
}

TEST(FinishDeadline, TheShutdownGraceOnceStopping) {
  EXPECT_EQ(FinishDeadline(t0, seconds(600), t0 + seconds(30), t0 + seconds(10)), t0 + seconds(30));
  // Past the grace (a task cancelled at its end): a short window, not none.
  EXPECT_EQ(FinishDeadline(t0, seconds(600), t0 + seconds(30), t0 + seconds(31)),
            t0 + seconds(31) + kFinishMinWindowStopping);
  // The task's own deadline is sooner than the grace.
  EXPECT_EQ(FinishDeadline(t0, seconds(20), t0 + seconds(300), t0 + seconds(5)),
            t0 + kFinishMinWindow + seconds(5));
}

}  // namespace
}  // namespace swarm::worker
