// `agent-swarm smoke --local` end to end: the command starts sandboxd, stub-llm and an API on
// loopback, builds the worker template, runs the four providers' real CLIs through the API's
// smoke runner, prints the report and stops everything. Checked: the exit status, the report,
// no sandbox and no process of one left, no child left, no key in any process's argv while it
// runs, and Ctrl-C midway.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string HarnessBinDir() { return HARNESS_BIN_DIR; }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Watches every process's argv on a thread of its own while the command runs: the random keys
// of --local (swarm-/sandboxd- and 32 hex digits) and the stand-in provider keys must never be
// there.
class ArgvWatch {
 public:
  ArgvWatch() : thread_([this] { Run(); }) {}
  ~ArgvWatch() { Finish(); }
  std::vector<std::string> Finish() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    return found_;
  }

 private:
  void Run() {
    static const std::regex kSecret(
        "(swarm|sandboxd)-[0-9a-f]{32}|sk-ant-stub-model-unused|sk-stub-model-unused");
    while (!done_) {
      for (const auto& argv : AllCommandLines()) {
        if (std::regex_search(argv, kSecret)) found_.push_back(argv);
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  std::atomic<bool> done_{false};
  std::vector<std::string> found_;
  std::thread thread_;
};

class SmokeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* cli : {"claude", "codex", "opencode", "pi"}) {
      ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/" + cli))
          << "the " << cli << " CLI is not installed in " << HarnessBinDir()
          << ": run ./scripts/install-harnesses.sh";
    }
    // Run as root, sandboxed CLIs run as another user: the temp dir must be passable.
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all |
                                                  std::filesystem::perms::group_exec |
                                                  std::filesystem::perms::others_exec);
  }

  // The command's environment: no provider credential, no swarm key of the caller's.
  std::map<std::string, std::string> Env() const {
    return {{"HARNESS_BIN_DIR", HarnessBinDir()},
            {"TMPDIR", dir_.path()},
            {"PATH", HarnessBinDir() + ":/usr/local/bin:/usr/bin:/bin"}};
  }

  // Work directories the command made (agent-swarm-smoke-*): kept only when a run failed.
  std::vector<std::string> WorkDirs() const {
    std::vector<std::string> dirs;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      if (Contains(entry.path().filename().string(), "agent-swarm-smoke-")) {
        dirs.push_back(entry.path().string());
      }
    }
    return dirs;
  }

  // Processes whose argv names `needle` (a work dir: the command's children use it).
  static std::vector<std::string> ProcessesNaming(const std::string& needle) {
    std::vector<std::string> found;
    for (const auto& argv : AllCommandLines()) {
      if (Contains(argv, needle)) found.push_back(argv);
    }
    return found;
  }

  TempDir dir_;
};

TEST_F(SmokeCliTest, LocalStubModelRunPassesForAllFourProviders) {
  ArgvWatch watch;
  const auto started = std::chrono::steady_clock::now();
  const CommandResult run = RunCommand({AgentSwarmBinary(), "smoke", "--local", "--stub-model",
                                        "--providers", "claude,codex,pi,opencode", "--json"},
                                       Env(), seconds(300));
  const auto took = std::chrono::steady_clock::now() - started;
  const auto secrets_in_argv = watch.Finish();
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_TRUE(secrets_in_argv.empty()) << secrets_in_argv.front();

  const json report = json::parse(run.out);
  EXPECT_EQ(report["status"], "passed");
  EXPECT_EQ(report["ok"], true);
  ASSERT_EQ(report["results"].size(), 4u);
  for (const auto& result : report["results"]) {
    const std::string provider = result["provider"];
    SCOPED_TRACE(provider);
    EXPECT_EQ(result["ok"], true) << result.dump();
    EXPECT_EQ(result["taskStatus"], "completed");
    EXPECT_FALSE(result.value("sessionId", "").empty());
    EXPECT_EQ(json::parse(result.value("output", "null")), json({{"reply", "pong"}}));
    EXPECT_GT(result["logLines"].get<int>(), 0);
    // The stub model finishes through the swarm's MCP server, as the prompt asks a real one to.
    EXPECT_EQ(result.value("finishedVia", ""), "mcp") << result.dump();
    EXPECT_EQ(result["workerVersion"], report["apiVersion"]);
    EXPECT_EQ(result["sandboxKilled"], true);
    EXPECT_TRUE(SandboxProcesses(result["sandboxId"]).empty());
  }
  EXPECT_TRUE(Contains(run.err, "== sandboxd: 0 sandbox(es) left")) << run.err;
  for (const char* provider : {"claude", "codex", "pi", "opencode"}) {
    EXPECT_TRUE(Contains(run.err, std::string("] ") + provider + ": passed")) << run.err;
  }
  // Its work dir is gone with every child that used it.
  EXPECT_TRUE(WorkDirs().empty());
  EXPECT_TRUE(ProcessesNaming(dir_.path() + "/agent-swarm-smoke-").empty());
  std::cerr << "four providers, local stub model: "
            << std::chrono::duration_cast<milliseconds>(took).count() << " ms\n";
}

