#include "sandbox/worker_launch.h"

#include <gtest/gtest.h>

#include "sandbox/fake_sandbox_provider.h"

namespace swarm::sandbox {
namespace {

using std::chrono::milliseconds;

constexpr char kKey[] = "swarm-key-0123456789";

RuntimeEnvSources Sources() {
  RuntimeEnvSources s;
  s.api_key = kKey;
  return s;
}

WorkerLaunchOptions Options() {
  WorkerLaunchOptions o;
  o.api_url = "http://127.0.0.1:3013/";
  return o;
}

TEST(RuntimeEnvTest, LayersForwardedKeysEnvFilesSecretsAndForcedKeys) {
  RuntimeEnvSources s = Sources();
  s.process_env = {{"OPENAI_API_KEY", "from-process"},
                   {"ANTHROPIC_API_KEY", "from-process"},
                   {"NOT_FORWARDED", "x"},
                   {"EXTRA", "inherited"},
                   {"API_KEY", "process-swarm-key"}};
  s.inherit_env = {"EXTRA"};
  s.env_files = {{{"ANTHROPIC_API_KEY", "from-file-1"}, {"A", "1"}, {"B", "1"}},
                 {{"A", "2"}, {"WORKER_YOLO", "true"}, {"E2B_API_KEY", "e2b"}}};
  s.secrets = {{"B", "secret"},
               {"API_KEY", "secret-key"},
               {"MCP_BASE_URL", "http://evil"},
               {"E2B_ACCESS_TOKEN", "t"}};
  auto env = BuildRuntimeEnv(s, Options());
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->at("OPENAI_API_KEY"), "from-process");
  EXPECT_EQ(env->count("NOT_FORWARDED"), 0u);
  EXPECT_EQ(env->at("EXTRA"), "inherited");
  EXPECT_EQ(env->at("ANTHROPIC_API_KEY"), "from-file-1");
  EXPECT_EQ(env->at("A"), "2");
  EXPECT_EQ(env->at("B"), "secret");
  // The swarm key beats --secret API_KEY; the role's keys beat everything.
  EXPECT_EQ(env->at("API_KEY"), kKey);
  EXPECT_EQ(env->at("AGENT_SWARM_API_KEY"), kKey);
  EXPECT_EQ(env->at("MCP_BASE_URL"), "http://127.0.0.1:3013/");
  EXPECT_EQ(env->at("WORKER_YOLO"), "false");
  EXPECT_EQ(env->at("AGENT_ROLE"), "worker");
  EXPECT_EQ(env->at("WORKER_LOG_DIR"), "/logs");
  EXPECT_EQ(env->at("LEAD_LOG_DIR"), "/logs");
  EXPECT_EQ(env->at("HARNESS_PROVIDER"), "claude");
  EXPECT_EQ(env->count("E2B_API_KEY"), 0u);
  EXPECT_EQ(env->count("E2B_ACCESS_TOKEN"), 0u);
  EXPECT_EQ(env->count("AGENT_ID"), 0u);
}

TEST(RuntimeEnvTest, ProviderFlagBeatsEnvWhichBeatsTheDefault) {
  RuntimeEnvSources s = Sources();
  s.secrets = {{"HARNESS_PROVIDER", "codex"}};
  EXPECT_EQ(BuildRuntimeEnv(s, Options())->at("HARNESS_PROVIDER"), "codex");
  WorkerLaunchOptions o = Options();
  o.provider = "pi";
  o.worker_yolo = true;
  o.agent_role = "lead";
  auto env = BuildRuntimeEnv(s, o);
  EXPECT_EQ(env->at("HARNESS_PROVIDER"), "pi");
  EXPECT_EQ(env->at("WORKER_YOLO"), "true");
  EXPECT_EQ(env->at("AGENT_ROLE"), "lead");
}

TEST(RuntimeEnvTest, RefusesBadInputsClearly) {
  RuntimeEnvSources s = Sources();
  WorkerLaunchOptions o = Options();
  o.provider = "gpt";
  EXPECT_NE(BuildRuntimeEnv(s, o).error().message.find("--provider"), std::string::npos);
  o = Options();
  o.agent_role = "api";
  EXPECT_NE(BuildRuntimeEnv(s, o).error().message.find("--agent-role"), std::string::npos);
  s.inherit_env = {"BAD KEY"};
  EXPECT_NE(BuildRuntimeEnv(s, Options()).error().message.find("--inherit-env"), std::string::npos);
  s = Sources();
  s.api_key.clear();
  EXPECT_EQ(BuildRuntimeEnv(s, Options()).error().code, ErrorCode::kBadRequest);
}

TEST(RuntimeEnvTest, AgentIdFromTheEnvWinsOverTheFlag) {
  EXPECT_EQ(ResolveAgentId({{"AGENT_ID", "from-env"}}, "flag", "sbx"), "from-env");
  EXPECT_EQ(ResolveAgentId({}, "flag", "sbx"), "flag");
  EXPECT_EQ(ResolveAgentId({}, "", "sbx"), "e2b-sbx");
  EXPECT_EQ(ResolveAgentId({}, "", ""), "");
  RuntimeEnvSources s = Sources();
  s.secrets = {{"AGENT_ID", "secret-id"}};
  WorkerLaunchOptions o = Options();
  o.agent_id = "flag-id";
  auto plan = PlanWorkerLaunch(s, o);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->agent_id, "secret-id");
  EXPECT_EQ(plan->sandbox.metadata.at("agentId"), "secret-id");
}

