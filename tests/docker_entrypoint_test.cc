// docker/docker-entrypoint.sh, the worker image's /docker-entrypoint.sh, run as a local
// sandbox runs it (over this machine's root, agent-swarm at AGENT_SWARM_BIN): it refuses a
// missing env without printing a secret, gives up on an API that never answers /health within
// its bound, and otherwise becomes a worker that registers and completes a task.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr char kModelKey[] = "sk-ant-fake-model-key-entrypoint";

// Answers like `claude -p --output-format stream-json` with the smoke task's reply.
constexpr char kPongCli[] = R"(#!/bin/sh
echo '{"type":"system","subtype":"init","session_id":"ep-sess-1","model":"fake-model"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"{\"reply\":\"pong\"}","session_id":"ep-sess-1","total_cost_usd":0.001,"num_turns":1,"usage":{"input_tokens":1,"output_tokens":1}}'
)";

std::string Entrypoint() { return std::string(SWARM_SOURCE_DIR) + "/docker/docker-entrypoint.sh"; }

class DockerEntrypointTest : public ::testing::Test {
 protected:
  TempDir dir_;

  std::map<std::string, std::string> Env(const std::string& api_url,
                                         const std::string& agent_id) const {
    return {{"MCP_BASE_URL", api_url + "/"},
            {"AGENT_SWARM_API_KEY", kTestApiKey},
            {"AGENT_ID", agent_id},
            {"AGENT_SWARM_BIN", AgentSwarmBinary()},
            {"HARNESS_PROVIDER", "claude"},
            {"ANTHROPIC_API_KEY", kModelKey},
            {"ANTHROPIC_BASE_URL", "http://127.0.0.1:9"},
            {"WORKER_YOLO", "true"},
            {"WORKER_WORKSPACE", dir_.File("no-workspace")},
            {"WORKER_WORK_DIR", dir_.File("tasks")},
            {"WORKER_CLI_USER", "root"},  // the stand-in CLI lives in a 0700 temp dir
            {"WORKER_POLL_WAIT_SECONDS", "1"},
            {"SHUTDOWN_TIMEOUT", "500"}};
  }

  CommandResult Run(const std::map<std::string, std::string>& env) const {
    return RunCommand({"/bin/bash", Entrypoint()}, env, seconds(30));
  }
};

TEST_F(DockerEntrypointTest, RefusesAMissingKeyOrApiUrl) {
  auto env = Env("http://127.0.0.1:9", "ep-missing");
  env.erase("AGENT_SWARM_API_KEY");
  CommandResult r = Run(env);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("AGENT_SWARM_API_KEY (or API_KEY) is required"), std::string::npos) << r.err;
  env = Env("http://127.0.0.1:9", "ep-missing");
  env.erase("MCP_BASE_URL");
  r = Run(env);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("MCP_BASE_URL is required"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kTestApiKey), std::string::npos);
  env = Env("http://127.0.0.1:9", "ep-missing");
  env["AGENT_SWARM_BIN"] = dir_.File("no-such-binary");
  r = Run(env);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("agent-swarm not found"), std::string::npos) << r.err;
}

TEST_F(DockerEntrypointTest, GivesUpOnAnApiThatNeverAnswersWithinItsBound) {
  auto env = Env("http://127.0.0.1:9", "ep-down");  // the discard port: nothing listens
  env["WORKER_API_READY_TIMEOUT_SECONDS"] = "1";
  const auto start = Steady::now();
  CommandResult r = Run(env);
  const auto took = Steady::now() - start;
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("did not answer /health within 1s"), std::string::npos) << r.err;
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, seconds(10));
  EXPECT_EQ(r.err.find(kTestApiKey), std::string::npos);
  EXPECT_EQ(r.err.find(kModelKey), std::string::npos);
}

TEST_F(DockerEntrypointTest, BecomesAWorkerThatRegistersAndCompletesATask) {
  ApiProcess api(dir_.File("swarm.sqlite"));
  TestApi client(api.url());
  auto env = Env(api.url(), "ep-worker");
  const fs::path bin = dir_.File("bin");
  fs::create_directories(bin);
  std::ofstream(bin / "claude") << kPongCli;
  fs::permissions(bin / "claude", fs::perms::owner_all);
  env["HARNESS_BIN_DIR"] = bin.string();
  ChildSpec spec{{"/bin/bash", Entrypoint()}, env, "/dev/null", dir_.File("entrypoint.log")};
  ChildProcess entrypoint(spec);
  ASSERT_TRUE(
      WaitUntil([&] { return client.Get("/api/agents/ep-worker").status == 200; }, seconds(15)))
      << ReadFile(dir_.File("entrypoint.log"));

  Reply created = client.Post("/api/tasks", {{"task", "Reply with exactly: pong"},
                                             {"agentId", "ep-worker"},
                                             {"outputSchema", SeedOutputSchema()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["id"];
  nlohmann::json task;
  ASSERT_TRUE(WaitUntil(
      [&] {
        task = client.Get("/api/tasks/" + id).body;
        return task.value("status", "") == "completed" || task.value("status", "") == "failed";
      },
      seconds(20)))
      << ReadFile(dir_.File("entrypoint.log"));
  EXPECT_EQ(task["status"], "completed") << task.dump();

  // exec: the entrypoint's process is the worker now, and SIGTERM stops it.
  entrypoint.Signal(SIGTERM);
  EXPECT_EQ(entrypoint.Wait(seconds(10)), 0) << ReadFile(dir_.File("entrypoint.log"));
  const std::string log = ReadFile(dir_.File("entrypoint.log"));
  EXPECT_NE(log.find("[entrypoint] API ready"), std::string::npos) << log;
  EXPECT_EQ(log.find(kTestApiKey), std::string::npos);
  EXPECT_EQ(log.find(kModelKey), std::string::npos);
}

}  // namespace
}  // namespace swarm::testing_support
