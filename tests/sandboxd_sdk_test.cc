// The official e2b npm SDK (tests/e2b_sdk, pinned) against the real sandboxd: runs
// tests/e2b_sdk/sdk_check.mjs (issue 7's "Must show" list for the SDK), then checks in /proc
// that no process of any sandbox it made is left.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_process.h"
#include "support/child_process.h"

namespace swarm {
namespace {

using namespace std::chrono_literals;
using testing_support::ChildProcess;
using testing_support::SandboxProcesses;
using testing_support::TempDir;

constexpr const char* kKey = "sandboxd-sdk-test-key-93ab";

std::string FindNode() {
  std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(path, dir, ':')) {
    if (!dir.empty() && access((dir + "/node").c_str(), X_OK) == 0) return dir + "/node";
  }
  return "";
}

TEST(SandboxdSdkTest, OfficialSdkWorksAgainstSandboxd) {
  const std::string sdk_dir = E2B_SDK_DIR;
  ASSERT_TRUE(std::filesystem::exists(sdk_dir + "/node_modules/e2b/package.json"))
      << "the e2b SDK is not installed: run npm ci in tests/e2b_sdk (scripts/setup.sh does)";
  const std::string node = FindNode();
  ASSERT_FALSE(node.empty()) << "node is not on PATH";

  TempDir dir;
  const std::string log = dir.File("sandboxd.log");
  ChildProcess server(testing_support::ChildSpec{
      {testing_support::AgentSwarmBinary(), "sandboxd", "--port", "0", "--root", dir.File("root")},
      {{"SANDBOXD_API_KEY", kKey}},
      "/dev/null",
      log});
  const uint16_t port = testing_support::WaitListening(server, log, "sandboxd");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);

  auto run = testing_support::RunCommand(
      {node, sdk_dir + "/sdk_check.mjs"},
      {{"E2B_API_URL", url}, {"E2B_SANDBOX_URL", url}, {"E2B_API_KEY", kKey}}, 90s);
  EXPECT_EQ(run.status, 0) << run.out << run.err << "\nsandboxd log:\n"
                           << testing_support::ReadFile(log);
  for (const char* step :
       {"Sandbox.create with envs and metadata", "foreground command: stdout, stderr, exit code",
        "background command alive after the client disconnected", "commands.list",
        "files.write then files.read", "reading a missing file fails with the not-found error",
        "Sandbox.list with a metadata filter", "kill: true, then false for a gone sandbox",
        "a sandbox past its timeout is killed by sandboxd"}) {
    EXPECT_NE(run.out.find(std::string("ok ") + step), std::string::npos) << step;
  }
  // The last line names the sandboxes: none may have a process left.
  const auto last = run.out.rfind("{\"sandboxes\"");
  ASSERT_NE(last, std::string::npos) << run.out;
  auto ids = nlohmann::json::parse(run.out.substr(last), nullptr, false);
  ASSERT_TRUE(ids.is_object()) << run.out;
  EXPECT_EQ(ids["sandboxes"].size(), 4u);
  for (const auto& id : ids["sandboxes"]) {
    EXPECT_EQ(SandboxProcesses(id.get<std::string>()).size(), 0u) << "processes left of " << id;
  }
  EXPECT_EQ(testing_support::ReadFile(log).find(kKey), std::string::npos);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(10s).value_or(-1), 0);
}

}  // namespace
}  // namespace swarm
