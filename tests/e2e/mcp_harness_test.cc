// End to end, per CLI: the real API (with its MCP server), stub-llm scripting the model's MCP
// calls, and a real worker running the real CLI (claude, codex, opencode, pi from
// ./scripts/install-harnesses.sh) configured with the swarm's MCP server. The agent finishes
// its task itself through store-progress; a mismatching output comes back to it as a tool error
// and it corrects it in the same session; an agent that never calls the tool still finishes
// through the worker's /finish (the safety net).
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/worker_deployment.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// API + stub-llm answering `reply` + one worker for `provider`, its MCP_AUTH unset: the default,
// a task-scoped token.
DeploymentOptions Mcp(const std::string& provider, const std::string& reply) {
  DeploymentOptions options;
  options.provider = provider;
  options.agent_id = "mcp-" + provider + "-e2e";
  options.llm_args = {"--reply", reply};
  return options;
}

// The task_status_change entries of GET /api/tasks/{id}'s log, as (new status, via).
std::vector<std::pair<std::string, std::string>> StatusChanges(const json& task) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& log : task.value("logs", json::array())) {
    if (log.value("eventType", "") != "task_status_change") continue;
    std::string via;
    if (const auto it = log.find("metadata"); it != log.end()) {
      // The store keeps it as JSON text.
      const json metadata =
          it->is_string() ? json::parse(it->get<std::string>(), nullptr, false) : *it;
      if (metadata.is_object()) via = metadata.value("via", "");
    }
    out.emplace_back(log.value("newValue", ""), via);
  }
  return out;
}

// What finished the task: the `via` of its change to completed ("" when there is none).
std::string CompletedVia(const json& task) {
  for (const auto& [status, via] : StatusChanges(task)) {
    if (status == "completed") return via;
  }
  return "";
}

class McpHarness : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/" + GetParam()))
        << "the " << GetParam() << " CLI is not installed in " << HarnessBinDir()
        << ": run ./scripts/install-harnesses.sh";
  }
};

TEST_P(McpHarness, TheAgentFinishesItsTaskThroughStoreProgress) {
  WorkerDeployment d(Mcp(GetParam(), R"({"reply":"pong"})"));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask(
      "Reply with exactly: pong\n"
      R"(MCP_CALL: store-progress {"taskId":"{{taskId}}","status":"completed","output":{"reply":"pong"}})");
  const json task = d.WaitTerminal(id);
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << d.Logs();
  EXPECT_EQ(json::parse(task.value("output", "null")), json({{"reply", "pong"}}));
  EXPECT_EQ(CompletedVia(task), "mcp") << task.dump(2) << "\n" << d.Logs();
  // The worker saw the connection and the call, and its /finish changed nothing.
  ASSERT_TRUE(d.WaitWorkerLogged("task finished through MCP")) << d.Logs();
  EXPECT_NE(d.WorkerLog().find("\"msg\":\"mcp server connected\""), std::string::npos) << d.Logs();
  EXPECT_EQ(d.WorkerLog().find("mcp server not connected"), std::string::npos) << d.Logs();
  EXPECT_EQ(StatusChanges(task).size(), 2u) << task.dump(2);  // in_progress, then completed
}

TEST_P(McpHarness, AMismatchComesBackAsAToolErrorAndIsFixedInTheSameSession) {
  WorkerDeployment d(Mcp(GetParam(), R"({"reply":"pong"})"));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask(
      "Reply with exactly: pong\n"
      R"(MCP_CALL: store-progress {"taskId":"{{taskId}}","status":"completed","output":{"reply":"ping"}})"
      "\n"
      R"(MCP_RETRY: {"taskId":"{{taskId}}","status":"completed","output":{"reply":"pong"}})");
  const json task = d.WaitTerminal(id);
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << d.Logs();
  EXPECT_EQ(json::parse(task.value("output", "null")), json({{"reply", "pong"}}));
  EXPECT_EQ(CompletedVia(task), "mcp") << task.dump(2) << "\n" << d.Logs();
  ASSERT_TRUE(d.WaitWorkerLogged("task finished through MCP")) << d.Logs();
  // One run of the CLI (one provider session, one cost record, every output line from one
  // worker run), whose output holds the server's verdict on the first call: the agent got the
  // error and fixed it in that session. The session id lands even when MCP ended the task
  // before the worker reported it.
  const json after = d.api().Get("/api/tasks/" + id).body;
  EXPECT_FALSE(after.value("claudeSessionId", "").empty()) << after.dump(2) << "\n" << d.Logs();
  const Reply costs = d.api().Get("/api/session-costs?taskId=" + id);
  EXPECT_EQ(costs.body.value("costs", json::array()).size(), 1u) << costs.raw;
  const Reply logs = d.api().Get("/api/tasks/" + id + "/session-logs");
  std::set<std::string> runs;
  std::string lines;
  for (const auto& log : logs.body.value("logs", json::array())) {
    runs.insert(log.value("sessionId", ""));
    lines += log.value("content", "") + "\n";
  }
  EXPECT_EQ(runs.size(), 1u) << logs.raw.substr(0, 4000);
  EXPECT_NE(lines.find("does not match"), std::string::npos) << lines.substr(0, 4000);
  // The mismatch changed nothing: in_progress, then completed, never failed.
  EXPECT_EQ(StatusChanges(task).size(), 2u) << task.dump(2);
}

TEST_P(McpHarness, AnAgentThatNeverCallsTheToolStillFinishesThroughTheSafetyNet) {
  WorkerDeployment d(Mcp(GetParam(), R"({"reply":"pong"})"));
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id = d.CreateTask("Reply with exactly: pong");
  const json task = d.WaitTerminal(id);
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << d.Logs();
  EXPECT_EQ(json::parse(task.value("output", "null")), json({{"reply", "pong"}}));
  EXPECT_EQ(CompletedVia(task), "finish") << task.dump(2) << "\n" << d.Logs();
  ASSERT_TRUE(d.WaitWorkerLogged("\"msg\":\"task finished\"")) << d.Logs();
  EXPECT_EQ(d.WorkerLog().find("task finished through MCP"), std::string::npos) << d.Logs();
}

INSTANTIATE_TEST_SUITE_P(Clis, McpHarness, ::testing::Values("claude", "codex", "opencode", "pi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace swarm::testing_support