TEST(WorkerMetadataTest, ReservedKeysCannotBeOverridden) {
  const StringMap m = WorkerMetadata(
      {{"app", "x"}, {"role", "api"}, {"launcher", "me"}, {"agentId", "fake"}, {"team", "blue"}},
      "");
  EXPECT_EQ(m.at("app"), "agent-swarm");
  EXPECT_EQ(m.at("role"), "worker");
  EXPECT_EQ(m.at("launcher"), "agent-swarm-e2b");
  EXPECT_EQ(m.count("agentId"), 0u);
  EXPECT_EQ(m.at("team"), "blue");
  EXPECT_EQ(WorkerMetadata({{"agentId", "fake"}}, "real").at("agentId"), "real");
}

TEST(PlanTest, DescribesTheSandboxAndTheBackgroundCommand) {
  WorkerLaunchOptions o = Options();
  o.timeout = std::chrono::seconds(900);
  o.cpu_count = 2;
  auto plan = PlanWorkerLaunch(Sources(), o);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->api_url, "http://127.0.0.1:3013");
  EXPECT_EQ(plan->sandbox.env_vars.at("MCP_BASE_URL"), "http://127.0.0.1:3013");
  EXPECT_EQ(plan->sandbox.template_id, "agent-swarm-worker");
  EXPECT_EQ(plan->sandbox.timeout, std::chrono::seconds(900));
  EXPECT_TRUE(plan->sandbox.secure);
  EXPECT_EQ(plan->sandbox.cpu_count, 2);
  EXPECT_EQ(plan->command.cmd,
            "bash -lc 'set -o pipefail; /docker-entrypoint.sh 2>&1 | tee "
            "/tmp/agent-swarm-e2b-worker.log'");
  EXPECT_EQ(plan->command.timeout, milliseconds(0));
  EXPECT_EQ(plan->command.user, "root");
  EXPECT_EQ(plan->command.envs, plan->sandbox.env_vars);
}

TEST(PlanTest, RefusesAMissingOrOddApiUrl) {
  WorkerLaunchOptions o = Options();
  o.api_url = "";
  EXPECT_NE(PlanWorkerLaunch(Sources(), o).error().message.find("--api-url is required"),
            std::string::npos);
  o.api_url = "ftp://x";
  EXPECT_FALSE(PlanWorkerLaunch(Sources(), o));
}

