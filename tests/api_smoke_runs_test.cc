// Smoke runs as the real `agent-swarm api` process offers them: the embedded sandboxd it starts
// and stops, --smoke-backend off, the --smoke-secrets mode check, the sweep that runs before
// anything is served, and secrets kept out of its log, its children's argv and environment.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/sqlite_store.h"
#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kEnvSecret[] = "sk-env-openai-secret-0b9d41";
constexpr char kFileSecret[] = "sk-file-secret-value-6c2e88";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Live children of `parent` whose command line contains `needle`.
std::vector<pid_t> Children(pid_t parent, const std::string& needle) {
  std::vector<pid_t> out;
  for (pid_t pid : LiveProcesses()) {
    std::istringstream status(ReadFile("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    bool child = false, zombie = false;
    while (std::getline(status, line)) {
      if (line.starts_with("PPid:")) child = std::stoi(line.substr(5)) == parent;
      if (line.starts_with("State:")) zombie = Contains(line, "Z");
    }
    if (child && !zombie && Contains(ProcessCommandLine(pid), needle)) out.push_back(pid);
  }
  return out;
}

class ApiSmokeRunsTest : public ::testing::Test {
 protected:
  std::string SecretsFile(mode_t mode) {
    const std::string path = dir_.File("smoke-secrets.env");
    std::ofstream(path) << "# provider keys for smoke runs\nOPENROUTER_API_KEY=" << kFileSecret
                        << "\n";
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  json Follow(const TestApi& api, const std::string& id) {
    json run;
    EXPECT_TRUE(WaitUntil(
        [&] {
          run = api.Get("/api/smoke-runs/" + id).body;
          return run.is_object() && run.value("status", "running") != "running";
        },
        seconds(30), milliseconds(50)))
        << run.dump(2);
    return run;
  }

  TempDir dir_;
  std::string db_ = dir_.File("swarm.sqlite");
};

// The embedded sandboxd is started by the first run that needs a sandbox, not with the API (the
// API is healthy in milliseconds, and no process is spent when no run comes), and stops with it.
TEST_F(ApiSmokeRunsTest, TheEmbeddedSandboxdStartsWithTheFirstRunAndStopsWithTheApi) {
  ApiProcess api(db_, {"--smoke-secrets", SecretsFile(0600)}, {{"OPENAI_API_KEY", kEnvSecret}});
  EXPECT_TRUE(Contains(api.log(), R"("msg":"smoke runs ready")")) << api.log();
  EXPECT_TRUE(Contains(api.log(), R"("backend":"local")")) << api.log();
  EXPECT_TRUE(Children(api.child().pid(), " sandboxd ").empty()) << "started with the API";

  // A run: claude has no credential here, so it fails at once, naming the variable, and the
  // run reads failed. What the request left out came from the API. No sandbox, no sandboxd.
  TestApi client(api.url());
  const Reply started = client.Post("/api/smoke-runs", {{"providers", {"claude"}}});
  ASSERT_EQ(started.status, 202) << started.raw;
  EXPECT_EQ(started.body["request"]["apiUrl"], api.url());
  EXPECT_EQ(started.body["request"]["template"], "agent-swarm-worker");
  EXPECT_FALSE(Contains(started.raw, kTestApiKey));
  const json run = Follow(client, started.body.value("id", ""));
  EXPECT_EQ(run.value("status", ""), "failed") << run.dump(2);
  EXPECT_TRUE(Contains(run["results"][0].value("failureReason", ""), "ANTHROPIC_API_KEY"))
      << run.dump(2);
  EXPECT_EQ(run["results"][0].value("sandboxId", "x"), "") << "no sandbox is spent on it";
  EXPECT_TRUE(Children(api.child().pid(), " sandboxd ").empty());

  // codex has its key: its sandbox starts sandboxd (the run itself times out: no model here).
  const Reply codex =
      client.Post("/api/smoke-runs", {{"providers", {"codex"}}, {"timeoutMs", 1000}});
  ASSERT_EQ(codex.status, 202) << codex.raw;
  const json codex_run = Follow(client, codex.body.value("id", ""));
  EXPECT_EQ(codex_run.value("status", ""), "failed") << codex_run.dump(2);
  EXPECT_NE(codex_run["results"][0].value("sandboxId", ""), "") << codex_run.dump(2);
  EXPECT_TRUE(Contains(api.log(), R"("msg":"embedded sandboxd started")")) << api.log();
  const auto sandboxd = Children(api.child().pid(), " sandboxd ");
  ASSERT_EQ(sandboxd.size(), 1u) << api.log();
  // Its key and nothing of the API's secrets: not in argv, not in its environment.
  const std::string environ = ReadFile("/proc/" + std::to_string(sandboxd[0]) + "/environ");
  EXPECT_TRUE(Contains(environ, "SANDBOXD_API_KEY="));
  for (const char* secret : {kTestApiKey, kEnvSecret, kFileSecret}) {
    EXPECT_FALSE(Contains(environ, secret)) << secret;
    EXPECT_FALSE(Contains(ProcessCommandLine(sandboxd[0]), secret)) << secret;
  }

  api.child().Signal(SIGTERM);
  EXPECT_EQ(api.child().Wait(seconds(20)), 0) << api.log();
  EXPECT_TRUE(WaitUntil([&] { return ::kill(sandboxd[0], 0) != 0; }, seconds(10)))
      << "sandboxd outlived the API";
  for (const char* secret : {kTestApiKey, kEnvSecret, kFileSecret}) {
    EXPECT_FALSE(Contains(api.log(), secret)) << "the API's log shows " << secret;
  }
  // Credentials are named in the log, so an operator sees what runs can use.
  EXPECT_TRUE(Contains(api.log(), "OPENROUTER_API_KEY")) << api.log();
}

TEST_F(ApiSmokeRunsTest, PublicUrlIsWhatWorkersAreToldByDefault) {
  ApiProcess api(db_, {"--public-url", "http://swarm.internal:8080", "--smoke-template", "tpl-x"});
  TestApi client(api.url());
  const Reply started = client.Post("/api/smoke-runs", {{"providers", {"codex"}}});
  ASSERT_EQ(started.status, 202) << started.raw;
  EXPECT_EQ(started.body["request"]["apiUrl"], "http://swarm.internal:8080");
  EXPECT_EQ(started.body["request"]["template"], "tpl-x");
  Follow(client, started.body.value("id", ""));
}

TEST_F(ApiSmokeRunsTest, BackendOffAnswers503NamingTheFlagAndStartsNoSandboxd) {
  ApiProcess api(db_, {"--smoke-backend", "off"});
  EXPECT_TRUE(Children(api.child().pid(), " sandboxd ").empty());
  TestApi client(api.url());
  const Reply refused = client.Post("/api/smoke-runs", {{"providers", {"claude"}}});
  EXPECT_EQ(refused.status, 503) << refused.raw;
  EXPECT_TRUE(Contains(refused.body.value("error", ""), "--smoke-backend off")) << refused.raw;
  const Reply listed = client.Get("/api/smoke-runs");
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body, json({{"runs", json::array()}, {"total", 0}}));
}

TEST_F(ApiSmokeRunsTest, ASecretsFileOpenToOthersStopsTheStart) {
  const std::string path = SecretsFile(0644);
  const CommandResult r =
      RunCommand({AgentSwarmBinary(), "api", "--port", "0", "--db", db_, "--smoke-secrets", path},
                 {{"AGENT_SWARM_API_KEY", kTestApiKey}}, seconds(20));
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(Contains(r.err, "chmod 600 " + path)) << r.err;
  EXPECT_FALSE(Contains(r.err, kFileSecret));
  EXPECT_FALSE(Contains(r.err, R"("msg":"listening")"));
}

TEST_F(ApiSmokeRunsTest, AnExplicitE2bBackendWithoutItsKeyStopsTheStart) {
  const CommandResult r =
      RunCommand({AgentSwarmBinary(), "api", "--port", "0", "--db", db_, "--smoke-backend", "e2b"},
                 {{"AGENT_SWARM_API_KEY", kTestApiKey}}, seconds(20));
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(Contains(r.err, "E2B_API_KEY")) << r.err;
}

TEST_F(ApiSmokeRunsTest, ARunLeftRunningReadsInterruptedFromTheFirstRequest) {
  {
    auto store = SqliteStore::Open(db_);
    ASSERT_TRUE(store) << store.error().message;
    SmokeRun run;
    run.id = "0190f7a0-0000-7000-8000-00000000abcd";
    run.request.providers = {"pi"};
    ProviderSmokeResult result;
    result.provider = "pi";
    result.phase = SmokePhase::kTaskRunning;
    run.results = {result};
    run.created_at = run.updated_at = "2026-01-01T00:00:00.000Z";
    ASSERT_TRUE((*store)->CreateSmokeRun(run));
  }
  ApiProcess api(db_, {"--smoke-backend", "off"});
  const json run =
      TestApi(api.url()).Get("/api/smoke-runs/0190f7a0-0000-7000-8000-00000000abcd").body;
  EXPECT_EQ(run.value("status", ""), "interrupted") << run.dump(2);
  EXPECT_TRUE(Contains(run["results"][0].value("failureReason", ""), "interrupted")) << run.dump(2);
}

}  // namespace
}  // namespace swarm::testing_support
