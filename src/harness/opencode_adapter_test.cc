#include "harness/opencode_adapter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The real sample of notes/harness-clis.md §3 (--format json, a bash tool round trip).
const std::vector<std::string> kToolRun = {
    R"({"type":"step_start","timestamp":1795667105229,"sessionID":"ses_de9e670d5ffeP44c5DbJbyMIiP","part":{"id":"prt_1","messageID":"msg_1","sessionID":"ses_de9e670d5ffeP44c5DbJbyMIiP","type":"step-start"}})",
    R"({"type":"tool_use","timestamp":1795667105985,"sessionID":"ses_de9e670d5ffeP44c5DbJbyMIiP","part":{"type":"tool","tool":"bash","callID":"call_a966","state":{"status":"completed","input":{"command":"echo hello > made_by_tool.txt && echo done"},"output":"done\n","metadata":{"output":"done\n","exit":0,"truncated":false},"title":"echo hello"}}})",
    R"({"type":"step_finish","timestamp":1795667106000,"sessionID":"ses_de9e670d5ffeP44c5DbJbyMIiP","part":{"reason":"tool-calls","type":"step-finish","tokens":{"total":2509,"input":2454,"output":55,"reasoning":0,"cache":{"write":0,"read":0}},"cost":0.002564}})",
    R"({"type":"step_start","timestamp":1795667106010,"sessionID":"ses_de9e670d5ffeP44c5DbJbyMIiP","part":{"type":"step-start"}})",
    R"({"type":"text","timestamp":1795667106074,"sessionID":"ses_de9e670d5ffeP44c5DbJbyMIiP","part":{"type":"text","text":"pong","time":{"start":1,"end":2}}})",
    R"({"type":"step_finish","timestamp":1795667106080,"sessionID":"ses_de9e670d5ffeP44c5DbJbyMIiP","part":{"reason":"stop","type":"step-finish","tokens":{"total":2542,"input":2532,"output":10,"reasoning":1,"cache":{"write":2,"read":3}},"cost":0.002552}})",
};

TEST(OpencodeParser, ReadsASuccessfulRunWithAToolCall) {
  auto parser = OpencodeAdapter().NewParser();
  parser->Feed(kToolRun[0]);
  EXPECT_EQ(parser->session_id(), "ses_de9e670d5ffeP44c5DbJbyMIiP");
  const auto run = testing::ParseLines(OpencodeAdapter(), kToolRun);
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.session_id, "ses_de9e670d5ffeP44c5DbJbyMIiP");
  EXPECT_EQ(run.final_text, "pong");
  EXPECT_EQ(run.usage.input_tokens, 2454 + 2532);
  EXPECT_EQ(run.usage.output_tokens, 55 + 10);
  EXPECT_EQ(run.usage.reasoning_tokens, 1);
  EXPECT_EQ(run.usage.cache_read_tokens, 3);
  EXPECT_EQ(run.usage.cache_write_tokens, 2);
  EXPECT_NEAR(run.cost_usd.value_or(-1), 0.002564 + 0.002552, 1e-12);
}

TEST(OpencodeParser, AnErrorEventIsAFailureWithItsMessage) {
  const auto run = testing::ParseLines(
      OpencodeAdapter(),
      {R"({"type":"error","sessionID":"ses_x","error":{"name":"APIError","data":{"message":"Cannot connect to API: connect ECONNREFUSED 127.0.0.1:9","isRetryable":true}}})"},
      1);
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error, "Cannot connect to API: connect ECONNREFUSED 127.0.0.1:9");
  EXPECT_EQ(run.session_id, "ses_x");
  EXPECT_EQ(run.cost_usd, std::nullopt);
}

TEST(OpencodeParser, AnErrorWithoutDataFallsBackToItsName) {
  const auto run = testing::ParseLines(
      OpencodeAdapter(),
      {R"({"type":"error","sessionID":"s","error":{"name":"ProviderInitError"}})"});
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error, "ProviderInitError");
}

TEST(OpencodeParser, ANonZeroExitIsAFailure) {
  const auto run = testing::ParseLines(OpencodeAdapter(), kToolRun, 1);
  EXPECT_FALSE(run.ok);
  EXPECT_THAT(run.error.value_or(""), HasSubstr("exited with code 1"));
}

