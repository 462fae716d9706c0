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
  EXPECT_EQ(dirs->work, fs::path(root.path()) / "0190-task" / "work");
  EXPECT_EQ(dirs->home, fs::path(root.path()) / "0190-task" / "home");
  EXPECT_TRUE(fs::is_directory(dirs->work));
  EXPECT_TRUE(fs::is_directory(dirs->home));
  EXPECT_EQ(fs::status(dirs->home).permissions() & fs::perms::all, fs::perms::owner_all);

  // Leftovers of an earlier run of the same id do not leak into the next one.
  std::ofstream(dirs->work / "old.txt") << "x";
  std::ofstream(dirs->home / "config.json") << "{}";
  auto again = PrepareTaskDirs(root.path(), "0190-task");
  ASSERT_TRUE(again);
  EXPECT_TRUE(fs::is_empty(again->work));
  EXPECT_TRUE(fs::is_empty(again->home));
}

TEST(TaskDirs, AnIdCannotClimbOutOfTheRoot) {
  testing_support::TempDir root;
  auto dirs = PrepareTaskDirs(root.path(), "../../etc");
  ASSERT_TRUE(dirs);
  EXPECT_EQ(dirs->work.parent_path().parent_path(), fs::path(root.path()));
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