// A launch against the fake provider, on a fake clock that sleeping advances.
class LaunchTest : public ::testing::Test {
 protected:
  WorkerLaunchDeps Deps() {
    WorkerLaunchDeps deps;
    deps.provider = &provider;
    deps.sleep = [this](milliseconds d) {
      now += d;
      slept += d;
    };
    deps.now = [this] { return now; };
    deps.probe = [this](std::string_view url, std::string_view id,
                        std::string_view key) -> Result<void> {
      probes.push_back(std::string(url) + " " + std::string(id) + " " + std::string(key));
      if (probes.size() >= registers_at_probe) return {};
      return NotFound("not registered yet (404)");
    };
    return deps;
  }
  WorkerLaunchPlan Plan(WorkerLaunchOptions o = Options()) {
    auto plan = PlanWorkerLaunch(Sources(), o);
    EXPECT_TRUE(plan);
    return *plan;
  }

  FakeSandboxProvider provider;
  std::chrono::steady_clock::time_point now{};
  milliseconds slept{0};
  std::vector<std::string> probes;
  std::size_t registers_at_probe = 3;
};

TEST_F(LaunchTest, StartsTheEntrypointAndWaitsForRegistration) {
  auto result = LaunchWorker(Plan(), Deps());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->agent_id, "e2b-sbx-1");
  EXPECT_EQ(result->pid, 42);
  EXPECT_TRUE(result->registered);
  ASSERT_EQ(provider.started.size(), 1u);
  EXPECT_EQ(provider.started[0].envs.at("AGENT_ID"), "e2b-sbx-1");
  EXPECT_EQ(provider.created.at(0).metadata.at("launcher"), "agent-swarm-e2b");
  EXPECT_EQ(probes.size(), 3u);
  EXPECT_EQ(probes[0], std::string("http://127.0.0.1:3013 e2b-sbx-1 ") + kKey);
  EXPECT_EQ(slept, milliseconds(2 * 200));  // polled fast during the startup grace
  EXPECT_TRUE(provider.killed.empty());
}

TEST_F(LaunchTest, NoWaitReturnsOnceTheEntrypointSurvivesItsFirstSeconds) {
  WorkerLaunchOptions o = Options();
  o.wait_for_registration = false;
  o.agent_id = "given";
  auto result = LaunchWorker(Plan(o), Deps());
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->registered);
  EXPECT_EQ(result->agent_id, "given");
  EXPECT_TRUE(probes.empty());
  EXPECT_EQ(slept, milliseconds(2000));  // the whole grace: an early exit must be seen
}

TEST_F(LaunchTest, AWorkerThatExitsAtOnceFailsWithItsRedactedLogAndIsKilled) {
  provider.process_exits_after_lists = 0;
  provider.worker_log = std::string("boot\nkey is ") + kKey + "\nMCP_BASE_URL is required\n";
  auto result = LaunchWorker(Plan(), Deps());
  ASSERT_FALSE(result);
  const std::string& m = result.error().message;
  EXPECT_NE(m.find("exited at once"), std::string::npos) << m;
  EXPECT_NE(m.find("MCP_BASE_URL is required"), std::string::npos) << m;
  EXPECT_EQ(m.find(kKey), std::string::npos) << m;
  EXPECT_NE(m.find("[REDACTED:"), std::string::npos) << m;
  EXPECT_EQ(provider.killed, std::vector<std::string>{"sbx-1"});
  EXPECT_TRUE(probes.empty());
}

TEST_F(LaunchTest, RegistrationTimeoutSaysWhoWhereAndWhyAndKills) {
  registers_at_probe = 1000;
  WorkerLaunchOptions o = Options();
  o.wait = milliseconds(3500);
  auto result = LaunchWorker(Plan(o), Deps());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "Timed out waiting for worker e2b-sbx-1 to register at http://127.0.0.1:3013 "
            "(not registered yet (404))");
  EXPECT_EQ(provider.killed, std::vector<std::string>{"sbx-1"});
  EXPECT_EQ(probes.size(), 13u);  // every 200 ms up to 2 s, then at 3 and 3.5 s
}

