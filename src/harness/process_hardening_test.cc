#include "harness/process_hardening.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using ::testing::HasSubstr;

TEST(ProcessHardening, HardenProcessMakesTheProcessUndumpable) {
  // In a child, so this test binary stays as it was.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool ok = HardenProcess().has_value() && ::prctl(PR_GET_DUMPABLE) == 0;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(ProcessHardening, ResolvesTheCliUserOnlyWhenRoot) {
  auto user = ResolveCliUser(std::string("nobody"));
  ASSERT_TRUE(user.has_value());
  if (::geteuid() != 0) {
    EXPECT_FALSE(user->has_value());  // nobody to switch to without root
    return;
  }
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->name, "nobody");
  EXPECT_NE((*user)->uid, 0u);

  EXPECT_TRUE(ResolveCliUser(std::nullopt).value().has_value());          // a default exists
  EXPECT_FALSE(ResolveCliUser(std::string("root")).value().has_value());  // root: no switch
  auto unknown = ResolveCliUser(std::string("no-such-user-swarm"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message, HasSubstr("WORKER_CLI_USER"));
}

// A local sandbox (sandboxd) runs the worker as uid 0 with every capability dropped: it
// cannot chown the task directory nor setuid, so the CLI stays with it instead of every task
// failing on "cannot hand ... to user nobody".
TEST(ProcessHardening, RootWithoutCapabilitiesRunsTheCliAsItself) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start from";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct none[2] = {};
    if (::syscall(SYS_capset, &header, none) != 0) ::_exit(2);
    auto by_default = ResolveCliUser(std::nullopt);
    auto named = ResolveCliUser(std::string("nobody"));
    const bool ok = by_default && !by_default->has_value() && named && !named->has_value();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: a user was still chosen; 2: capset failed";
}

TEST(ProcessHardening, ChownTreeHandsEverythingBelowToTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "a" / "b");
  std::ofstream(dir.path() / "a" / "b" / "f") << "x";
  const RunAs user{"nobody", 65534, 65534};
  ASSERT_TRUE(ChownTree(dir.path() / "a", user));
  for (const auto& path :
       {dir.path() / "a", dir.path() / "a" / "b", dir.path() / "a" / "b" / "f"}) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u) << path;
  }
}

}  // namespace
}  // namespace swarm::harness
