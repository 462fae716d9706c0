// End to end, per provider: the real API, stub-llm and a real worker running the real CLI
// (claude, codex, opencode, pi from ./scripts/install-harnesses.sh). The seed's smoke task
// must complete with {"reply":"pong"}, a provider session id, session logs, tokens and, where
// the CLI reports it, cost.
#include <signal.h>

#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/worker_deployment.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kPong[] = R"({"reply":"pong"})";

// The seed's smoke deployment for `provider`: stub-llm answering `reply`, the worker set up as
// the seed runs it, with `env` on top.
DeploymentOptions Smoke(const std::string& provider, const std::string& reply,
                        std::map<std::string, std::string> env = {}) {
  env.insert({{"API_KEY", kTestApiKey},
              {"AGENT_ROLE", "worker"},
              {"WORKER_YOLO", "true"},
              {"SLACK_DISABLE", "true"},
              {"GITHUB_DISABLE", "true"}});
  DeploymentOptions options;
  options.provider = provider;
  options.agent_id = "smoke-" + provider + "-e2e";
  options.llm_args = {"--reply", reply};
  options.worker_env = std::move(env);
  return options;
}

class ProviderSmoke : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string cli = GetParam() == "opencode" ? "opencode" : GetParam();
    ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/" + cli))
        << "the " << cli << " CLI is not installed in " << HarnessBinDir()
        << ": run ./scripts/install-harnesses.sh";
  }
};

TEST_P(ProviderSmoke, SeedTaskCompletesThroughTheRealCli) {
  WorkerDeployment d(Smoke(GetParam(), kPong));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask("Reply with exactly: pong");
  json task = d.WaitTerminal(id);
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << d.Logs();
  EXPECT_EQ(json::parse(task["output"].get<std::string>()), json({{"reply", "pong"}}));
  EXPECT_TRUE(task["claudeSessionId"].is_string()) << task.dump(2);
  EXPECT_EQ(task["provider"], GetParam());

  Reply logs = d.api().Get("/api/tasks/" + id + "/session-logs");
  EXPECT_GE(logs.body["logs"].size(), 1u);
  Reply costs = d.api().Get("/api/session-costs?taskId=" + id);
  ASSERT_EQ(costs.body["costs"].size(), 1u) << costs.raw;
  const json& cost = costs.body["costs"][0];
  EXPECT_GT(cost["inputTokens"].get<int64_t>(), 0) << cost.dump();
  EXPECT_GT(cost["outputTokens"].get<int64_t>(), 0) << cost.dump();
  // Codex reports no cost of its own: the worker prices its tokens by model.
  EXPECT_EQ(cost["costSource"], GetParam() == "codex" ? "pricing-table" : "harness") << cost.dump();
  EXPECT_GT(cost["totalCostUsd"].get<double>(), 0) << cost.dump();
  // The task's directory, config home included, went with the task.
  EXPECT_TRUE(std::filesystem::is_empty(d.dir().File("work"))) << d.Logs();
}

TEST_P(ProviderSmoke, ToolRoundTripWritesAFile) {
  WorkerDeployment d(Smoke(GetParam(), "done", {{"WORKER_KEEP_TASK_DIRS", "1"}}));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id =
      d.CreateTask("Make the marker file.\nRUN_SHELL: echo hello > made_by_tool.txt", false);
  json task = d.WaitTerminal(id);
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << d.Logs();
  // The file lands in the task's directory under the worker's work root.
  bool found = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(d.dir().File("work"))) {
    if (entry.path().filename() == "made_by_tool.txt") {
      EXPECT_EQ(ReadFile(entry.path().string()), "hello\n");
      found = true;
    }
  }
  EXPECT_TRUE(found) << d.Logs();
}

// The commands a model has the CLI run cannot read the worker's swarm key: not from their
// environment, nor from any process's /proc/<pid>/environ (the CLI runs as another user).
TEST_P(ProviderSmoke, TheModelsCommandsCannotReadTheSwarmKey) {
  WorkerDeployment d(Smoke(GetParam(), "done", {{"WORKER_KEEP_TASK_DIRS", "1"}}));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask(
      "Look around.\nRUN_SHELL: id -u > uid.txt; for f in /proc/[0-9]*/environ; do "
      "tr '\\0' '\\n' < $f; done > seen.txt 2>/dev/null; echo ok",
      false);
  json task = d.WaitTerminal(id);
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << d.Logs();
  std::string uid, seen;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(d.dir().File("work"))) {
    if (entry.path().filename() == "uid.txt") uid = ReadFile(entry.path().string());
    if (entry.path().filename() == "seen.txt") seen = ReadFile(entry.path().string());
  }
  ASSERT_FALSE(uid.empty()) << d.Logs();
  EXPECT_NE(uid, "0\n") << "the CLI ran as root";
  EXPECT_NE(seen.find("PATH="), std::string::npos) << "read no environment at all";
  EXPECT_EQ(seen.find(kTestApiKey), std::string::npos) << "the swarm key was readable";
}

TEST_P(ProviderSmoke, WrongReplyFailsNamingTheSchemaMismatch) {
  WorkerDeployment d(Smoke(GetParam(), kPong));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask("Reply with exactly: pong\nREPLY: {\"reply\":\"ping\"}");
  json task = d.WaitTerminal(id, seconds(120));
  ASSERT_EQ(task.value("status", ""), "failed") << task.dump(2) << "\n" << d.Logs();
  const std::string reason = task.value("failureReason", "");
  EXPECT_NE(reason.find("outputSchema"), std::string::npos) << reason;
  EXPECT_NE(reason.find("\"ping\""), std::string::npos) << reason;
}

