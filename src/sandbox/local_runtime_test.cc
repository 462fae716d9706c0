#include "sandbox/local_runtime.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "sandbox/local_files.h"
#include "sandbox/local_launch.h"
#include "support/child_process.h"

namespace swarm::sandbox {
namespace {

using namespace std::chrono_literals;
using testing_support::TempDir;

ProcessEvent Data(std::string text) {
  ProcessEvent e;
  e.kind = ProcessEvent::Kind::kStdout;
  e.data = std::move(text);
  return e;
}

TEST(ProcessOutputTest, ReplaysStartDataAndEndInOrder) {
  ProcessOutput output;
  output.Append(ProcessEvent{});
  output.Append(Data("a"));
  output.Append(Data("b"));
  auto first = output.ReadFrom(0);
  ASSERT_EQ(first.events.size(), 3u);
  EXPECT_EQ(first.events[0].kind, ProcessEvent::Kind::kStart);
  EXPECT_EQ(first.events[2].data, "b");
  EXPECT_FALSE(first.ended);
  EXPECT_TRUE(output.ReadFrom(first.next).events.empty());
  output.Append(EndEventForStatus(3 << 8));
  auto rest = output.ReadFrom(first.next);
  ASSERT_EQ(rest.events.size(), 1u);
  EXPECT_TRUE(rest.ended);
  EXPECT_EQ(rest.events[0].exit_code, 3);
  EXPECT_EQ(rest.events[0].status, "exit status 3");
  // A late reader still gets everything, the end once.
  EXPECT_EQ(output.ReadFrom(0).events.size(), 4u);
  EXPECT_TRUE(output.ReadFrom(rest.next).events.empty());
}

TEST(ProcessOutputTest, DropsTheOldestOutputBeyondTheCapButKeepsStartAndEnd) {
  ProcessOutput output(/*max_bytes=*/4);
  output.Append(ProcessEvent{});
  for (const char* piece : {"aa", "bb", "cc"}) output.Append(Data(piece));
  output.Append(EndEventForStatus(0));
  auto all = output.ReadFrom(0);
  ASSERT_EQ(all.events.size(), 4u);  // start, bb, cc, end
  EXPECT_EQ(all.events[1].data, "bb");
  EXPECT_EQ(output.retained_bytes(), 4u);
  // A reader that was at the dropped piece skips to what is left.
  EXPECT_EQ(output.ReadFrom(1).events.front().data, "bb");
}

TEST(ProcessOutputTest, WakesSubscribersAndBoundsThem) {
  ProcessOutput output(1 << 20, /*max_subscribers=*/1);
  std::atomic<int> woken{0};
  auto id = output.Subscribe([&] { ++woken; });
  ASSERT_TRUE(id);
  EXPECT_FALSE(output.Subscribe([] {}));
  output.Append(Data("x"));
  EXPECT_EQ(woken.load(), 1);
  output.Unsubscribe(*id);
  output.Append(Data("y"));
  EXPECT_EQ(woken.load(), 1);
  EXPECT_TRUE(output.Subscribe([] {}));
}

TEST(EndEventTest, NamesSignalsAsGoDoes) {
  auto killed = EndEventForStatus(SIGKILL);
  EXPECT_EQ(killed.exit_code, -1);
  EXPECT_FALSE(killed.exited);
  EXPECT_EQ(killed.status, "signal: killed");
  auto ok = EndEventForStatus(0);
  EXPECT_TRUE(ok.exited);
  EXPECT_EQ(ok.status, "exit status 0");
}

std::string Collect(LocalProcess& process, int kind_filter = 1) {
  std::string text;
  for (const auto& e : process.output().ReadFrom(0).events) {
    if ((kind_filter == 1 && e.kind == ProcessEvent::Kind::kStdout) ||
        (kind_filter == 2 && e.kind == ProcessEvent::Kind::kStderr)) {
      text += e.data;
    }
  }
  return text;
}

ProcessEvent EndOf(LocalProcess& process) {
  auto events = process.output().ReadFrom(0).events;
  return events.empty() ? ProcessEvent{} : events.back();
}

StartSpec Bash(std::string command) {
  StartSpec start;
  start.config.cmd = "/bin/bash";
  start.config.args = {"-c", std::move(command)};
  return start;
}

class LocalSandboxTest : public ::testing::TestWithParam<Isolation> {
 protected:
  std::unique_ptr<LocalSandbox> Make(std::map<std::string, std::string> env = {},
                                     bool limits = false) {
    static int counter = 0;
    LocalSandboxSpec spec;
    spec.id = "itest" + std::to_string(getpid()) + "x" + std::to_string(counter++);
    spec.dir = root_.path() + "/sandboxes/" + spec.id;
    spec.hide_dir = root_.path();
    spec.env_vars = std::move(env);
    if (limits) {
      spec.cpu_count = 1;
      spec.memory_mb = 256;
    }
    auto sandbox = LocalSandbox::Create(GetParam(), spec);
    EXPECT_TRUE(sandbox) << sandbox.error().message;
    return sandbox ? std::move(*sandbox) : nullptr;
  }
  TempDir root_;
};

TEST_P(LocalSandboxTest, RunsACommandWithOnlyItsEnvironment) {
  setenv("SANDBOXD_TEST_SECRET", "host-secret-value", 1);
  auto sandbox = Make({{"GREETING", "hello"}});
  ASSERT_TRUE(sandbox);
  auto process = sandbox->Start(Bash("echo $GREETING; echo oops >&2; env; exit 3"));
  ASSERT_TRUE(process) << process.error().message;
  ASSERT_TRUE((*process)->WaitEnded(10s));
  const std::string out = Collect(**process);
  EXPECT_EQ(out.rfind("hello\n", 0), 0u) << out;
  EXPECT_EQ(out.find("host-secret-value"), std::string::npos) << out;
  EXPECT_NE(out.find("E2B_SANDBOX=true"), std::string::npos);
  EXPECT_EQ(Collect(**process, 2), "oops\n");
  EXPECT_EQ(EndOf(**process).exit_code, 3);
  unsetenv("SANDBOXD_TEST_SECRET");
}

TEST_P(LocalSandboxTest, KillLeavesNoProcess) {
  auto sandbox = Make({}, /*limits=*/true);
  ASSERT_TRUE(sandbox);
  // The cgroups (where the machine lets sandboxd make them) go with the sandbox.
  const std::vector<std::string> groups = sandbox->cgroup_dirs();
  auto process = sandbox->Start(Bash("sleep 300 & sleep 300 & setsid sleep 300 & wait"));
  ASSERT_TRUE(process) << process.error().message;
  ASSERT_TRUE(testing_support::WaitUntil([&] { return sandbox->LeftoverPids().size() >= 3; }, 5s));
  const std::string dir = sandbox->dir();
  sandbox->Kill();
  EXPECT_TRUE(sandbox->LeftoverPids().empty());
  EXPECT_FALSE((*process)->running());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(sandbox->alive());
  for (const auto& group : groups) EXPECT_FALSE(std::filesystem::exists(group)) << group;
}

TEST_P(LocalSandboxTest, DeadlineKillsTheProcess) {
  auto sandbox = Make();
  ASSERT_TRUE(sandbox);
  auto start = Bash("sleep 30");
  start.timeout = 200ms;
  auto process = sandbox->Start(start);
  ASSERT_TRUE(process);
  ASSERT_TRUE((*process)->WaitEnded(5s));
  EXPECT_EQ(EndOf(**process).status, "signal: killed");
}

TEST_P(LocalSandboxTest, StdinReachesTheProcess) {
  auto sandbox = Make();
  ASSERT_TRUE(sandbox);
  auto start = Bash("cat");
  start.stdin = true;
  auto process = sandbox->Start(start);
  ASSERT_TRUE(process);
  ASSERT_TRUE((*process)->WriteStdin("piped\n"));
  ASSERT_TRUE((*process)->CloseStdin());
  ASSERT_TRUE((*process)->WaitEnded(5s));
  EXPECT_EQ(Collect(**process), "piped\n");
}

TEST_P(LocalSandboxTest, SignalEndsTheProcessAndIsFalseOnceEnded) {
  auto sandbox = Make();
  ASSERT_TRUE(sandbox);
  auto process = sandbox->Start(Bash("sleep 30"));
  ASSERT_TRUE(process);
  EXPECT_EQ(sandbox->FindPid((*process)->pid()), *process);
  EXPECT_TRUE((*process)->Signal(SIGTERM));
  ASSERT_TRUE((*process)->WaitEnded(5s));
  EXPECT_EQ(EndOf(**process).status, "signal: terminated");
  EXPECT_FALSE((*process)->Signal(SIGKILL));
  EXPECT_TRUE(sandbox->Running().empty());
}

INSTANTIATE_TEST_SUITE_P(Both, LocalSandboxTest,
                         ::testing::Values(Isolation::kBubblewrap, Isolation::kProcessGroup),
                         [](const auto& info) {
                           return info.param == Isolation::kBubblewrap ? "Bubblewrap"
                                                                       : "ProcessGroup";
                         });

TEST(BubblewrapTest, ProbeFindsBubblewrapHere) {
  // scripts/setup.sh installs bubblewrap; without it sandboxes are not isolated.
  std::string why;
  EXPECT_EQ(ProbeIsolation(&why), Isolation::kBubblewrap) << why;
}

TEST(BubblewrapTest, SandboxesHaveTheirOwnPidNamespaceAndTmp) {
  TempDir root;
  auto make = [&](const std::string& id) {
    LocalSandboxSpec spec;
    spec.id = id;
    spec.dir = root.path() + "/sandboxes/" + id;
    spec.hide_dir = root.path();
    auto sandbox = LocalSandbox::Create(Isolation::kBubblewrap, spec);
    EXPECT_TRUE(sandbox) << sandbox.error().message;
    return std::move(*sandbox);
  };
  auto a = make("bwa");
  auto b = make("bwb");
  auto marker = a->Start(Bash("echo a > /tmp/mark-a; exec sleep 30"));
  ASSERT_TRUE(marker);
  ASSERT_TRUE(testing_support::WaitUntil(
      [&] { return std::filesystem::exists(a->dir() + "/tmp/mark-a"); }, 5s));
  auto look = b->Start(Bash("ls /proc | grep -c '^[0-9]'; ls /tmp; ls " + root.path() +
                            " | wc -l; touch /usr/x 2>&1 || echo ro"));
  ASSERT_TRUE(look);
  ASSERT_TRUE((*look)->WaitEnded(5s));
  const std::string out = Collect(**look);
  // pid 1 (bwrap's init), its shell, and this bash (and its ls): never sandbox a's sleep.
  EXPECT_EQ(out.find("mark-a"), std::string::npos) << out;
  EXPECT_NE(out.find("ro\n"), std::string::npos) << out;
  EXPECT_LT(std::stoi(out), 6) << out;
  EXPECT_NE(out.find("\n0\n"), std::string::npos) << "the state dir is visible: " << out;
}

TEST(BubblewrapTest, RootKeepsAContainersRightsButNothingPastTheNamespaces) {
  TempDir root;
  LocalSandboxSpec spec;
  spec.id = "bwcaps";
  spec.dir = root.path() + "/sandboxes/bwcaps";
  spec.hide_dir = root.path();
  auto sandbox = LocalSandbox::Create(Isolation::kBubblewrap, spec);
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  // A worker hands each run's directory to an unprivileged user and runs the CLI as it; a
  // device node or a remount would reach past the sandbox.
  auto run = (*sandbox)->Start(
      Bash("mkdir /tmp/w && chown nobody /tmp/w && stat -c %U /tmp/w; "
           "setpriv --reuid=nobody --regid=nogroup --clear-groups id -un 2>&1; "
           "mknod /tmp/disk b 8 0 2>/dev/null && echo mknod-allowed || echo no-mknod; "
           "mount -o remount,rw / 2>/dev/null && echo remounted || echo no-remount"));
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->WaitEnded(5s));
  const std::string out = Collect(**run);
  EXPECT_NE(out.find("nobody\nnobody\n"), std::string::npos) << out;
  EXPECT_NE(out.find("no-mknod"), std::string::npos) << out;
  EXPECT_NE(out.find("no-remount"), std::string::npos) << out;
}

}  // namespace
}  // namespace swarm::sandbox