TEST_F(SmokeCliTest, MissingCredentialsFailEveryProviderWithoutASandbox) {
  // Without --stub-model the API gets the caller's credentials: here none.
  const CommandResult run = RunCommand(
      {AgentSwarmBinary(), "smoke", "--local", "--providers", "claude,codex"}, Env(), seconds(120));
  EXPECT_EQ(run.status, 1) << run.out << run.err;
  EXPECT_TRUE(Contains(run.out, "ANTHROPIC_API_KEY")) << run.out;
  EXPECT_TRUE(Contains(run.out, "OPENAI_API_KEY")) << run.out;
  EXPECT_TRUE(Contains(run.out, "smoke run ")) << run.out;
  EXPECT_TRUE(Contains(run.out, "failed: 0/2 provider(s) ok")) << run.out;
  EXPECT_TRUE(Contains(run.err, "== sandboxd: 0 sandbox(es) left")) << run.err;
  // A failed run keeps its work dir with the logs; sandboxd never created a sandbox.
  const auto dirs = WorkDirs();
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_FALSE(Contains(ReadFile(dirs[0] + "/sandboxd.log"), "\"sandbox created\""));
  EXPECT_TRUE(ProcessesNaming(dirs[0]).empty());
}

TEST_F(SmokeCliTest, CtrlCMidRunStopsEverythingAndLeavesNothing) {
  const std::string err_path = dir_.File("smoke.err");
  ChildProcess cli(ChildSpec{
      {AgentSwarmBinary(), "smoke", "--local", "--stub-model", "--providers", "claude,codex"},
      Env(),
      dir_.File("smoke.out"),
      err_path});
  // The signal comes as soon as a sandbox is up: the run is midway.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string err = ReadFile(err_path);
        return Contains(err, "sandbox up, starting worker") || Contains(err, "worker registered") ||
               Contains(err, "task running");
      },
      seconds(120), milliseconds(10)))
      << ReadFile(err_path);
  const auto dirs = WorkDirs();
  ASSERT_EQ(dirs.size(), 1u);
  ASSERT_FALSE(ProcessesNaming(dirs[0]).empty());  // the children are there
  cli.Signal(SIGINT);
  const auto status = cli.Wait(seconds(90));
  ASSERT_TRUE(status.has_value()) << ReadFile(err_path);
  EXPECT_EQ(*status, 1);
  const std::string err = ReadFile(err_path);
  EXPECT_TRUE(Contains(err, "stopped following smoke run")) << err;
  EXPECT_FALSE(Contains(err, "goes on in the API")) << err;  // the local API stopped with it
  EXPECT_TRUE(Contains(err, "== sandboxd: 0 sandbox(es) left")) << err;
  EXPECT_TRUE(ProcessesNaming(dirs[0]).empty());
  // Every sandbox sandboxd made is gone with its processes.
  std::istringstream lines(ReadFile(dirs[0] + "/sandboxd.log"));
  std::string line;
  int created = 0;
  while (std::getline(lines, line)) {
    const json entry = json::parse(line, nullptr, false);
    if (!entry.is_object() || entry.value("msg", "") != "sandbox created") continue;
    ++created;
    EXPECT_TRUE(SandboxProcesses(entry.value("sandboxID", "")).empty());
  }
  EXPECT_GE(created, 1);
}

}  // namespace
}  // namespace swarm::testing_support
