#include "worker/task_dirs.h"

#include <fstream>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace swarm::worker {
namespace {

namespace fs = std::filesystem;

TEST(TaskDirs, FreshEmptyWorkAndHomePerTask) {
  testing_support::TempDir root;
  auto dirs = PrepareTaskDirs(root.path(), "0190-task");
  ASSERT_TRUE(dirs) << dirs.error().message;
  EXPECT_EQ(dirs->base.parent_path(), fs::path(root.path()));
  EXPECT_EQ(dirs->base.filename().string().rfind("0190-task-", 0), 0u);
  EXPECT_EQ(dirs->work, dirs->base / "work");
  EXPECT_EQ(dirs->home, dirs->base / "home");
  EXPECT_TRUE(fs::is_empty(dirs->work));
  EXPECT_TRUE(fs::is_empty(dirs->home));
  EXPECT_EQ(fs::status(dirs->home).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(dirs->work).permissions() & fs::perms::all, fs::perms::owner_all);
  // Others may pass through (to the CLI user's work and home) but not look in.
  EXPECT_EQ(fs::status(dirs->base).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

TEST(TaskDirs, TheSameTaskIdNeverSharesOrClearsADirectory) {
  // Two runs of one id (a retry, two workers restarted on one root) run side by side: neither
  // may see, nor wipe, the other's files.
  testing_support::TempDir root;
  auto first = PrepareTaskDirs(root.path(), "same-id");
  ASSERT_TRUE(first);
  std::ofstream(first->work / "mine.txt") << "first";
  auto second = PrepareTaskDirs(root.path(), "same-id");
  ASSERT_TRUE(second);
  EXPECT_NE(first->base, second->base);
  EXPECT_TRUE(fs::is_empty(second->work));
  EXPECT_TRUE(fs::exists(first->work / "mine.txt"));
}

TEST(TaskDirs, AnIdCannotClimbOutOfTheRoot) {
  testing_support::TempDir root;
  auto dirs = PrepareTaskDirs(root.path(), "../../etc");
  ASSERT_TRUE(dirs);
  EXPECT_EQ(dirs->base.parent_path(), fs::path(root.path()));
  EXPECT_EQ(dirs->work.parent_path().parent_path(), fs::path(root.path()));
}

TEST(TaskDirs, RemoveTaskDirsLeavesNothingBehind) {
  testing_support::TempDir root;
  auto dirs = PrepareTaskDirs(root.path(), "t");
  ASSERT_TRUE(dirs);
  std::ofstream(dirs->work / "result.txt") << "x";
  fs::create_directories(dirs->home / "xdg" / "config");
  std::ofstream(dirs->home / "xdg" / "config" / "cli.json") << "{}";
  RemoveTaskDirs(*dirs);
  EXPECT_FALSE(fs::exists(dirs->base));
  EXPECT_TRUE(fs::is_empty(root.path()));
}

TEST(TaskDirs, RemoveHomeKeepsTheWork) {
  testing_support::TempDir root;
  auto dirs = PrepareTaskDirs(root.path(), "t");
  ASSERT_TRUE(dirs);
  std::ofstream(dirs->work / "result.txt") << "kept";
  std::ofstream(dirs->home / "secret.json") << "{}";
  RemoveTaskHome(*dirs);
  EXPECT_FALSE(fs::exists(dirs->home));
  EXPECT_TRUE(fs::exists(dirs->work / "result.txt"));
}

TEST(TaskDirs, AnUnwritableRootIsAnError) {
  auto dirs = PrepareTaskDirs("/proc/definitely/not/here", "t");
  EXPECT_FALSE(dirs);
}

}  // namespace
}  // namespace swarm::worker