TEST_P(ProviderSmoke, ModelServerErrorFailsTheTask) {
  WorkerDeployment d(Smoke(GetParam(), kPong));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const auto start = std::chrono::steady_clock::now();
  const std::string id = d.CreateTask("Reply with exactly: pong\nHTTP_ERROR: 500 model exploded");
  json task = d.WaitTerminal(id, seconds(120));
  ASSERT_EQ(task.value("status", ""), "failed") << task.dump(2) << "\n" << d.Logs();
  EXPECT_FALSE(task.value("failureReason", "").empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(60));
}

TEST_P(ProviderSmoke, ClosedModelPortFailsTheTask) {
  WorkerDeployment d(Smoke(GetParam(), kPong));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  d.llm().child().Signal(SIGKILL);
  ASSERT_TRUE(d.llm().child().Wait(seconds(5)));
  const std::string id = d.CreateTask("Reply with exactly: pong");
  // opencode has no retry switch and gives up after about 72 s.
  json task = d.WaitTerminal(id, seconds(150));
  ASSERT_EQ(task.value("status", ""), "failed") << task.dump(2) << "\n" << d.Logs();
  EXPECT_FALSE(task.value("failureReason", "").empty());
}

TEST_P(ProviderSmoke, CancelWhileTheCliRunsLeavesNoProcess) {
  WorkerDeployment d(Smoke(GetParam(), kPong));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask("Reply with exactly: pong\nDELAY_MS: 60000");
  ASSERT_TRUE(d.WaitStatus(id, "in_progress")) << d.Logs();
  // Give the CLI time to start and reach the (delayed) model.
  ASSERT_TRUE(WaitUntil([&] { return !ProcessesUnder(d.dir().File("work")).empty(); }, seconds(20),
                        std::chrono::milliseconds(100)))
      << d.Logs();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Reply cancel = d.api().Post("/api/tasks/" + id + "/cancel", {{"reason", "e2e cancel"}});
  ASSERT_EQ(cancel.status, 200) << cancel.raw;
  EXPECT_TRUE(WaitUntil([&] { return ProcessesUnder(d.dir().File("work")).empty(); }, seconds(15),
                        std::chrono::milliseconds(100)))
      << "processes of the cancelled task are still running\n"
      << d.Logs();
  EXPECT_EQ(d.api().Get("/api/tasks/" + id).body["status"], "cancelled");
  // The worker is free again.
  const std::string next = d.CreateTask("Reply with exactly: pong");
  EXPECT_EQ(d.WaitTerminal(next, seconds(120)).value("status", ""), "completed") << d.Logs();
}

INSTANTIATE_TEST_SUITE_P(Providers, ProviderSmoke,
                         ::testing::Values("claude", "codex", "opencode", "pi"),
                         [](const auto& info) { return info.param; });

// A worker killed with -9 while its CLI runs: it had opened an active session for the task, so
// the API's dead-worker monitor supersedes it (crash_recovery) and its resume child waits in the
// pool for another worker, the agent being offline.
TEST(WorkerDeath, KilledWorkerTaskIsSupersededForAnotherWorker) {
  ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/claude"))
      << "run ./scripts/install-harnesses.sh";
  DeploymentOptions options = Smoke("claude", kPong);
  options.api_args = {"--worker-timeout", "2"};
  WorkerDeployment d(std::move(options));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask("Reply with exactly: pong\nDELAY_MS: 60000");
  ASSERT_TRUE(d.WaitStatus(id, "in_progress")) << d.Logs();
  // The CLI runs, so the session (opened before the CLI starts) exists.
  ASSERT_TRUE(WaitUntil([&] { return !ProcessesUnder(d.dir().File("work")).empty(); }, seconds(20),
                        std::chrono::milliseconds(100)))
      << d.Logs();
  d.worker().Signal(SIGKILL);
  json task = d.WaitTerminal(id, seconds(20));
  ASSERT_EQ(task.value("status", ""), "superseded") << task.dump(2);
  EXPECT_EQ(d.api().Get("/api/agents/" + d.agent_id()).body["status"], "offline");
  const json pool = d.api().Get("/api/tasks?status=unassigned").body;
  ASSERT_EQ(pool.value("total", 0), 1) << pool.dump(2);
  EXPECT_EQ(pool["tasks"][0].value("parentTaskId", ""), id) << pool.dump(2);
  EXPECT_EQ(pool["tasks"][0].value("taskType", ""), "resume") << pool.dump(2);
}

// MAX_CONCURRENT_TASKS=2: one worker runs two tasks at the same time.
TEST(WorkerConcurrency, TwoTasksRunAtOnce) {
  ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/pi"))
      << "run ./scripts/install-harnesses.sh";
  WorkerDeployment d(Smoke("pi", kPong, {{"MAX_CONCURRENT_TASKS", "2"}}));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string a = d.CreateTask("Reply with exactly: pong\nDELAY_MS: 4000");
  const std::string b = d.CreateTask("Reply with exactly: pong\nDELAY_MS: 4000");
  EXPECT_TRUE(WaitUntil(
      [&] {
        return d.api().Get("/api/tasks?status=in_progress&limit=1").body.value("total", 0) == 2;
      },
      seconds(20), std::chrono::milliseconds(100)))
      << "the two tasks never ran at the same time\n"
      << d.Logs();
  EXPECT_EQ(d.WaitTerminal(a, seconds(60)).value("status", ""), "completed") << d.Logs();
  EXPECT_EQ(d.WaitTerminal(b, seconds(60)).value("status", ""), "completed") << d.Logs();
}

}  // namespace
}  // namespace swarm::testing_support
