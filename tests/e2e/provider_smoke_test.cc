// End to end, per provider: the real API, stub-llm and a real worker running the real CLI
// (claude, codex, opencode, pi from ./scripts/install-harnesses.sh). The seed's smoke task
// must complete with {"reply":"pong"}, a provider session id, session logs, tokens and, where
// the CLI reports it, cost.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "support/api_process.h"
#include "support/stub_llm_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const json kSeedSchema = json::parse(
    R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})");

std::string HarnessBinDir() { return HARNESS_BIN_DIR; }

// Polls `fn` every 100 ms until it returns true or `limit` passes.
template <typename F>
bool WaitFor(std::chrono::milliseconds limit, F fn) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fn();
}

// API + stub-llm + one worker for `provider`, torn down in reverse.
class Deployment {
 public:
  Deployment(const std::string& provider, std::vector<std::string> llm_args,
             std::map<std::string, std::string> extra_env = {})
      : agent_id_("smoke-" + provider + "-e2e"),
        api_(dir_.File("swarm.sqlite")),
        llm_(dir_.File("llm.log"), std::move(llm_args)),
        client_(api_.url()) {
    ChildSpec spec;
    spec.argv = {AgentSwarmBinary(), "worker"};
    spec.env = {
        {"PATH", HarnessBinDir() + ":/usr/local/bin:/usr/bin:/bin"},
        {"MCP_BASE_URL", api_.url()},
        {"AGENT_SWARM_API_KEY", kTestApiKey},
        {"API_KEY", kTestApiKey},
        {"AGENT_ROLE", "worker"},
        {"AGENT_ID", agent_id_},
        {"HARNESS_PROVIDER", provider},
        {"MAX_CONCURRENT_TASKS", "1"},
        {"WORKER_YOLO", "true"},
        {"SLACK_DISABLE", "true"},
        {"GITHUB_DISABLE", "true"},
        {"ANTHROPIC_BASE_URL", llm_.url()},
        {"ANTHROPIC_API_KEY", "sk-ant-e2e-fake-0001"},
        {"OPENAI_BASE_URL", llm_.openai_url()},
        {"OPENAI_API_KEY", "sk-e2e-fake-0002"},
        {"WORKER_WORK_DIR", dir_.File("work")},
        {"HARNESS_BIN_DIR", HarnessBinDir()},
        {"WORKER_TASK_TIMEOUT_SECONDS", "150"},
        {"HOME", dir_.File("home")},
    };
    for (auto& [k, v] : extra_env) spec.env[k] = v;
    spec.stderr_path = dir_.File("worker.log");
    worker_ = std::make_unique<ChildProcess>(spec);
  }

  const std::string& agent_id() const { return agent_id_; }
  TestApi& api() { return client_; }
  const TempDir& dir() const { return dir_; }
  std::string Logs() {
    return "worker log:\n" + ReadFile(dir_.File("worker.log")) + "\nstub-llm log:\n" + llm_.log();
  }
  ChildProcess& worker() { return *worker_; }

  bool Registered() {
    return WaitFor(seconds(30), [&] { return client_.Get("/api/agents/" + agent_id_).status == 200; });
  }

  std::string CreateTask(const std::string& text, bool with_schema = true) {
    json body = {{"task", text}, {"agentId", agent_id_}, {"source", "api"}};
    if (with_schema) body["outputSchema"] = kSeedSchema;
    Reply r = client_.Post("/api/tasks", body);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", "");
  }

  // The task once it is terminal (bounded), or its last state.
  json WaitTerminal(const std::string& id, seconds limit = seconds(180)) {
    json task;
    WaitFor(limit, [&] {
      task = client_.Get("/api/tasks/" + id).body;
      const std::string s = task.value("status", "");
      return s == "completed" || s == "failed" || s == "cancelled";
    });
    return task;
  }

 private:
  std::string agent_id_;
  TempDir dir_;
  ApiProcess api_;
  StubLlmProcess llm_;
  TestApi client_;
  std::unique_ptr<ChildProcess> worker_;
};

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
  Deployment d(GetParam(), {"--reply", R"({"reply":"pong"})"});
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
  if (GetParam() != "codex") {  // codex reports no cost of its own
    EXPECT_EQ(cost["costSource"], "harness") << cost.dump();
    EXPECT_GT(cost["totalCostUsd"].get<double>(), 0) << cost.dump();
  }
}

TEST_P(ProviderSmoke, ToolRoundTripWritesAFile) {
  Deployment d(GetParam(), {"--reply", "done"});
  ASSERT_TRUE(d.Registered()) << d.Logs();
  const std::string id =
      d.CreateTask("Make the marker file.\nRUN_SHELL: echo hello > made_by_tool.txt", false);
  json task = d.WaitTerminal(id);
  ASSERT_EQ(task.value("status", ""), "completed") << task.dump(2) << "\n" << d.Logs();
  // The file lands in the task's directory under the worker's work root.
  bool found = false;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(d.dir().File("work"))) {
    if (entry.path().filename() == "made_by_tool.txt") {
      EXPECT_EQ(ReadFile(entry.path().string()), "hello\n");
      found = true;
    }
  }
  EXPECT_TRUE(found) << d.Logs();
}

INSTANTIATE_TEST_SUITE_P(Providers, ProviderSmoke,
                         ::testing::Values("claude", "codex", "opencode", "pi"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace swarm::testing_support
