#include "harness/orphan_sweep.h"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
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

TEST(OrphanSweep, TheMarkerNamesThisProcessItsStartTimeAndItsPidNamespace) {
  const std::string marker = WorkerRunMarker();
  const size_t first = marker.find(':');
  const size_t second = marker.find(':', first + 1);
  ASSERT_NE(second, std::string::npos) << marker;
  EXPECT_EQ(marker.substr(0, first), std::to_string(::getpid()));
  EXPECT_GT(std::stoll(marker.substr(first + 1, second - first - 1)), 0);
  struct stat ns {};
  ASSERT_EQ(::stat("/proc/self/ns/pid", &ns), 0);
  EXPECT_EQ(marker.substr(second + 1), std::to_string(ns.st_ino));
}

TEST(OrphanSweep, KillsWhatDeadWorkersLeftAndSparesLiveOnes) {
  const std::string self = WorkerRunMarker();
  const std::string pid = self.substr(0, self.find(':'));
  // A pid that no longer runs, and a live pid whose start time is not the recorded one
  // (the pid was reused): both workers are gone.
  const std::string ns = self.substr(self.rfind(':'));  // ":<inode>"
  // A pid that no longer runs, and a live pid whose start time is not the recorded one
  // (the pid was reused): both workers are gone. So is one of a marker without a namespace.
  const pid_t of_dead_pid = SleeperMarkedWith("2147483646:12345" + ns);
  const pid_t of_reused_pid = SleeperMarkedWith(pid + ":1" + ns);
  const pid_t of_unnamed_namespace = SleeperMarkedWith("2147483646:12345");
  const pid_t of_live_worker = SleeperMarkedWith(self);
  // A worker in a sandbox's PID namespace, seen from the host: its pid means nothing here.
  const pid_t of_other_namespace = SleeperMarkedWith("2147483646:12345:1");
  for (pid_t p :
       {of_dead_pid, of_reused_pid, of_unnamed_namespace, of_live_worker, of_other_namespace}) {
    ASSERT_GT(p, 0);
  }
  std::this_thread::sleep_for(milliseconds(50));  // until exec has set up their environ

  EXPECT_GE(SweepOrphanedRuns(), 3);
  EXPECT_EQ(EndedBySignal(of_dead_pid, milliseconds(5000)), SIGKILL);
  EXPECT_EQ(EndedBySignal(of_reused_pid, milliseconds(5000)), SIGKILL);
  EXPECT_EQ(EndedBySignal(of_unnamed_namespace, milliseconds(5000)), SIGKILL);
  EXPECT_EQ(EndedBySignal(of_live_worker, milliseconds(200)), -1) << "a live worker's CLI died";
  EXPECT_EQ(EndedBySignal(of_other_namespace, milliseconds(200)), -1)
      << "a process of another PID namespace's worker died";
  for (pid_t p : {of_live_worker, of_other_namespace}) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
}

}  // namespace
}  // namespace swarm::harness