TEST(OpencodeParser, AZeroCostForSpentTokensMeansUnpriced) {
  const auto run = testing::ParseLines(
      OpencodeAdapter(),
      {R"({"type":"step_finish","sessionID":"s","part":{"tokens":{"input":10,"output":2},"cost":0}})"});
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.usage.input_tokens, 10);
  EXPECT_EQ(run.cost_usd, std::nullopt);
}

TEST(OpencodeAdapter, PreparesTheInvocationWithThePromptOnStdin) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path(), "say pong, \"quoted\"\nline two");
  ModelEndpoint endpoint{ModelEndpoint::Api::kOpenAi, "http://127.0.0.1:8765", "sk-oc-secret",
                         "gpt-4o-mini"};
  auto spec = OpencodeAdapter().Prepare(run, endpoint);
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_THAT(spec->argv, ElementsAre("opencode", "run", "--format", "json", "--auto"));
  EXPECT_EQ(spec->stdin_data, "Task ID: task-1\n\n" + run.prompt);  // verbatim, then closed
  EXPECT_EQ(spec->cwd, run.work_dir);

  auto& env = spec->env;
  const auto xdg = run.home_dir / "xdg";
  EXPECT_EQ(env["XDG_CONFIG_HOME"], (xdg / "config").string());
  EXPECT_EQ(env["XDG_DATA_HOME"], (xdg / "data").string());
  EXPECT_EQ(env["XDG_CACHE_HOME"], (xdg / "cache").string());
  EXPECT_EQ(env["XDG_STATE_HOME"], (xdg / "state").string());
  for (const char* var : {"OPENCODE_DISABLE_AUTOUPDATE", "OPENCODE_DISABLE_MODELS_FETCH",
                          "OPENCODE_DISABLE_LSP_DOWNLOAD", "OPENCODE_DISABLE_DEFAULT_PLUGINS",
                          "OPENCODE_DISABLE_SHARE", "OPENCODE_DISABLE_CLAUDE_CODE"}) {
    EXPECT_EQ(env[var], "1") << var;
  }
  EXPECT_EQ(env["SWARM_MODEL_API_KEY"], "sk-oc-secret");

  const auto config_dir = xdg / "config" / "opencode";
  const json config = json::parse(testing::ReadFile(config_dir / "opencode.json"));
  EXPECT_EQ(config["model"], "swarm/gpt-4o-mini");
  EXPECT_EQ(config["small_model"], "swarm/gpt-4o-mini");
  EXPECT_EQ(config["enabled_providers"], json::array({"swarm"}));
  EXPECT_EQ(config["autoupdate"], false);
  EXPECT_EQ(config["share"], "disabled");
  const json& provider = config["provider"]["swarm"];
  EXPECT_EQ(provider["npm"], "@ai-sdk/openai-compatible");
  EXPECT_EQ(provider["options"]["baseURL"], "http://127.0.0.1:8765/v1");
  EXPECT_EQ(provider["options"]["apiKey"], "{env:SWARM_MODEL_API_KEY}");
  const json& model = provider["models"]["gpt-4o-mini"];
  EXPECT_EQ(model["tool_call"], true);
  EXPECT_DOUBLE_EQ(model["cost"]["input"].get<double>(), 0.15);  // from the pricing table
  EXPECT_DOUBLE_EQ(model["cost"]["output"].get<double>(), 0.6);

  // The plugin stub that stops the npm install on every start.
  EXPECT_EQ(json::parse(testing::ReadFile(config_dir / "package.json")),
            json::parse(R"({"dependencies":{"@opencode-ai/plugin":"1.18.33"}})"));
  EXPECT_EQ(
      json::parse(testing::ReadFile(config_dir / "package-lock.json")),
      json::parse(
          R"({"lockfileVersion":3,"packages":{"":{"dependencies":{"@opencode-ai/plugin":"1.18.33"}}}})"));
  EXPECT_TRUE(std::filesystem::is_directory(config_dir / "node_modules"));
}

TEST(OpencodeConfigJson, UsesTheAnthropicProviderForAnAnthropicEndpoint) {
  const json config = json::parse(OpencodeConfigJson(
      {ModelEndpoint::Api::kAnthropic, "http://127.0.0.1:8765", "k", std::nullopt}));
  const json& provider = config["provider"]["swarm"];
  EXPECT_EQ(provider["npm"], "@ai-sdk/anthropic");
  EXPECT_EQ(provider["options"]["baseURL"], "http://127.0.0.1:8765/v1");
  EXPECT_EQ(config["model"], "swarm/claude-sonnet-4-5");
}

