// End to end through sandboxes, per provider: `agent-swarm e2b start-worker` against a local
// sandboxd (E2B's protocol) and a local API, the worker running the real CLI (claude, codex,
// opencode, pi from ./scripts/install-harnesses.sh) against stub-llm inside a bubblewrap
// sandbox built from a template holding docker/docker-entrypoint.sh. The worker registers
// under the id it was given and completes the seed's smoke task; `agent-swarm e2b kill`
// leaves no process of the sandbox behind. A worker that exits at once fails start-worker
// with its log tail and leaves no sandbox.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_process.h"
#include "support/stub_llm_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kSandboxdKey[] = "sandboxd-e2e-key-3c9d1a";
constexpr char kTemplate[] = "e2e-sandbox-worker";

std::string HarnessBinDir() { return HARNESS_BIN_DIR; }
std::string SourceDir() { return SWARM_SOURCE_DIR; }

// sandboxd + API + stub-llm, and the worker template built through `e2b build-template`.
class SandboxWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/claude"))
        << "the harness CLIs are not installed in " << HarnessBinDir()
        << ": run ./scripts/install-harnesses.sh";
    sandboxd_ = std::make_unique<ChildProcess>(
        ChildSpec{{AgentSwarmBinary(), "sandboxd", "--port", "0", "--root", dir_.File("sandboxd")},
                  {{"SANDBOXD_API_KEY", kSandboxdKey}},
                  "/dev/null",
                  sandboxd_log_});
    const uint16_t port = WaitListening(*sandboxd_, sandboxd_log_, "sandboxd");
    sandboxd_url_ = "http://127.0.0.1:" + std::to_string(port);

    const CommandResult built = E2b(
        {"build-template", "--role", "worker", "--worker-template", kTemplate, "--image", "local",
         "--copy", SourceDir() + "/docker/docker-entrypoint.sh:/docker-entrypoint.sh"});
    ASSERT_EQ(built.status, 0) << built.out << built.err << "\nsandboxd log:\n" << SandboxdLog();
  }

  void TearDown() override {
    // A graceful stop: sandboxd kills what is left of its sandboxes.
    if (sandboxd_ && sandboxd_->running()) {
      sandboxd_->Signal(SIGTERM);
      sandboxd_->Wait(seconds(10));
    }
  }

  // `agent-swarm e2b ARGS` pointed at sandboxd, the swarm key in its environment only.
  CommandResult E2b(std::vector<std::string> args, milliseconds timeout = seconds(60)) const {
    args.insert(args.begin(), {AgentSwarmBinary(), "e2b"});
    return RunCommand(args,
                      {{"E2B_API_KEY", kSandboxdKey},
                       {"E2B_API_URL", sandboxd_url_},
                       {"E2B_SANDBOX_URL", sandboxd_url_},
                       {"AGENT_SWARM_API_KEY", kTestApiKey}},
                      timeout);
  }

  // What the worker needs in the sandbox, which sees the host's root read-only but none of
  // this process's environment.
  std::vector<std::string> WorkerSecrets() const {
    const std::map<std::string, std::string> env = {
        {"AGENT_SWARM_BIN", AgentSwarmBinary()},
        {"HARNESS_BIN_DIR", HarnessBinDir()},
        {"PATH", HarnessBinDir() + ":/usr/local/bin:/usr/bin:/bin"},
        {"ANTHROPIC_BASE_URL", llm_.url()},
        {"ANTHROPIC_API_KEY", "sk-ant-e2e-sandbox-fake-0001"},
        {"OPENAI_BASE_URL", llm_.openai_url()},
        {"OPENAI_API_KEY", "sk-e2e-sandbox-fake-0002"},
        {"MAX_CONCURRENT_TASKS", "1"},
        {"WORKER_YOLO", "true"},
        {"SLACK_DISABLE", "true"},
        {"GITHUB_DISABLE", "true"},
        {"WORKER_TASK_TIMEOUT_SECONDS", "120"},
        {"WORKER_API_READY_TIMEOUT_SECONDS", "20"},
    };
    std::vector<std::string> args;
    for (const auto& [k, v] : env) args.insert(args.end(), {"--secret", k + "=" + v});
    return args;
  }

  CommandResult StartWorker(const std::string& agent_id, const std::string& provider,
                            std::vector<std::string> extra_secrets = {}) const {
    std::vector<std::string> args = {"start-worker", "--template", kTemplate, "--api-url",
                                     api_.url(),     "--agent-id", agent_id,  "--provider",
                                     provider,       "--wait-ms",  "30000",   "--json"};
    for (const auto& secret : WorkerSecrets()) args.push_back(secret);
    for (const auto& secret : extra_secrets) args.insert(args.end(), {"--secret", secret});
    return E2b(args);
  }

  // The sandboxes `e2b list --json` shows, by id.
  std::vector<std::string> Listed() const {
    const CommandResult listed = E2b({"list", "--json"});
    EXPECT_EQ(listed.status, 0) << listed.err;
    std::vector<std::string> ids;
    const json out = json::parse(listed.out, nullptr, false);
    EXPECT_TRUE(out.is_array()) << listed.out;
    if (out.is_array()) {
      for (const auto& sandbox : out) ids.push_back(sandbox.value("sandboxId", ""));
    }
    return ids;
  }

  std::string SandboxdLog() const { return ReadFile(sandboxd_log_); }
  // The logs, the worker's (in the sandbox's /tmp, on the host under sandboxd's root) first.
  std::string Logs(const std::string& sandbox_id = "") const {
    std::string worker;
    if (!sandbox_id.empty()) {
      worker = "worker log:\n" +
               ReadFile(dir_.File("sandboxd/sandboxes/" + sandbox_id +
                                  "/tmp/agent-swarm-e2b-worker.log")) +
               "\n";
    }
    return worker + "sandboxd log:\n" + SandboxdLog() + "\nstub-llm log:\n" + llm_.log() +
           "\nAPI log:\n" + api_.log();
  }

  TempDir dir_;
  std::string sandboxd_log_ = dir_.File("sandboxd.log");
  ApiProcess api_{dir_.File("swarm.sqlite")};
  StubLlmProcess llm_{dir_.File("llm.log"), {"--reply", R"({"reply":"pong"})"}};
  TestApi client_{api_.url()};
  std::unique_ptr<ChildProcess> sandboxd_;
  std::string sandboxd_url_;
};

