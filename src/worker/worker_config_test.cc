#include "worker/worker_config.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/mcp_token.h"
#include "core/redact.h"

namespace swarm::worker {
namespace {

using std::chrono::milliseconds;

EnvMap Minimal() {
  return {{"MCP_BASE_URL", "http://127.0.0.1:3013/"},
          {"AGENT_SWARM_API_KEY", "swarm-key-0123456789"},
          {"AGENT_ID", "smoke-claude-abc123"},
          {"ANTHROPIC_API_KEY", "sk-ant-test-0123456789"},
          {"HOME", "/home/w"},
          {"PATH", "/usr/bin:/bin"}};
}

std::string ErrorOf(const EnvMap& env) {
  auto config = WorkerConfig::FromEnv(env);
  EXPECT_FALSE(config) << "expected a configuration error";
  return config ? "" : config.error().message;
}

class WorkerConfigTest : public ::testing::Test {
 protected:
  void TearDown() override { ClearSecretsForTest(); }
};

TEST_F(WorkerConfigTest, MinimalEnvironmentTakesTheDefaults) {
  auto c = WorkerConfig::FromEnv(Minimal());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->api_url, "http://127.0.0.1:3013");
  EXPECT_EQ(c->api_key, "swarm-key-0123456789");
  EXPECT_EQ(c->agent_id, "smoke-claude-abc123");
  EXPECT_EQ(c->agent_name, "worker-smoke-cl");
  EXPECT_EQ(c->role, "worker");
  EXPECT_FALSE(c->is_lead);
  EXPECT_EQ(c->max_tasks, 1);
  EXPECT_EQ(c->provider, harness::Provider::kClaude);
  EXPECT_EQ(c->provider_name, "claude");
  EXPECT_EQ(c->endpoint.api, harness::ModelEndpoint::Api::kAnthropic);
  EXPECT_EQ(c->endpoint.base_url, "https://api.anthropic.com");
  EXPECT_EQ(c->endpoint.api_key, "sk-ant-test-0123456789");
  EXPECT_EQ(c->endpoint.model, std::nullopt);
  EXPECT_FALSE(c->yolo);
  EXPECT_EQ(c->api_ready_timeout, milliseconds(90'000));
  EXPECT_EQ(c->task_timeout, milliseconds(600'000));
  EXPECT_EQ(c->shutdown_timeout, milliseconds(30'000));
  EXPECT_EQ(c->poll_wait, milliseconds(10'000));
  EXPECT_EQ(c->heartbeat_interval, milliseconds(5'000));
  EXPECT_EQ(c->cancel_check_interval, milliseconds(1'000));
  // Run as root (CI, sandboxes) the CLI runs as another user, who cannot enter root's home.
  EXPECT_EQ(c->work_root, c->cli_user ? "/tmp/agent-swarm-worker/smoke-claude-abc123"
                                      : "/home/w/.agent-swarm/worker/smoke-claude-abc123");
  EXPECT_EQ(c->base_env.at("PATH"), "/usr/bin:/bin");
  EXPECT_EQ(c->base_env.count("HOME"), 0u);               // set per task
  EXPECT_EQ(c->base_env.count("ANTHROPIC_API_KEY"), 0u);  // the adapter places the key
}

TEST_F(WorkerConfigTest, TheSeedEnvironmentIsAccepted) {
  EnvMap env = Minimal();
  env.erase("AGENT_SWARM_API_KEY");
  env["API_KEY"] = "legacy-key-0123456789";
  env["AGENT_ROLE"] = "worker";
  env["HARNESS_PROVIDER"] = "codex";
  env["OPENAI_API_KEY"] = "sk-openai-0123456789";
  env["OPENAI_BASE_URL"] = "http://127.0.0.1:8765/v1/";
  env["MAX_CONCURRENT_TASKS"] = "1";
  env["WORKER_YOLO"] = "true";
  env["SLACK_DISABLE"] = "true";
  env["GITHUB_DISABLE"] = "true";
  env["MODEL_OVERRIDE"] = "gpt-test";
  auto c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->api_key, "legacy-key-0123456789");
  EXPECT_EQ(c->provider, harness::Provider::kCodex);
  EXPECT_EQ(c->endpoint.api, harness::ModelEndpoint::Api::kOpenAi);
  EXPECT_EQ(c->endpoint.base_url, "http://127.0.0.1:8765/v1");
  EXPECT_EQ(c->endpoint.api_key, "sk-openai-0123456789");
  EXPECT_EQ(c->endpoint.model, "gpt-test");
  EXPECT_TRUE(c->yolo);
  EXPECT_TRUE(c->slack_disable);
  EXPECT_TRUE(c->github_disable);
}

TEST_F(WorkerConfigTest, AgentSwarmApiKeyWinsOverApiKey) {
  EnvMap env = Minimal();
  env["API_KEY"] = "other-key-0123456789";
  auto c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api_key, "swarm-key-0123456789");
}

TEST_F(WorkerConfigTest, MissingRequiredVariablesAreAllNamed) {
  const std::string error = ErrorOf({{"ANTHROPIC_API_KEY", "sk-ant-test-0123456789"}});
  EXPECT_NE(error.find("MCP_BASE_URL is required"), std::string::npos) << error;
  EXPECT_NE(error.find("AGENT_SWARM_API_KEY (or API_KEY) is required"), std::string::npos);
  EXPECT_NE(error.find("AGENT_ID is required"), std::string::npos);
}

TEST_F(WorkerConfigTest, BadValuesAreNamed) {
  struct Case {
    const char* var;
    const char* value;
    const char* expected;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"MCP_BASE_URL", "localhost:3013", "MCP_BASE_URL must be an http"},
           {"AGENT_ID", "has space", "AGENT_ID must be"},
           {"AGENT_ROLE", "boss", "AGENT_ROLE must be worker or lead"},
           {"HARNESS_PROVIDER", "gemini", "HARNESS_PROVIDER must be claude, codex, opencode or pi"},
           {"MAX_CONCURRENT_TASKS", "0", "MAX_CONCURRENT_TASKS must be an integer from 1 to 100"},
           {"MAX_CONCURRENT_TASKS", "101", "MAX_CONCURRENT_TASKS"},
           {"WORKER_YOLO", "sure", "WORKER_YOLO must be a boolean"},
           {"SLACK_DISABLE", "2", "SLACK_DISABLE must be a boolean"},
           {"GITHUB_DISABLE", "x", "GITHUB_DISABLE must be a boolean"},
           {"SHUTDOWN_TIMEOUT", "-5", "SHUTDOWN_TIMEOUT must be a number"},
           {"WORKER_API_READY_TIMEOUT_SECONDS", "soon", "WORKER_API_READY_TIMEOUT_SECONDS"},
           {"WORKER_TASK_TIMEOUT_SECONDS", "0", "WORKER_TASK_TIMEOUT_SECONDS"},
           {"WORKER_WORK_DIR", "relative/dir", "WORKER_WORK_DIR must be an absolute path"},
           {"ANTHROPIC_BASE_URL", "not a url", "ANTHROPIC_BASE_URL must be an http"},
       }) {
    EnvMap env = Minimal();
    env[c.var] = c.value;
    const std::string error = ErrorOf(env);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << c.var << "=" << c.value << ": " << error;
  }
}

TEST_F(WorkerConfigTest, ClaudeNeedsTheAnthropicKey) {
  EnvMap env = Minimal();
  env.erase("ANTHROPIC_API_KEY");
  EXPECT_NE(ErrorOf(env).find("ANTHROPIC_API_KEY is required for HARNESS_PROVIDER=claude"),
            std::string::npos);
}

TEST_F(WorkerConfigTest, CodexNeedsTheOpenAiKey) {
  EnvMap env = Minimal();
  env["HARNESS_PROVIDER"] = "codex";
  EXPECT_NE(ErrorOf(env).find("OPENAI_API_KEY is required for HARNESS_PROVIDER=codex"),
            std::string::npos);
}

TEST_F(WorkerConfigTest, OpencodeAndPiTakeWhicheverKeyIsSet) {
  for (const char* provider : {"opencode", "pi"}) {
    EnvMap env = Minimal();
    env.erase("ANTHROPIC_API_KEY");
    env["HARNESS_PROVIDER"] = provider;
    env["OPENROUTER_API_KEY"] = "sk-or-0123456789";
    auto c = WorkerConfig::FromEnv(env);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->endpoint.api, harness::ModelEndpoint::Api::kOpenRouter);
    EXPECT_EQ(c->endpoint.base_url, "https://openrouter.ai/api/v1");
    EXPECT_EQ(c->endpoint.api_key, "sk-or-0123456789");

    env["OPENAI_API_KEY"] = "sk-openai-0123456789";
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9000/v1";
    c = WorkerConfig::FromEnv(env);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->endpoint.api, harness::ModelEndpoint::Api::kOpenAi);
    EXPECT_EQ(c->endpoint.base_url, "http://127.0.0.1:9000/v1");

    env["HARNESS_MODEL_API"] = "openrouter";  // the explicit choice wins
    c = WorkerConfig::FromEnv(env);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->endpoint.api, harness::ModelEndpoint::Api::kOpenRouter);
  }
}

TEST_F(WorkerConfigTest, OpencodeWithoutAnyKeyIsAnError) {
  EnvMap env = Minimal();
  env.erase("ANTHROPIC_API_KEY");
  env["HARNESS_PROVIDER"] = "opencode";
  const std::string error = ErrorOf(env);
  EXPECT_NE(error.find("HARNESS_PROVIDER=opencode needs a model credential"), std::string::npos)
      << error;
  env["HARNESS_MODEL_API"] = "gemini";
  EXPECT_NE(ErrorOf(env).find("HARNESS_MODEL_API must be"), std::string::npos);
}

TEST_F(WorkerConfigTest, LeadDefaultsToTwoTasks) {
  EnvMap env = Minimal();
  env["AGENT_ROLE"] = "lead";
  auto c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->is_lead);
  EXPECT_EQ(c->max_tasks, 2);
  env["MAX_CONCURRENT_TASKS"] = "5";
  EXPECT_EQ(WorkerConfig::FromEnv(env)->max_tasks, 5);
}

TEST_F(WorkerConfigTest, SecretsAreRegisteredForRedaction) {
  auto c = WorkerConfig::FromEnv(Minimal());
  ASSERT_TRUE(c);
  EXPECT_EQ(Redact("key swarm-key-0123456789 and sk-ant-test-0123456789"),
            "key [REDACTED] and [REDACTED]");
  // Even a configuration error must not leave a secret unregistered.
  ClearSecretsForTest();
  EnvMap env = Minimal();
  env["MAX_CONCURRENT_TASKS"] = "0";
  EXPECT_FALSE(WorkerConfig::FromEnv(env));
  EXPECT_EQ(Redact("swarm-key-0123456789"), "[REDACTED]");
}

TEST_F(WorkerConfigTest, KnobsAndChildEnvironment) {
  EnvMap env = Minimal();
  env["WORKER_API_READY_TIMEOUT_SECONDS"] = "2.5";
  env["SHUTDOWN_TIMEOUT"] = "1500";
  env["WORKER_POLL_WAIT_SECONDS"] = "0.5";
  env["WORKER_WORK_DIR"] = "/srv/tasks";
  env["HARNESS_BIN_DIR"] = "/opt/harness/node_modules/.bin";
  env["LANG"] = "C.UTF-8";
  env["SECRET_THING"] = "not copied";
  env["CAPABILITIES"] = "core, task-pool,,";
  env["AGENT_NAME"] = "Smoke worker";
  auto c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->api_ready_timeout, milliseconds(2'500));
  EXPECT_EQ(c->shutdown_timeout, milliseconds(1'500));
  EXPECT_EQ(c->poll_wait, milliseconds(500));
  EXPECT_EQ(c->work_root, "/srv/tasks");  // given: kept, whoever the CLI runs as
  EXPECT_EQ(c->base_env.at("PATH"), "/opt/harness/node_modules/.bin:/usr/bin:/bin");
  EXPECT_EQ(c->base_env.at("LANG"), "C.UTF-8");
  EXPECT_EQ(c->base_env.count("SECRET_THING"), 0u);
  EXPECT_EQ(c->capabilities, (std::vector<std::string>{"core", "task-pool"}));
  EXPECT_EQ(c->agent_name, "Smoke worker");
}

TEST_F(WorkerConfigTest, WorkRootWithoutHomeIsUnderTmpAndSafe) {
  EnvMap env = Minimal();
  env.erase("HOME");
  env["AGENT_ID"] = "../evil/id";
  auto c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->work_root, "/tmp/agent-swarm-worker/.._evil_id");
}

TEST_F(WorkerConfigTest, ARootWorkersTasksLiveWhereTheCliUserCanEnter) {
  EnvMap env = Minimal();
  env["WORKER_CLI_USER"] = "nobody";
  auto c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c) << c.error().message;
  if (geteuid() != 0) {
    EXPECT_FALSE(c->cli_user);  // nobody to switch to: the CLI runs as the worker
    EXPECT_EQ(c->work_root, "/home/w/.agent-swarm/worker/smoke-claude-abc123");
    return;
  }
  ASSERT_TRUE(c->cli_user);
  EXPECT_EQ(c->work_root, "/tmp/agent-swarm-worker/smoke-claude-abc123");
  env["WORKER_CLI_USER"] = "root";  // asked to stay root: root's home is fine
  c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->work_root, "/home/w/.agent-swarm/worker/smoke-claude-abc123");
}

TEST_F(WorkerConfigTest, McpAuthDefaultsToAutoWhichTakesTaskTokensOnlyFromAnApiThatSaysSo) {
  auto c = WorkerConfig::FromEnv(Minimal());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mcp_auth, McpAuth::kAuto);
  const nlohmann::json ours = {{"status", "ok"}, {"mcp", {{"taskTokens", true}}}};
  EXPECT_EQ(ResolveMcpAuth(McpAuth::kAuto, ours), McpAuth::kTask);
  // Upstream's /health is {status, version}: no MCP rather than the swarm key in the CLI.
  EXPECT_EQ(ResolveMcpAuth(McpAuth::kAuto, {{"status", "ok"}, {"version", "1.135.0"}}),
            McpAuth::kOff);
  EXPECT_EQ(ResolveMcpAuth(McpAuth::kAuto, {{"mcp", {{"taskTokens", "yes"}}}}), McpAuth::kOff);
  EXPECT_EQ(ResolveMcpAuth(McpAuth::kAuto, nlohmann::json::array()), McpAuth::kOff);
  // An explicit setting is kept whatever the API says.
  EXPECT_EQ(ResolveMcpAuth(McpAuth::kKey, ours), McpAuth::kKey);
  EXPECT_EQ(ResolveMcpAuth(McpAuth::kTask, nlohmann::json::object()), McpAuth::kTask);
  EXPECT_EQ(McpAccessFor(*c, McpAuth::kAuto, "task-42"), std::nullopt);  // unresolved: none

  const auto mcp = McpAccessFor(*c, ResolveMcpAuth(c->mcp_auth, ours), "task-42");
  ASSERT_TRUE(mcp);
  EXPECT_EQ(mcp->url, "http://127.0.0.1:3013/mcp");
  EXPECT_EQ(mcp->agent_id, "smoke-claude-abc123");
  EXPECT_EQ(mcp->task_id, "task-42");
  // Bound to this agent and task, and never the key itself.
  EXPECT_EQ(mcp->token.find("swarm-key-0123456789"), std::string::npos);
  EXPECT_EQ(VerifyMcpTaskToken("swarm-key-0123456789", "smoke-claude-abc123", mcp->token),
            "task-42");
  EXPECT_EQ(VerifyMcpTaskToken("swarm-key-0123456789", "another-agent", mcp->token), std::nullopt);
}

TEST_F(WorkerConfigTest, McpAuthKeyHandsTheSwarmKeyAndOffHandsNothing) {
  EnvMap env = Minimal();
  env["MCP_AUTH"] = "key";
  auto c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mcp_auth, McpAuth::kKey);
  EXPECT_EQ(McpAccessFor(*c, c->mcp_auth, "t")->token, "swarm-key-0123456789");

  env["MCP_AUTH"] = "off";
  c = WorkerConfig::FromEnv(env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(McpAccessFor(*c, c->mcp_auth, "t"), std::nullopt);

  env["MCP_AUTH"] = "bearer";
  EXPECT_NE(ErrorOf(env).find("MCP_AUTH must be auto, task, key or off, got \"bearer\""),
            std::string::npos);
}

}  // namespace
}  // namespace swarm::worker
