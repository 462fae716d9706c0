// End to end (issue 9): a worker stopped with SIGTERM mid-task hands the task back instead of
// failing it. The real API, stub-llm and a real worker running the claude CLI: the task is
// superseded, its "resume" child waits for the same agent, and the worker started again under
// the same AGENT_ID claims the child and completes it. The credential status the worker
// reported at boot shows on GET /api/agents/{id}.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "support/worker_deployment.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kAgentId[] = "supersede-e2e-worker";

class WorkerSupersede : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/claude"))
        << "the claude CLI is not installed in " << HarnessBinDir()
        << ": run ./scripts/install-harnesses.sh";
    DeploymentOptions options;
    options.provider = "claude";
    options.agent_id = kAgentId;
    options.llm_args = {"--reply", R"({"reply":"pong"})"};
    options.worker_env = {{"WORKER_POLL_WAIT_SECONDS", "2"},
                          // Short: the running task is cancelled and handed back half a second
                          // after SIGTERM.
                          {"SHUTDOWN_TIMEOUT", "500"}};
    options.start_worker = false;  // the test starts both of its workers
    d_ = std::make_unique<WorkerDeployment>(std::move(options));
  }

  std::unique_ptr<WorkerDeployment> d_;
};

TEST_F(WorkerSupersede, SigtermMidTaskSupersedesAndTheSameAgentFinishesTheResume) {
  WorkerDeployment& d = *d_;
  ChildProcess& worker = d.StartWorker();

  // The credential status the worker reported at boot, on the agent: which variable satisfied
  // it (never its value).
  json agent;
  ASSERT_TRUE(WaitUntil(
      [&] {
        agent = d.api().Get(std::string("/api/agents/") + kAgentId).body;
        return agent.is_object() && agent.contains("credStatus") && !agent["credStatus"].is_null();
      },
      seconds(30), milliseconds(100)))
      << agent.dump(2) << "\n"
      << d.Logs();
  EXPECT_EQ(agent["credStatus"]["ready"], true) << agent.dump(2);
  EXPECT_EQ(agent["credStatus"]["satisfiedBy"], "ANTHROPIC_API_KEY") << agent.dump(2);
  EXPECT_EQ(agent["credStatus"]["reportKind"], "boot");
  EXPECT_TRUE(agent["credentialMissing"].is_null());
  EXPECT_EQ(agent.dump().find("sk-ant-e2e-fake-0001"), std::string::npos);

  // A task the model takes four seconds to answer.
  const std::string id = d.CreateTask("Reply with exactly: pong\nDELAY_MS: 4000");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(d.WaitStatus(id, "in_progress")) << d.Task(id).dump(2) << d.Logs();
  // Mid-task: the CLI starts and waits on the model's four seconds.
  std::this_thread::sleep_for(milliseconds(1'500));
  ASSERT_EQ(d.Task(id).value("status", ""), "in_progress") << d.Logs();

  worker.Signal(SIGTERM);
  ASSERT_TRUE(worker.Wait(seconds(60))) << "the worker did not exit after SIGTERM\n" << d.Logs();

  const json original = d.Task(id);
  ASSERT_EQ(original.value("status", ""), "superseded") << original.dump(2) << d.Logs();
  bool logged = false;
  for (const json& log : original["logs"])
    logged |= log.value("eventType", "") == "task_superseded";
  EXPECT_TRUE(logged) << original.dump(2);

  // Its resume child waits for the same agent.
  Reply listed = d.api().Get(std::string("/api/tasks?agentId=") + kAgentId + "&limit=10");
  std::string child_id;
  for (const json& t : listed.body["tasks"]) {
    if (t.value("parentTaskId", json()).is_string() && t["parentTaskId"] == id) child_id = t["id"];
  }
  ASSERT_FALSE(child_id.empty()) << listed.raw;
  json child = d.Task(child_id);
  EXPECT_EQ(child.value("status", ""), "pending") << child.dump(2);
  EXPECT_EQ(child.value("taskType", ""), "resume");
  EXPECT_EQ(child.value("agentId", ""), kAgentId);
  EXPECT_EQ(child["outputSchema"], SeedOutputSchema());
  EXPECT_EQ(d.api().Get(std::string("/api/agents/") + kAgentId).body.value("status", ""),
            "offline");

  // The same agent comes back, claims the child and completes it.
  ChildProcess& again = d.StartWorker();
  child = d.WaitTerminal(child_id, seconds(120));
  ASSERT_EQ(child.value("status", ""), "completed") << child.dump(2) << d.Logs();
  EXPECT_EQ(json::parse(child["output"].get<std::string>()), json({{"reply", "pong"}}));
  EXPECT_EQ(d.Task(id).value("status", ""), "superseded");  // the original stays as it was
  again.Signal(SIGTERM);
  EXPECT_TRUE(again.Wait(seconds(60))) << d.Logs();
}

}  // namespace
}  // namespace swarm::testing_support
