#include "harness/posix_process_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/orphan_sweep.h"
#include "harness/process_hardening.h"
#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kPath[] = "/usr/local/bin:/usr/bin:/bin";

ProcessSpec Shell(const std::string& script, milliseconds timeout = milliseconds(10'000)) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {{"PATH", kPath}};
  spec.timeout = timeout;
  return spec;
}

PosixProcessRunner FastRunner() {
  PosixProcessRunner::Options options;
  options.kill_grace = milliseconds(300);
  options.drain = milliseconds(300);
  return PosixProcessRunner(options);
}

struct Captured {
  std::vector<std::string> lines;
  ProcessOutcome outcome;
  milliseconds elapsed{0};
};

Captured RunShell(ProcessRunner& runner, const ProcessSpec& spec,
                  const std::atomic<bool>* cancel = nullptr,
                  std::function<void(const std::string&)> also = nullptr) {
  Captured captured;
  const auto start = Clock::now();
  auto outcome = runner.Run(
      spec,
      [&](std::string_view line) {
        captured.lines.emplace_back(line);
        if (also) also(captured.lines.back());
      },
      cancel);
  captured.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_TRUE(outcome.has_value()) << (outcome ? "" : outcome.error().message);
  if (outcome) captured.outcome = *outcome;
  return captured;
}

// /proc/<pid>/stat's state letter, or 0 when the process is gone.
char ProcessState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  const size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
}

bool Alive(pid_t pid) {
  const char state = ProcessState(pid);
  return state != 0 && state != 'Z' && state != 'X';
}

// Any process of the group that is not a zombie (orphaned zombies wait for init to reap them,
// which says nothing about our runner).
bool GroupAlive(pid_t pgid) {
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (fields >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z' && state != 'X') {
      return true;
    }
  }
  return false;
}

