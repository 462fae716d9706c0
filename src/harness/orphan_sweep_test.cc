#include "harness/orphan_sweep.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace swarm::harness {
namespace {

using std::chrono::milliseconds;

// A `sleep 300` whose environment carries `marker`, as a CLI of that worker would.
pid_t SleeperMarkedWith(const std::string& marker) {
  std::string entry = std::string(kWorkerRunEnv) + "=" + marker;
  char sh[] = "/bin/sleep";
  char arg[] = "300";
  char* argv[] = {sh, arg, nullptr};
  char* envp[] = {entry.data(), nullptr};
  pid_t pid = -1;
  return ::posix_spawn(&pid, sh, nullptr, nullptr, argv, envp) == 0 ? pid : -1;
}

// Whether `pid` (our child) ended within `limit`, and by which signal.
int EndedBySignal(pid_t pid, milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return -1;
}

TEST(OrphanSweep, TheMarkerNamesThisProcessAndItsStartTime) {
  const std::string marker = WorkerRunMarker();
  EXPECT_EQ(marker.substr(0, marker.find(':')), std::to_string(::getpid()));
  EXPECT_GT(std::stoll(marker.substr(marker.find(':') + 1)), 0);
}

TEST(OrphanSweep, KillsWhatDeadWorkersLeftAndSparesLiveOnes) {
  const std::string self = WorkerRunMarker();
  const std::string pid = self.substr(0, self.find(':'));
  // A pid that no longer runs, and a live pid whose start time is not the recorded one
  // (the pid was reused): both workers are gone.
  const pid_t of_dead_pid = SleeperMarkedWith("2147483646:12345");
  const pid_t of_reused_pid = SleeperMarkedWith(pid + ":1");
  const pid_t of_live_worker = SleeperMarkedWith(self);
  ASSERT_GT(of_dead_pid, 0);
  ASSERT_GT(of_reused_pid, 0);
  ASSERT_GT(of_live_worker, 0);
  std::this_thread::sleep_for(milliseconds(50));  // until exec has set up their environ

  EXPECT_GE(SweepOrphanedRuns(), 2);
  EXPECT_EQ(EndedBySignal(of_dead_pid, milliseconds(5000)), SIGKILL);
  EXPECT_EQ(EndedBySignal(of_reused_pid, milliseconds(5000)), SIGKILL);
  EXPECT_EQ(EndedBySignal(of_live_worker, milliseconds(200)), -1) << "a live worker's CLI died";
  ::kill(of_live_worker, SIGKILL);
  ::waitpid(of_live_worker, nullptr, 0);
}

}  // namespace
}  // namespace swarm::harness