namespace swarm::sandbox {
namespace {

TEST(BubblewrapTest, TemplateFilesAppearReadOnlyAtTheirPathsOverTheHostRoot) {
  TempDir root;
  TempDir files;
  std::ofstream(files.File("entry.sh")) << "#!/bin/sh\necho from-template\n";
  std::filesystem::permissions(files.File("entry.sh"), std::filesystem::perms::owner_all);
  std::ofstream(files.File("tool")) << "data";
  LocalSandboxSpec spec;
  spec.id = "bwtpl";
  spec.dir = root.path() + "/sandboxes/bwtpl";
  spec.hide_dir = root.path();
  spec.ro_binds = {{files.File("entry.sh"), "/docker-entrypoint.sh"},
                   {files.File("tool"), "/usr/local/share/sandboxd-test/tool"},
                   {files.File("tool"), "/home/user/tool"}};
  auto sandbox = LocalSandbox::Create(Isolation::kBubblewrap, spec);
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  auto run = (*sandbox)->Start(Bash(
      "/docker-entrypoint.sh; cat /usr/local/share/sandboxd-test/tool; echo; cat ~/tool; echo; "
      "ls /usr/bin/env; touch /new 2>/dev/null || echo root-ro; "
      "touch /usr/local/share/x 2>/dev/null || echo share-ro; echo hi > /tmp/ok && cat /tmp/ok"));
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->WaitEnded(10s));
  EXPECT_EQ(Collect(**run), "from-template\ndata\ndata\n/usr/bin/env\nroot-ro\nshare-ro\nhi\n")
      << Collect(**run, 2);
  EXPECT_FALSE(std::filesystem::exists("/docker-entrypoint.sh"));
}

}  // namespace
}  // namespace swarm::sandbox

