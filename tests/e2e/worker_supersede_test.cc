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

#include "support/api_process.h"
#include "support/stub_llm_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kAgentId[] = "supersede-e2e-worker";

std::string HarnessBinDir() { return HARNESS_BIN_DIR; }

class WorkerSupersede : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/claude"))
        << "the claude CLI is not installed in " << HarnessBinDir()
        << ": run ./scripts/install-harnesses.sh";
    // The worker runs as root here, so its CLI runs as an unprivileged user, which must be
    // able to reach its task directory below this one (0700 from mkdtemp).
    std::filesystem::permissions(dir_.path(),
                                 std::filesystem::perms::owner_all |
                                     std::filesystem::perms::group_exec |
                                     std::filesystem::perms::others_exec,
                                 std::filesystem::perm_options::replace);
  }

  std::unique_ptr<ChildProcess> StartWorker(const std::string& log_name) {
    ChildSpec spec;
    spec.argv = {AgentSwarmBinary(), "worker"};
    spec.env = {
        {"PATH", HarnessBinDir() + ":/usr/local/bin:/usr/bin:/bin"},
        {"MCP_BASE_URL", api_.url()},
        {"AGENT_SWARM_API_KEY", kTestApiKey},
        {"AGENT_ID", kAgentId},
        {"HARNESS_PROVIDER", "claude"},
        {"MAX_CONCURRENT_TASKS", "1"},
        {"ANTHROPIC_BASE_URL", llm_.url()},
        {"ANTHROPIC_API_KEY", "sk-ant-e2e-fake-0001"},
        {"WORKER_WORK_DIR", dir_.File("work")},
        {"HARNESS_BIN_DIR", HarnessBinDir()},
        {"WORKER_TASK_TIMEOUT_SECONDS", "150"},
        {"WORKER_POLL_WAIT_SECONDS", "2"},
        // Short: the running task is cancelled and handed back half a second after SIGTERM.
        {"SHUTDOWN_TIMEOUT", "500"},
        {"HOME", dir_.File("home")},
    };
    spec.stderr_path = dir_.File(log_name);
    return std::make_unique<ChildProcess>(spec);
  }

  std::string Logs() {
    return "first worker:\n" + ReadFile(dir_.File("worker1.log")) + "\nsecond worker:\n" +
           ReadFile(dir_.File("worker2.log")) + "\nAPI:\n" + api_.log();
  }

  json Task(const std::string& id) { return client_.Get("/api/tasks/" + id).body; }

  bool WaitStatus(const std::string& id, const std::string& status, seconds limit) {
    return WaitUntil([&] { return Task(id).value("status", "") == status; }, limit,
                     milliseconds(100));
  }

  TempDir dir_;
  ApiProcess api_{dir_.File("swarm.sqlite")};
  StubLlmProcess llm_{dir_.File("llm.log"), {"--reply", R"({"reply":"pong"})"}};
  TestApi client_{api_.url()};
};

TEST_F(WorkerSupersede, SigtermMidTaskSupersedesAndTheSameAgentFinishesTheResume) {
  auto worker = StartWorker("worker1.log");

  // The credential status the worker reported at boot, on the agent: which variable satisfied
  // it (never its value).
  json agent;
  ASSERT_TRUE(WaitUntil(
      [&] {
        agent = client_.Get(std::string("/api/agents/") + kAgentId).body;
        return agent.is_object() && agent.contains("credStatus") && !agent["credStatus"].is_null();
      },
      seconds(30), milliseconds(100)))
      << agent.dump(2) << "\n"
      << Logs();
  EXPECT_EQ(agent["credStatus"]["ready"], true) << agent.dump(2);
  EXPECT_EQ(agent["credStatus"]["satisfiedBy"], "ANTHROPIC_API_KEY") << agent.dump(2);
  EXPECT_EQ(agent["credStatus"]["reportKind"], "boot");
  EXPECT_TRUE(agent["credentialMissing"].is_null());
  EXPECT_EQ(agent.dump().find("sk-ant-e2e-fake-0001"), std::string::npos);

  // A task the model takes four seconds to answer.
  Reply created = client_.Post("/api/tasks", {{"task", "Reply with exactly: pong\nDELAY_MS: 4000"},
                                              {"agentId", kAgentId},
                                              {"outputSchema", SeedOutputSchema()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body.value("id", "");
  ASSERT_TRUE(WaitStatus(id, "in_progress", seconds(30))) << Task(id).dump(2) << Logs();
  // Mid-task: the CLI starts and waits on the model's four seconds.
  std::this_thread::sleep_for(milliseconds(1'500));
  ASSERT_EQ(Task(id).value("status", ""), "in_progress") << Logs();

  worker->Signal(SIGTERM);
  ASSERT_TRUE(worker->Wait(seconds(60))) << "the worker did not exit after SIGTERM\n" << Logs();

  const json original = Task(id);
  ASSERT_EQ(original.value("status", ""), "superseded") << original.dump(2) << Logs();
  bool logged = false;
  for (const json& log : original["logs"])
    logged |= log.value("eventType", "") == "task_superseded";
  EXPECT_TRUE(logged) << original.dump(2);

  // Its resume child waits for the same agent.
  Reply listed = client_.Get(std::string("/api/tasks?agentId=") + kAgentId + "&limit=10");
  std::string child_id;
  for (const json& t : listed.body["tasks"]) {
    if (t.value("parentTaskId", json()).is_string() && t["parentTaskId"] == id) child_id = t["id"];
  }
  ASSERT_FALSE(child_id.empty()) << listed.raw;
  json child = Task(child_id);
  EXPECT_EQ(child.value("status", ""), "pending") << child.dump(2);
  EXPECT_EQ(child.value("taskType", ""), "resume");
  EXPECT_EQ(child.value("agentId", ""), kAgentId);
  EXPECT_EQ(child["outputSchema"], SeedOutputSchema());
  EXPECT_EQ(client_.Get(std::string("/api/agents/") + kAgentId).body.value("status", ""),
            "offline");

  // The same agent comes back, claims the child and completes it.
  auto again = StartWorker("worker2.log");
  ASSERT_TRUE(WaitUntil(
      [&] {
        child = Task(child_id);
        const std::string s = child.value("status", "");
        return s == "completed" || s == "failed" || s == "cancelled";
      },
      seconds(120), milliseconds(200)))
      << child.dump(2) << Logs();
  ASSERT_EQ(child.value("status", ""), "completed") << child.dump(2) << Logs();
  EXPECT_EQ(json::parse(child["output"].get<std::string>()), json({{"reply", "pong"}}));
  EXPECT_EQ(Task(id).value("status", ""), "superseded");  // the original stays as it was
  again->Signal(SIGTERM);
  EXPECT_TRUE(again->Wait(seconds(60))) << Logs();
}

}  // namespace
}  // namespace swarm::testing_support
