#include "core/task.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(TaskStatus, NamesRoundTrip) {
  for (auto s : {TaskStatus::kUnassigned, TaskStatus::kPending, TaskStatus::kInProgress,
                 TaskStatus::kCompleted, TaskStatus::kFailed, TaskStatus::kCancelled,
                 TaskStatus::kSuperseded, TaskStatus::kPaused}) {
    EXPECT_EQ(ParseTaskStatus(TaskStatusName(s)), s);
  }
  EXPECT_EQ(ParseTaskStatus("done"), std::nullopt);
}

TEST(TaskStatus, UpstreamNamesForHandedBackTasks) {
  EXPECT_STREQ(TaskStatusName(TaskStatus::kSuperseded), "superseded");
  EXPECT_STREQ(TaskStatusName(TaskStatus::kPaused), "paused");
}

TEST(TaskStatus, OnlyCompletedFailedCancelledSupersededAreTerminal) {
  EXPECT_FALSE(IsTerminal(TaskStatus::kUnassigned));
  EXPECT_FALSE(IsTerminal(TaskStatus::kPending));
  EXPECT_FALSE(IsTerminal(TaskStatus::kInProgress));
  EXPECT_TRUE(IsTerminal(TaskStatus::kCompleted));
  EXPECT_TRUE(IsTerminal(TaskStatus::kFailed));
  EXPECT_TRUE(IsTerminal(TaskStatus::kCancelled));
  EXPECT_TRUE(IsTerminal(TaskStatus::kSuperseded));
  EXPECT_FALSE(IsTerminal(TaskStatus::kPaused));  // resumed by /resume
}

}  // namespace
}  // namespace swarm