TEST(OpencodeConfigJson, DefaultsToOpenRoutersUrlAndKeepsRoutedModelNames) {
  const json config = json::parse(
      OpencodeConfigJson({ModelEndpoint::Api::kOpenRouter, "", "k", "anthropic/claude-haiku-4-5"}));
  EXPECT_EQ(config["provider"]["swarm"]["options"]["baseURL"], "https://openrouter.ai/api/v1");
  EXPECT_EQ(config["model"], "swarm/anthropic/claude-haiku-4-5");
  EXPECT_TRUE(config["provider"]["swarm"]["models"].contains("anthropic/claude-haiku-4-5"));
}

TEST(OpencodeConfigJson, WithoutAKeyHasNoApiKeyOption) {
  const json config =
      json::parse(OpencodeConfigJson({ModelEndpoint::Api::kOpenAi, "http://h/v1", "", "m"}));
  EXPECT_FALSE(config["provider"]["swarm"]["options"].contains("apiKey"));
}

TEST(OpencodeAdapter, ConfiguresTheMcpServerAsARemoteEntry) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path());
  run.mcp = testing::TestMcpAccess();
  auto spec = OpencodeAdapter().Prepare(run, {ModelEndpoint::Api::kOpenAi, "http://h", "k", {}});
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  const auto config = nlohmann::json::parse(
      testing::ReadFile(run.home_dir / "xdg" / "config" / "opencode" / "opencode.json"));
  EXPECT_EQ(config.at("mcp"), nlohmann::json::parse(R"({"agent-swarm":{"type":"remote",
              "url":"http://127.0.0.1:3013/mcp","enabled":true,
              "headers":{"Authorization":"Bearer {env:SWARM_MCP_TOKEN}",
                         "X-Agent-ID":"{env:SWARM_AGENT_ID}","X-Source-Task-Id":"task-1"},
              "timeout":15000}})"));
  EXPECT_EQ(spec->env["SWARM_MCP_TOKEN"], run.mcp->token);
  EXPECT_EQ(spec->env["SWARM_AGENT_ID"], "agent-7");
  EXPECT_FALSE(
      nlohmann::json::parse(OpencodeConfigJson({ModelEndpoint::Api::kOpenAi, "h", "k", {}}))
          .contains("mcp"));
}

// The shapes of notes/harness-mcp.md (opencode 1.18.33): tool_use events named
// <server>_<tool>; an isError result is state.status "error" with no output.
TEST(OpencodeParser, ReadsTheMcpToolCalls) {
  const auto run = testing::ParseLines(
      OpencodeAdapter(),
      {
          R"({"type":"step_start","sessionID":"ses_1","part":{"type":"step-start"}})",
          R"({"type":"tool_use","sessionID":"ses_1","part":{"type":"tool","tool":"agent-swarm_store-progress","callID":"call_1","state":{"status":"error","input":{"taskId":"task-1","status":"completed","output":"x"},"error":"Error: output does not match"}}})",
          R"({"type":"tool_use","sessionID":"ses_1","part":{"type":"tool","tool":"agent-swarm_store-progress","callID":"call_2","state":{"status":"completed","input":{"taskId":"task-1","status":"completed","output":"{\"n\":1}"},"output":"completed","metadata":{"truncated":false}}}})",
          R"({"type":"tool_use","sessionID":"ses_1","part":{"type":"tool","tool":"bash","callID":"call_3","state":{"status":"completed","input":{"command":"ls"},"output":""}}})",
          R"({"type":"step_finish","sessionID":"ses_1","part":{"reason":"tool-calls","tokens":{"input":1,"output":1}}})",
          R"({"type":"text","sessionID":"ses_1","part":{"type":"text","text":"{\"n\":1}"}})",
      });
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.mcp_status, McpStatus::kConnected);
  ASSERT_EQ(run.mcp_calls.size(), 2u);
  EXPECT_EQ(run.mcp_calls[0].tool, "store-progress");
  EXPECT_EQ(run.mcp_calls[0].is_error, true);
  EXPECT_EQ(run.mcp_calls[1].is_error, false);
  // No call of the server's tools: opencode does not say whether it connected.
  const auto quiet = testing::ParseLines(
      OpencodeAdapter(), {R"({"type":"text","sessionID":"ses_1","part":{"text":"pong"}})"});
  EXPECT_EQ(quiet.mcp_status, McpStatus::kUnknown);
  EXPECT_TRUE(quiet.mcp_calls.empty());
}

}  // namespace
}  // namespace swarm::harness