namespace swarm::sandbox {
namespace {

TEST(LocalFilesTest, ResolveInsideTheSandboxAndRefuseWhatIsNotARegularFile) {
  TempDir root;
  LocalSandboxSpec spec;
  spec.id = "files";
  spec.dir = root.path() + "/sandboxes/files";
  spec.hide_dir = root.path();
  auto sandbox = LocalSandbox::Create(Isolation::kBubblewrap, spec);
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  auto setup = (*sandbox)->Start(
      Bash("mkfifo /tmp/fifo && ln -s /etc/hostname /tmp/link && ln -s / /tmp/rootlink"));
  ASSERT_TRUE(setup);
  ASSERT_TRUE((*setup)->WaitEnded(5s));
  auto fifo = ReadSandboxFile(**sandbox, "/tmp/fifo", 1 << 20);
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().code, ErrorCode::kBadRequest);
  // Symlinks resolve in the sandbox's root: /etc/hostname is the host's (read-only) one.
  EXPECT_TRUE(ReadSandboxFile(**sandbox, "/tmp/link", 1 << 20));
  auto written = WriteSandboxFile(**sandbox, "deep/er/file.txt", "x");
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(*written, "/home/user/deep/er/file.txt");
  EXPECT_EQ(testing_support::ReadFile(spec.dir + "/home/deep/er/file.txt"), "x");
  // Through a symlink to the root, a write still lands inside the sandbox (read-only there).
  auto escape = WriteSandboxFile(**sandbox, "/tmp/rootlink/etc/sandboxd-escape", "x");
  EXPECT_FALSE(escape);
  EXPECT_FALSE(std::filesystem::exists("/etc/sandboxd-escape"));
  auto missing = ReadSandboxFile(**sandbox, "/nope", 1 << 20);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "path '/nope' does not exist");
}

}  // namespace
}  // namespace swarm::sandbox