// Waits up to `limit` for `done`.
bool WaitFor(const std::function<bool()>& done, milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

std::vector<std::string> LinesOf(const std::filesystem::path& file) {
  std::vector<std::string> lines;
  std::istringstream in(testing::ReadFile(file));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Starts this test binary again to run one (disabled) stand-in test in a process of its own:
// the worker whose death or memory a test is about. Its environment is ours plus `extra`.
pid_t SpawnStandIn(const std::string& test, const std::map<std::string, std::string>& extra) {
  std::vector<std::string> args = {"/proc/self/exe", "--gtest_also_run_disabled_tests",
                                   "--gtest_filter=" + test};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& [key, value] : extra) env.push_back(key + "=" + value);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// A CLI that starts a daemon: a process in a session of its own, orphaned at once (a double
// fork), so neither its process group nor its parent ties it to the CLI any more. Prints the
// CLI's pid, then the daemon's.
constexpr char kDaemonizingCli[] =
    "echo $$; (setsid sh -c 'echo $$; exec sleep 300' &); exec sleep 300";

TEST(PosixProcessRunner, StreamsStdoutLineByLine) {
  PosixProcessRunner runner;
  const auto run = RunShell(runner, Shell("printf 'a\\nb\\r\\n\\nc'"));
  EXPECT_THAT(run.lines, ElementsAre("a", "b", "", "c"));
  EXPECT_EQ(run.outcome.exit_code, 0);
  EXPECT_EQ(run.outcome.signal, 0);
  EXPECT_FALSE(run.outcome.timed_out);
  EXPECT_FALSE(run.outcome.cancelled);
}

TEST(PosixProcessRunner, DeliversLinesWhileTheChildRuns) {
  PosixProcessRunner runner;
  milliseconds first_at{-1};
  const auto start = Clock::now();
  const auto run = RunShell(
      runner, Shell("echo first; sleep 1; echo second"), nullptr, [&](const std::string& line) {
        if (line == "first") {
          first_at = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
        }
      });
  EXPECT_THAT(run.lines, ElementsAre("first", "second"));
  EXPECT_GE(first_at.count(), 0);
  EXPECT_LT(first_at.count(), 800);
  EXPECT_GE(run.elapsed.count(), 900);
}

TEST(PosixProcessRunner, NoticesAQuickExitPromptly) {
  PosixProcessRunner runner;
  const auto run = RunShell(runner, Shell("true"));
  EXPECT_EQ(run.outcome.exit_code, 0);
  EXPECT_LT(run.elapsed.count(), 500);
}

TEST(PosixProcessRunner, ReportsTheExitCode) {
  PosixProcessRunner runner;
  EXPECT_EQ(RunShell(runner, Shell("exit 3")).outcome.exit_code, 3);
}

TEST(PosixProcessRunner, ReportsTheSignalThatEndedTheChild) {
  PosixProcessRunner runner;
  const auto run = RunShell(runner, Shell("kill -KILL $$"));
  EXPECT_EQ(run.outcome.exit_code, -1);
  EXPECT_EQ(run.outcome.signal, SIGKILL);
  EXPECT_FALSE(run.outcome.timed_out);
}

TEST(PosixProcessRunner, GivesTheChildExactlyTheGivenEnvironment) {
  ::setenv("SWARM_HARNESS_PARENT_ONLY", "leak", 1);
  PosixProcessRunner runner;
  ProcessSpec spec;
  spec.argv = {"env"};
  spec.env = {{"PATH", kPath}, {"FOO", "bar baz"}, {"EMPTY", ""}};
  spec.timeout = milliseconds(10'000);
  const auto run = RunShell(runner, spec);
  ::unsetenv("SWARM_HARNESS_PARENT_ONLY");
  // Plus the marker that lets a later worker find what a dead one left running.
  EXPECT_THAT(run.lines, ::testing::UnorderedElementsAre(
                             std::string("PATH=") + kPath, "FOO=bar baz",
                             "EMPTY=", std::string(kWorkerRunEnv) + "=" + WorkerRunMarker()));
}

TEST(PosixProcessRunner, LooksProgramsUpInTheChildsPath) {
  testing::TempDir bin;
  const auto tool = bin.path() / "swarm-test-tool";
  {
    std::ofstream out(tool);
    out << "#!/bin/sh\necho from-tool \"$@\"\n";
  }
  ::chmod(tool.c_str(), 0755);
  PosixProcessRunner runner;
  ProcessSpec spec;
  spec.argv = {"swarm-test-tool", "x"};
  spec.env = {{"PATH", bin.path().string() + ":" + kPath}};
  spec.timeout = milliseconds(10'000);
  EXPECT_THAT(RunShell(runner, spec).lines, ElementsAre("from-tool x"));
  EXPECT_EQ(ResolveExecutable("swarm-test-tool", bin.path().string()), tool.string());
  EXPECT_EQ(ResolveExecutable("swarm-test-tool", kPath), std::nullopt);
}

TEST(PosixProcessRunner, AMissingProgramIsAnErrorNamingIt) {
  PosixProcessRunner runner;
  ProcessSpec spec;
  spec.argv = {"swarm-no-such-program"};
  spec.env = {{"PATH", kPath}};
  auto outcome = runner.Run(spec, nullptr, nullptr);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_THAT(outcome.error().message, HasSubstr("swarm-no-such-program"));
  EXPECT_THAT(outcome.error().message, HasSubstr("PATH"));

  spec.argv = {"/nonexistent/swarm-no-such-program"};
  outcome = runner.Run(spec, nullptr, nullptr);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_THAT(outcome.error().message, HasSubstr("/nonexistent/swarm-no-such-program"));

  spec.argv = {};
  EXPECT_FALSE(runner.Run(spec, nullptr, nullptr).has_value());
}

TEST(PosixProcessRunner, RunsInTheGivenDirectory) {
  testing::TempDir dir;
  PosixProcessRunner runner;
  auto spec = Shell("pwd -P");
  spec.cwd = dir.path();
  EXPECT_THAT(RunShell(runner, spec).lines,
              ElementsAre(std::filesystem::canonical(dir.path()).string()));

  spec.cwd = dir.path() / "missing";
  auto outcome = runner.Run(spec, nullptr, nullptr);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_THAT(outcome.error().message, HasSubstr("working directory"));
}

TEST(PosixProcessRunner, StdinIsDevNullWithoutData) {
  PosixProcessRunner runner;
  // `cat` would wait forever on an open pipe.
  const auto run = RunShell(runner, Shell("readlink /proc/self/fd/0; cat; echo done"));
  EXPECT_THAT(run.lines, ElementsAre("/dev/null", "done"));
  EXPECT_LT(run.elapsed.count(), 2000);
}

TEST(PosixProcessRunner, WritesStdinDataThenClosesIt) {
  PosixProcessRunner runner;
  auto spec = Shell("cat; echo eof");
  spec.stdin_data = "hello\nworld with spaces\n";
  EXPECT_THAT(RunShell(runner, spec).lines, ElementsAre("hello", "world with spaces", "eof"));

  // More than a pipe holds, while the child also writes: neither side may block the other.
  spec = Shell("cat | wc -c; cat >/dev/null");
  spec.stdin_data = std::string(1 << 20, 'x');
  EXPECT_THAT(RunShell(runner, spec).lines, ElementsAre(std::to_string(1 << 20)));
}

TEST(PosixProcessRunner, AChildThatIgnoresItsStdinDoesNotHurtUs) {
  PosixProcessRunner runner;
  auto spec = Shell("exec 0<&-; echo closed");
  spec.stdin_data = std::string(1 << 20, 'x');  // the write gets EPIPE, not a SIGPIPE death
  const auto run = RunShell(runner, spec);
  EXPECT_THAT(run.lines, ElementsAre("closed"));
  EXPECT_EQ(run.outcome.exit_code, 0);
}

TEST(PosixProcessRunner, KeepsTheTailOfStderr) {
  PosixProcessRunner::Options options;
  options.stderr_tail_bytes = 1024;
  PosixProcessRunner runner(options);
  const auto run = RunShell(
      runner, Shell("i=0; while [ $i -lt 2000 ]; do echo \"noise $i\" >&2; i=$((i+1)); done; "
                    "echo the-real-error >&2; echo out; exit 1"));
  EXPECT_THAT(run.lines, ElementsAre("out"));
  EXPECT_EQ(run.outcome.exit_code, 1);
  EXPECT_LE(run.outcome.stderr_tail.size(), 1024u);
  EXPECT_THAT(run.outcome.stderr_tail, ::testing::EndsWith("the-real-error\n"));
  EXPECT_THAT(run.outcome.stderr_tail, HasSubstr("noise 1999"));
}

TEST(PosixProcessRunner, DeliversAVeryLongLineWhole) {
  PosixProcessRunner runner;
  const auto run =
      RunShell(runner, Shell("head -c 1000000 /dev/zero | tr '\\0' 'y'; echo; echo z"));
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_EQ(run.lines[0], std::string(1000000, 'y'));
  EXPECT_EQ(run.lines[1], "z");
}

TEST(PosixProcessRunner, TimeoutKillsTheWholeGroupIncludingGrandchildren) {
  auto runner = FastRunner();
  // Line 1: the shell's pid, which leads the group; line 2: a background grandchild.
  const auto run =
      RunShell(runner, Shell("echo $$; sleep 100 & echo $!; sleep 100", milliseconds(500)));
  ASSERT_EQ(run.lines.size(), 2u);
  const pid_t pgid = std::stoi(run.lines[0]);
  const pid_t grandchild = std::stoi(run.lines[1]);
  EXPECT_TRUE(run.outcome.timed_out);
  EXPECT_FALSE(run.outcome.cancelled);
  EXPECT_EQ(run.outcome.exit_code, -1);
  EXPECT_EQ(run.outcome.signal, SIGTERM);
  EXPECT_GE(run.elapsed.count(), 450);
  EXPECT_LT(run.elapsed.count(), 3000);
  EXPECT_FALSE(GroupAlive(pgid));
  EXPECT_FALSE(Alive(grandchild));
}

TEST(PosixProcessRunner, SigkillFollowsWhenSigtermIsIgnored) {
  auto runner = FastRunner();
  // An ignored signal stays ignored across exec, so the sleep ignores SIGTERM too.
  const auto run = RunShell(runner, Shell("trap '' TERM; echo $$; sleep 100", milliseconds(300)));
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_TRUE(run.outcome.timed_out);
  EXPECT_EQ(run.outcome.signal, SIGKILL);
  EXPECT_GE(run.elapsed.count(), 550);  // timeout + grace
  EXPECT_LT(run.elapsed.count(), 3000);
  EXPECT_FALSE(GroupAlive(std::stoi(run.lines[0])));
}

TEST(PosixProcessRunner, CancelStopsTheGroupMidRun) {
  auto runner = FastRunner();
  std::atomic<bool> cancel{false};
  const auto run = RunShell(runner, Shell("echo $$; sleep 100 & sleep 100"), &cancel,
                            [&](const std::string&) { cancel = true; });
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_TRUE(run.outcome.cancelled);
  EXPECT_FALSE(run.outcome.timed_out);
  EXPECT_LT(run.elapsed.count(), 3000);
  EXPECT_FALSE(GroupAlive(std::stoi(run.lines[0])));
}

TEST(PosixProcessRunner, CancelFromAnotherThreadIsNoticed) {
  auto runner = FastRunner();
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(200));
    cancel = true;
  });
  const auto run = RunShell(runner, Shell("exec sleep 100"), &cancel);
  canceller.join();
  EXPECT_TRUE(run.outcome.cancelled);
  EXPECT_LT(run.elapsed.count(), 2000);
}

TEST(PosixProcessRunner, LeftoversOfALeaderThatExitedAreTerminated) {
  auto runner = FastRunner();
  // The background job does not hold our pipes: the leader's exit ends the output at once.
  const auto run = RunShell(runner, Shell("sleep 100 >/dev/null 2>&1 & echo $!; exit 0"));
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_EQ(run.outcome.exit_code, 0);
  EXPECT_FALSE(run.outcome.timed_out);
  EXPECT_LT(run.elapsed.count(), 2000);
  EXPECT_FALSE(Alive(std::stoi(run.lines[0])));
}

TEST(PosixProcessRunner, LeftoversIgnoringSigtermAreKilled) {
  auto runner = FastRunner();
  // The leader exits only once the leftover ignores SIGTERM: under load, a leftover signalled
  // before its trap was set would die at once and prove nothing.
  const auto run =
      RunShell(runner, Shell("f=/tmp/leftover-ready.$$; (trap '' TERM; : >$f; exec sleep 100) "
                             ">/dev/null 2>&1 & while [ ! -e $f ]; do sleep 0.01; done; rm -f $f; "
                             "echo $!; exit 0"));
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_EQ(run.outcome.exit_code, 0);
  EXPECT_GE(run.elapsed.count(), 250);  // the grace it was given
  EXPECT_LT(run.elapsed.count(), 3000);
  EXPECT_FALSE(Alive(std::stoi(run.lines[0])));
}

TEST(PosixProcessRunner, ADescendantHoldingStdoutDoesNotHangTheRun) {
  auto runner = FastRunner();
  const auto run = RunShell(runner, Shell("sleep 100 & echo $!; exit 0"));
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_EQ(run.outcome.exit_code, 0);
  EXPECT_LT(run.elapsed.count(), 3000);
  EXPECT_FALSE(Alive(std::stoi(run.lines[0])));
}

TEST(PosixProcessRunner, ChildrenStartWithDefaultSignalHandling) {
  // The worker may ignore SIGPIPE or block signals; its CLIs must not inherit that.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old {};
  ::sigaction(SIGPIPE, &ignore, &old);
  PosixProcessRunner runner;
  const auto run = RunShell(runner, Shell("grep -E '^(SigIgn|SigBlk)' /proc/self/status"));
  ::sigaction(SIGPIPE, &old, nullptr);
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_EQ(run.lines[0], "SigBlk:\t0000000000000000");
  // glibc's posix_spawn leaves its two internal signals (32, 33: thread cancellation and
  // setxid) ignored; a new program's libc installs its own handlers for them.
  const unsigned long long ignored = std::stoull(run.lines[1].substr(8), nullptr, 16);
  EXPECT_EQ(ignored & ~0x180000000ULL, 0u) << run.lines[1];
}

TEST(PosixProcessRunner, CopesWithChildrenReapedBehindItsBack) {
  // With SIGCHLD ignored the kernel reaps children itself; the run must still end.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old {};
  ::sigaction(SIGCHLD, &ignore, &old);
  PosixProcessRunner runner;
  const auto run = RunShell(runner, Shell("echo hi; sleep 0.2"));
  ::sigaction(SIGCHLD, &old, nullptr);
  EXPECT_THAT(run.lines, ElementsAre("hi"));
  EXPECT_LT(run.elapsed.count(), 2000);
}

TEST(PosixProcessRunner, AThrowingCallbackLeavesNoProcessBehind) {
  PosixProcessRunner runner;
  std::string pgid;
  EXPECT_THROW(runner.Run(
                   Shell("echo $$; sleep 100"),
                   [&](std::string_view line) {
                     pgid = std::string(line);
                     throw std::runtime_error("callback failed");
                   },
                   nullptr),
               std::runtime_error);
  ASSERT_FALSE(pgid.empty());
  EXPECT_FALSE(GroupAlive(std::stoi(pgid)));
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

TEST(PosixProcessRunner, ChildLeadsItsOwnSession) {
  PosixProcessRunner runner;
  const auto run = RunShell(runner, Shell("echo $$; cut -d' ' -f5,6 /proc/$$/stat"));
  ASSERT_EQ(run.lines.size(), 2u);
  std::istringstream ids(run.lines[1]);
  long pgid = 0, sid = 0;
  ids >> pgid >> sid;
  EXPECT_EQ(pgid, std::stol(run.lines[0]));
  EXPECT_EQ(sid, std::stol(run.lines[0]));
}

TEST(PosixProcessRunner, LeavesNoDescriptorOrChildBehind) {
  auto count_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator{});
  };
  auto runner = FastRunner();
  const auto before = count_fds();
  std::atomic<bool> cancel{false};
  for (int i = 0; i < 5; ++i) {
    auto spec = Shell("echo x; echo y >&2; cat >/dev/null");
    spec.stdin_data = "data";
    RunShell(runner, spec);
    RunShell(runner, Shell("sleep 100", milliseconds(50)));
    cancel = false;
    RunShell(runner, Shell("echo go; sleep 100"), &cancel,
             [&](const std::string&) { cancel = true; });
  }
  EXPECT_EQ(count_fds(), before);
  // Every child was reaped: this process has none left, not even a zombie.
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(PosixProcessRunner, RunsInParallelFromSeveralThreads) {
  PosixProcessRunner runner;
  std::vector<std::vector<std::string>> lines(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto outcome = runner.Run(
          Shell("echo " + std::to_string(i) + "; sleep 0.2; echo end"),
          [&](std::string_view line) { lines[i].emplace_back(line); }, nullptr);
      EXPECT_TRUE(outcome.has_value());
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 4; ++i) EXPECT_THAT(lines[i], ElementsAre(std::to_string(i), "end"));
}

TEST(PosixProcessRunner, CancelEndsDescendantsThatLeftTheSession) {
  auto runner = FastRunner();
  std::atomic<bool> cancel{false};
  int seen = 0;
  const auto run = RunShell(runner, Shell(kDaemonizingCli), &cancel, [&](const std::string&) {
    if (++seen == 2) cancel = true;
  });
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_TRUE(run.outcome.cancelled);
  EXPECT_LT(run.elapsed.count(), 3000);
  EXPECT_FALSE(Alive(std::stoi(run.lines[0])));
  EXPECT_FALSE(Alive(std::stoi(run.lines[1]))) << "the daemon survived the cancel";
}

TEST(PosixProcessRunner, TimeoutEndsDescendantsThatLeftTheSession) {
  auto runner = FastRunner();
  const auto run = RunShell(runner, Shell(kDaemonizingCli, milliseconds(500)));
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_TRUE(run.outcome.timed_out);
  EXPECT_LT(run.elapsed.count(), 3000);
  EXPECT_FALSE(Alive(std::stoi(run.lines[0])));
  EXPECT_FALSE(Alive(std::stoi(run.lines[1]))) << "the daemon survived the timeout";
}

TEST(PosixProcessRunner, ADaemonLeftByACliThatExitedIsEnded) {
  testing::TempDir dir;
  const std::string pid_file = (dir.path() / "daemon").string();
  auto runner = FastRunner();
  const auto run = RunShell(runner, Shell("(setsid sh -c 'echo $$ >" + pid_file +
                                          "; exec sleep 300' >/dev/null 2>&1 &); "
                                          "while [ ! -s " +
                                          pid_file + " ]; do sleep 0.05; done"));
  EXPECT_EQ(run.outcome.exit_code, 0);
  EXPECT_LT(run.elapsed.count(), 3000);
  const auto lines = LinesOf(pid_file);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(Alive(std::stoi(lines[0]))) << "the daemon outlived the run";
}

// The stand-in worker of AKilledWorkerTakesItsRunWithIt: runs a daemonizing CLI forever.
TEST(PosixProcessRunnerStandIn, DISABLED_Worker) {
  const char* pids = std::getenv("SWARM_TEST_PIDS");
  if (pids == nullptr) GTEST_SKIP();
  PosixProcessRunner runner;
  const std::string file = pids;
  runner.Run(Shell("echo $$ >>" + file + "; (setsid sh -c 'echo $$ >>" + file +
                       "; exec sleep 300' &); exec sleep 300",
                   milliseconds(300'000)),
             nullptr, nullptr);
}

TEST(PosixProcessRunner, AKilledWorkerTakesItsRunWithIt) {
  testing::TempDir dir;
  const auto pids = dir.path() / "pids";
  const pid_t worker = SpawnStandIn("PosixProcessRunnerStandIn.DISABLED_Worker",
                                    {{"SWARM_TEST_PIDS", pids.string()}});
  ASSERT_GT(worker, 0);
  ASSERT_TRUE(WaitFor([&] { return LinesOf(pids).size() == 2; }, milliseconds(10'000)));
  const auto lines = LinesOf(pids);
  const pid_t cli = std::stoi(lines[0]), daemon = std::stoi(lines[1]);
  EXPECT_TRUE(Alive(cli));
  EXPECT_TRUE(Alive(daemon));
  ::kill(worker, SIGKILL);
  ::waitpid(worker, nullptr, 0);
  EXPECT_TRUE(WaitFor([&] { return !Alive(cli); }, milliseconds(5000))) << "the CLI survived";
  EXPECT_TRUE(WaitFor([&] { return !Alive(daemon); }, milliseconds(5000)))
      << "the CLI's daemon survived";
}

TEST(PosixProcessRunner, CutsALineOverTheLimitAndGoesOn) {
  PosixProcessRunner::Options options;
  options.max_line_bytes = 100;
  PosixProcessRunner runner(options);
  // 250 bytes in one line (written in several pieces), then a normal one.
  const auto run = RunShell(runner, Shell("head -c 250 /dev/zero | tr '\\0' 'y'; echo; "
                                          "printf '%100s\\n' | tr ' ' x; echo z"));
  ASSERT_EQ(run.lines.size(), 3u);
  EXPECT_EQ(run.lines[0], std::string(100, 'y'));
  EXPECT_EQ(run.lines[1], std::string(100, 'x'));  // exactly at the limit: whole
  EXPECT_EQ(run.lines[2], "z");
  EXPECT_EQ(run.outcome.cut_lines, 1);
  EXPECT_EQ(run.outcome.exit_code, 0);
}

TEST(PosixProcessRunner, RunsTheChildAsTheGivenUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  auto user = ResolveCliUser(std::string("nobody"));
  ASSERT_TRUE(user.has_value() && user->has_value());
  PosixProcessRunner runner;
  auto spec = Shell("id -u; id -g; id -G");
  spec.run_as = **user;
  const auto run = RunShell(runner, spec);
  EXPECT_THAT(run.lines, ElementsAre(std::to_string((*user)->uid), std::to_string((*user)->gid),
                                     std::to_string((*user)->gid)));

  // A working directory the user cannot enter is a start error that names the user.
  testing::TempDir dir;  // 0700, root's
  spec.cwd = dir.path();
  auto outcome = runner.Run(spec, nullptr, nullptr);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_THAT(outcome.error().message, HasSubstr("working directory"));
  EXPECT_THAT(outcome.error().message, HasSubstr("nobody"));
}

// The stand-in worker of TheCliCannotReadTheWorkersEnvironment: hardened as the worker is, it
// runs a CLI that tries to read its environment and writes what the CLI saw to a file.
TEST(PosixProcessRunnerStandIn, DISABLED_WorkerWithAKey) {
  const char* out = std::getenv("SWARM_TEST_OUT");
  if (out == nullptr) GTEST_SKIP();
  ASSERT_TRUE(HardenProcess());
  auto spec = Shell(
      "id -u; for p in $PPID $WORKER_PID; do tr '\\0' '\\n' </proc/$p/environ; "
      "head -c 100000 /proc/$p/mem; done 2>/dev/null; echo end");
  spec.env["WORKER_PID"] = std::to_string(::getpid());
  if (const char* user = std::getenv("SWARM_TEST_RUN_AS")) {
    auto resolved = ResolveCliUser(std::string(user));
    ASSERT_TRUE(resolved.has_value() && resolved->has_value());
    spec.run_as = **resolved;
  }
  std::ofstream file(out);
  PosixProcessRunner runner;
  ASSERT_TRUE(runner.Run(
      spec, [&](std::string_view line) { file << line << "\n"; }, nullptr));
}

TEST(PosixProcessRunner, TheCliCannotReadTheWorkersEnvironment) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  constexpr char kKey[] = "swarm-key-the-cli-must-not-see-31337";
  testing::TempDir dir;
  auto run_standin = [&](std::map<std::string, std::string> env) {
    const auto out = dir.path() / "seen";
    env["SWARM_TEST_OUT"] = out.string();
    env["AGENT_SWARM_API_KEY"] = kKey;
    const pid_t pid = SpawnStandIn("PosixProcessRunnerStandIn.DISABLED_WorkerWithAKey", env);
    EXPECT_GT(pid, 0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return testing::ReadFile(out);
  };
  // As root, dumpable or not, the CLI reads the worker's key: the check below can fail.
  EXPECT_THAT(run_standin({}), HasSubstr(kKey));
  const std::string seen = run_standin({{"SWARM_TEST_RUN_AS", "nobody"}});
  EXPECT_THAT(seen, ::testing::StartsWith(std::to_string((*ResolveCliUser("nobody"))->uid)));
  EXPECT_THAT(seen, HasSubstr("end"));
  EXPECT_THAT(seen, Not(HasSubstr(kKey)));
}

}  // namespace
}  // namespace swarm::harness