TEST_F(LaunchTest, AWorkerThatDiesWhileWaitingFailsBeforeTheDeadline) {
  registers_at_probe = 1000;
  provider.process_exits_after_lists = 12;  // alive through the grace (11 looks) and at 3 s
  auto result = LaunchWorker(Plan(), Deps());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("exited before registering"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(probes.size(), 12u);
  EXPECT_EQ(now - std::chrono::steady_clock::time_point{}, milliseconds(4000));
  EXPECT_EQ(provider.killed.size(), 1u);
}

TEST_F(LaunchTest, AStartFailureKillsTheSandbox) {
  provider.start_error = Error{ErrorCode::kUnavailable, "envd unreachable"};
  auto result = LaunchWorker(Plan(), Deps());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("envd unreachable"), std::string::npos);
  EXPECT_EQ(provider.killed, std::vector<std::string>{"sbx-1"});
}

TEST_F(LaunchTest, ACreateFailureIsReturnedAsIs) {
  provider.create_error = Error{ErrorCode::kUnauthorized, "E2B 401: Invalid API key"};
  auto result = LaunchWorker(Plan(), Deps());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(result.error().message, "E2B 401: Invalid API key");
  EXPECT_TRUE(provider.killed.empty());
}

TEST_F(LaunchTest, TellsTheSandboxAsSoonAsItExists) {
  std::vector<std::string> seen;
  WorkerLaunchDeps deps = Deps();
  deps.on_created = [&](const SandboxInfo& info) {
    seen.push_back(info.id());
    EXPECT_TRUE(provider.started.empty());  // before the entrypoint starts
  };
  ASSERT_TRUE(LaunchWorker(Plan(), deps));
  EXPECT_EQ(seen, std::vector<std::string>{"sbx-1"});
}

TEST_F(LaunchTest, AStopEndsTheWaitAndKillsTheSandbox) {
  registers_at_probe = 1000;
  std::atomic<bool> stop{false};
  WorkerLaunchDeps deps = Deps();
  deps.stop = &stop;
  deps.sleep = [&](milliseconds d) {
    now += d;
    if (now - std::chrono::steady_clock::time_point{} >= milliseconds(1000)) stop = true;
  };
  auto result = LaunchWorker(Plan(), deps);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "stopped while waiting for worker e2b-sbx-1 to register");
  EXPECT_EQ(provider.killed, std::vector<std::string>{"sbx-1"});
  EXPECT_EQ(probes.size(), 5u);  // at 0, 200, ..., 800 ms; the stop is seen at 1 s
}

class FakeHttp : public http::HttpClient {
 public:
  int status = 200;
  std::vector<http::ClientRequest> requests;
  Result<http::ClientResponse> Send(const http::ClientRequest& request) override {
    requests.push_back(request);
    http::ClientResponse r;
    r.status = status;
    return r;
  }
};

TEST(HttpRegistrationProbeTest, AsksForTheAgentWithTheBearerKey) {
  FakeHttp http;
  auto probe = HttpRegistrationProbe(http);
  EXPECT_TRUE(probe("http://api:1", "smoke codex/1", "k"));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].url, "http://api:1/api/agents/smoke%20codex%2F1");
  EXPECT_EQ(http.requests[0].headers.at(0).first, "Authorization");
  EXPECT_EQ(http.requests[0].headers.at(0).second, "Bearer k");
  http.status = 404;
  EXPECT_EQ(probe("http://api:1", "a", "k").error().message, "not registered yet (404)");
  http.status = 401;
  EXPECT_EQ(probe("http://api:1", "a", "k").error().code, ErrorCode::kUnauthorized);
  http.status = 502;
  EXPECT_EQ(probe("http://api:1", "a", "k").error().message, "HTTP 502");
}

}  // namespace
}  // namespace swarm::sandbox