namespace swarm::sandbox {
namespace {

TEST(LocalFilesTest, DirectoriesListStatAndRemoveStayInsideTheSandbox) {
  TempDir root;
  TempDir outside;
  std::ofstream(outside.File("keep")) << "keep";
  LocalSandboxSpec spec;
  spec.id = "dirs";
  spec.dir = root.path() + "/sandboxes/dirs";
  spec.hide_dir = root.path();
  auto sandbox = LocalSandbox::Create(Isolation::kBubblewrap, spec);
  ASSERT_TRUE(sandbox) << sandbox.error().message;
  auto made = MakeSandboxDir(**sandbox, "a/b");
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->type, SandboxFileInfo::Type::kDirectory);
  EXPECT_EQ(MakeSandboxDir(**sandbox, "a/b").error().code, ErrorCode::kConflict);
  ASSERT_TRUE(WriteSandboxFile(**sandbox, "a/b/f", "12345"));
  // A symlink to a host directory outside the sandbox's view (hidden state dir) and to /.
  auto setup = (*sandbox)->Start(Bash("ln -s / /home/user/a/root"));
  ASSERT_TRUE(setup);
  ASSERT_TRUE((*setup)->WaitEnded(5s));

  auto listed = ListSandboxDir(**sandbox, "/home/user/a", 2);
  ASSERT_TRUE(listed) << listed.error().message;
  std::map<std::string, SandboxFileInfo::Type> types;
  for (const auto& e : *listed) types[e.path] = e.type;
  EXPECT_EQ(types.size(), 3u);
  EXPECT_EQ(types["/home/user/a/b"], SandboxFileInfo::Type::kDirectory);
  EXPECT_EQ(types["/home/user/a/b/f"], SandboxFileInfo::Type::kFile);
  EXPECT_EQ(types["/home/user/a/root"], SandboxFileInfo::Type::kSymlink);
  auto link = StatSandboxPath(**sandbox, "a/root");
  ASSERT_TRUE(link);
  EXPECT_EQ(link->symlink_target, "/");
  EXPECT_EQ(StatSandboxPath(**sandbox, "a/b/f")->size, 5);

  // Removing the tree removes the link, never what it points at.
  ASSERT_TRUE(RemoveSandboxPath(**sandbox, "a"));
  EXPECT_FALSE(StatSandboxPath(**sandbox, "a"));
  EXPECT_TRUE(std::filesystem::exists(outside.File("keep")));
  EXPECT_TRUE(std::filesystem::exists("/usr/bin/env"));
  EXPECT_EQ(RemoveSandboxPath(**sandbox, "a").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(RemoveSandboxPath(**sandbox, "/"));
}

}  // namespace
}  // namespace swarm::sandbox