class SandboxWorkerProviders : public SandboxWorkerTest,
                               public ::testing::WithParamInterface<std::string> {};

TEST_P(SandboxWorkerProviders, RegistersCompletesTheSmokeTaskAndKillLeavesNoProcess) {
  const std::string provider = GetParam();
  ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/" + provider))
      << "the " << provider << " CLI is not installed: run ./scripts/install-harnesses.sh";
  const std::string agent_id = "sandbox-" + provider + "-e2e";

  const CommandResult started = StartWorker(agent_id, provider);
  ASSERT_EQ(started.status, 0) << started.out << started.err << "\n" << Logs();
  const json launched = json::parse(started.out, nullptr, false);
  ASSERT_TRUE(launched.is_object()) << started.out;
  const std::string sandbox_id = launched.value("sandboxId", "");
  ASSERT_FALSE(sandbox_id.empty()) << started.out;
  EXPECT_EQ(launched.value("agentId", ""), agent_id);
  EXPECT_EQ(launched.value("registered", false), true);
  EXPECT_EQ(launched["metadata"].value("agentId", ""), agent_id);
  // --json carries no secret: the swarm key nor the model keys passed with --secret.
  for (const char* secret : {kTestApiKey, "sk-ant-e2e-sandbox-fake-0001", kSandboxdKey}) {
    EXPECT_EQ(started.out.find(secret), std::string::npos) << secret;
    EXPECT_EQ(started.err.find(secret), std::string::npos) << secret;
  }
  EXPECT_FALSE(SandboxProcesses(sandbox_id).empty()) << "the worker does not run in the sandbox";

  const Reply agent = client_.Get("/api/agents/" + agent_id);
  ASSERT_EQ(agent.status, 200) << agent.raw;

  const Reply created = client_.Post("/api/tasks", {{"task", "Reply with exactly: pong"},
                                                    {"agentId", agent_id},
                                                    {"source", "api"},
                                                    {"outputSchema", SeedOutputSchema()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string task_id = created.body.value("id", "");
  json task;
  WaitUntil(
      [&] {
        task = client_.Get("/api/tasks/" + task_id).body;
        const std::string status = task.value("status", "");
        return status == "completed" || status == "failed" || status == "cancelled";
      },
      seconds(150), milliseconds(200));
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << Logs(sandbox_id);
  EXPECT_EQ(json::parse(task["output"].get<std::string>()), json({{"reply", "pong"}}));
  EXPECT_EQ(task.value("provider", ""), provider);

  const CommandResult killed = E2b({"kill", sandbox_id});
  EXPECT_EQ(killed.status, 0) << killed.out << killed.err;
  EXPECT_NE(killed.out.find(sandbox_id + " killed"), std::string::npos) << killed.out;
  EXPECT_TRUE(WaitUntil([&] { return SandboxProcesses(sandbox_id).empty(); }, seconds(10),
                        milliseconds(100)))
      << SandboxProcesses(sandbox_id).size() << " processes of the sandbox outlived its kill";
  const auto listed = Listed();
  EXPECT_EQ(std::count(listed.begin(), listed.end(), sandbox_id), 0) << "still listed";
}

INSTANTIATE_TEST_SUITE_P(Providers, SandboxWorkerProviders,
                         ::testing::Values("claude", "codex", "opencode", "pi"),
                         [](const auto& info) { return info.param; });

TEST_F(SandboxWorkerTest, AWorkerThatExitsAtOnceFailsWithItsLogTailAndLeavesNoSandbox) {
  const auto start = std::chrono::steady_clock::now();
  // The entrypoint finds the API, then execs a "worker" that exits 1 at once.
  const CommandResult started =
      StartWorker("sandbox-dies-e2e", "claude", {"AGENT_SWARM_BIN=/bin/false"});
  EXPECT_EQ(started.status, 1) << started.out << started.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(20)) << "it waited for registration";
  EXPECT_NE(started.err.find("exited at once"), std::string::npos) << started.err;
  // The log's tail: the entrypoint's own last words before it became the worker.
  EXPECT_NE(started.err.find("[entrypoint] API ready"), std::string::npos) << started.err;
  EXPECT_EQ(started.err.find(kTestApiKey), std::string::npos);

  const auto created = SandboxdCreatedSandboxes(SandboxdLog());
  ASSERT_EQ(created.size(), 1u) << SandboxdLog();
  EXPECT_TRUE(WaitUntil([&] { return SandboxProcesses(created[0]).empty(); }, seconds(10),
                        milliseconds(100)));
  EXPECT_TRUE(Listed().empty());
  EXPECT_EQ(client_.Get("/api/agents/sandbox-dies-e2e").status, 404);
}

}  // namespace
}  // namespace swarm::testing_support
