// End to end (issue 9): a worker stopped with SIGTERM mid-task hands the task back instead of
// failing it. The real API, stub-llm and a real worker running the claude CLI: the task is
// superseded, its "resume" child waits for the same agent, and the worker started again under
// the same AGENT_ID claims the child and completes it. The credential status the worker
// reported at boot shows on GET /api/agents/{id}.
//
// A worker killed with SIGKILL loses nothing either, thanks to the active session it opened
// for the task: restarted at once under the same AGENT_ID, its registration supersedes the task
// and the restarted worker runs the resume child; never restarted, the dead-worker sweep
// supersedes it and another worker runs the child from the pool.
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
  }

  // The API (with `api_args`) and stub-llm; the test starts its workers itself.
  WorkerDeployment& Deploy(std::vector<std::string> api_args = {},
                           std::map<std::string, std::string> worker_env = {}) {
    DeploymentOptions options;
    options.provider = "claude";
    options.agent_id = kAgentId;
    options.llm_args = {"--reply", R"({"reply":"pong"})"};
    options.api_args = std::move(api_args);
    options.worker_env = {{"WORKER_POLL_WAIT_SECONDS", "2"},
                          // Short: the running task is cancelled and handed back half a second
                          // after SIGTERM.
                          {"SHUTDOWN_TIMEOUT", "500"}};
    for (auto& [name, value] : worker_env) options.worker_env[name] = value;
    options.start_worker = false;
    d_ = std::make_unique<WorkerDeployment>(std::move(options));
    return *d_;
  }

  // Until the agent's worker has opened an active session for the task (bounded).
  bool WaitSessionOpened(const std::string& task_id) {
    return WaitUntil(
        [&] {
          const json listed =
              d_->api().Get(std::string("/api/active-sessions?agentId=") + kAgentId).body;
          if (!listed.is_object() || !listed["sessions"].is_array()) return false;
          for (const json& session : listed["sessions"]) {
            if (session.value("taskId", json()) == task_id) return true;
          }
          return false;
        },
        seconds(30), milliseconds(100));
  }

  // A task for the agent that the model takes six seconds to answer, SIGKILLed mid-run once
  // its session is open.
  std::string KillMidTask(ChildProcess& worker) {
    const std::string id = d_->CreateTask("Reply with exactly: pong\nDELAY_MS: 6000");
    EXPECT_FALSE(id.empty());
    EXPECT_TRUE(d_->WaitStatus(id, "in_progress")) << d_->Task(id).dump(2) << d_->Logs();
    EXPECT_TRUE(WaitSessionOpened(id)) << d_->Logs();
    std::this_thread::sleep_for(milliseconds(500));  // the CLI is waiting on the model
    EXPECT_EQ(d_->Task(id).value("status", ""), "in_progress") << d_->Logs();
    worker.Signal(SIGKILL);
    EXPECT_TRUE(worker.Wait(seconds(10))) << "the worker survived SIGKILL";
    return id;
  }

  // The resume child of `parent` (bounded), or null.
  json ResumeChild(const std::string& parent) {
    json child;
    WaitUntil(
        [&] {
          const json listed = d_->api().Get("/api/tasks?limit=50").body;
          if (!listed.is_object() || !listed["tasks"].is_array()) return false;
          for (const json& t : listed["tasks"]) {
            if (t.value("parentTaskId", json()) == parent) child = t;
          }
          return !child.is_null();
        },
        seconds(10), milliseconds(100));
    return child.is_null() ? child : d_->Task(child["id"].get<std::string>());
  }

  std::unique_ptr<WorkerDeployment> d_;
};

TEST_F(WorkerSupersede, SigtermMidTaskSupersedesAndTheSameAgentFinishesTheResume) {
  WorkerDeployment& d = Deploy();
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

// Killed with -9 and started again at once: the registration of the new process (a new
// runtimeInstanceId) supersedes the task its previous process had a session for, well before
// any --worker-timeout (the default 60 s here), and the restarted worker completes the child.
TEST_F(WorkerSupersede, SigkillMidTaskAndAnImmediateRestartResumesTheTask) {
  WorkerDeployment& d = Deploy();
  const std::string id = KillMidTask(d.StartWorker());
  ASSERT_FALSE(HasFailure());

  ChildProcess& again = d.StartWorker();
  ASSERT_TRUE(d.WaitStatus(id, "superseded", seconds(30))) << d.Task(id).dump(2) << d.Logs();
  json child = ResumeChild(id);
  ASSERT_TRUE(child.is_object()) << d.Logs();
  EXPECT_EQ(child.value("taskType", ""), "resume") << child.dump(2);
  EXPECT_EQ(child.value("agentId", ""), kAgentId) << child.dump(2);
  EXPECT_EQ(child["outputSchema"], SeedOutputSchema());
  bool crash_recovery = false;
  for (const json& tag : child["tags"]) crash_recovery |= tag == "reason:crash_recovery";
  EXPECT_TRUE(crash_recovery) << child.dump(2);

  child = d.WaitTerminal(child["id"].get<std::string>(), seconds(120));
  ASSERT_EQ(child.value("status", ""), "completed") << child.dump(2) << d.Logs();
  EXPECT_EQ(child.value("agentId", ""), kAgentId);
  EXPECT_EQ(json::parse(child["output"].get<std::string>()), json({{"reply", "pong"}}));
  EXPECT_EQ(d.Task(id).value("status", ""), "superseded");
  // The restarted worker ended the child's session; none of the old process's is left.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return d.api()
            .Get(std::string("/api/active-sessions?agentId=") + kAgentId)
            .body["sessions"]
            .empty();
      },
      seconds(10), milliseconds(100)))
      << d.Logs();
  again.Signal(SIGTERM);
  EXPECT_TRUE(again.Wait(seconds(60))) << d.Logs();
}

// Killed with -9 and never restarted: after --worker-timeout of silence the sweep supersedes the
// task, its resume child waits in the pool, and a worker under another AGENT_ID completes it.
TEST_F(WorkerSupersede, SigkillMidTaskWithoutARestartResumesTheTaskInThePool) {
  // Heartbeats well inside the 2 s timeout while the task runs.
  WorkerDeployment& d = Deploy({"--worker-timeout", "2"}, {{"WORKER_HEARTBEAT_SECONDS", "0.5"}});
  const std::string id = KillMidTask(d.StartWorker());
  ASSERT_FALSE(HasFailure());

  ASSERT_TRUE(d.WaitStatus(id, "superseded", seconds(30))) << d.Task(id).dump(2) << d.Logs();
  json child = ResumeChild(id);
  ASSERT_TRUE(child.is_object()) << d.Logs();
  EXPECT_EQ(child.value("status", ""), "unassigned") << child.dump(2);
  EXPECT_TRUE(child.value("agentId", json()).is_null()) << child.dump(2);
  EXPECT_EQ(child.value("taskType", ""), "resume");

  const std::string other = std::string(kAgentId) + "-other";
  ChildProcess& second = d.StartWorker({{"AGENT_ID", other}});
  child = d.WaitTerminal(child["id"].get<std::string>(), seconds(120));
  ASSERT_EQ(child.value("status", ""), "completed") << child.dump(2) << d.Logs();
  EXPECT_EQ(child.value("agentId", ""), other);
  EXPECT_EQ(json::parse(child["output"].get<std::string>()), json({{"reply", "pong"}}));
  EXPECT_EQ(d.Task(id).value("status", ""), "superseded");
  second.Signal(SIGTERM);
  EXPECT_TRUE(second.Wait(seconds(60))) << d.Logs();
}

}  // namespace
}  // namespace swarm::testing_support
