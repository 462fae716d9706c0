#include "harness/pi_adapter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/pi_mcp_extension.h"
#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kToolUse =
    R"({"role":"assistant","content":[{"type":"toolCall","id":"call_e456","name":"bash","arguments":{"command":"echo hello > made_by_tool.txt && echo done"}}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":626,"output":55,"cacheRead":1,"cacheWrite":2,"totalTokens":681,"cost":{"input":0.000626,"output":0.00011,"cacheRead":0,"cacheWrite":0,"total":0.000736}},"stopReason":"toolUse","responseId":"chatcmpl-1"})";
const std::string kReply =
    R"({"role":"assistant","content":[{"type":"text","text":"pong"}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":704,"output":10,"totalTokens":714,"cost":{"total":0.000724}},"stopReason":"stop"})";
const std::string kUser = R"({"role":"user","content":[{"type":"text","text":"please do it"}]})";

// The trimmed real sample of notes/harness-clis.md §4 (--mode json, one bash call).
std::vector<std::string> ToolRun() {
  return {
      R"({"type":"session","version":3,"id":"01a2161b-abdf-7270-850c-3eb10339e00b","timestamp":"2026-11-26T04:27:21.952Z","cwd":"/w"})",
      R"({"type":"agent_start"})",
      R"({"type":"turn_start"})",
      R"({"type":"message_start","message":)" + kUser + "}",
      R"({"type":"message_end","message":)" + kUser + "}",
      R"({"type":"message_end","message":)" + kToolUse + "}",
      R"({"type":"tool_execution_start","toolCallId":"call_e456","toolName":"bash","args":{"command":"echo hello"}})",
      R"({"type":"tool_execution_end","toolCallId":"call_e456","toolName":"bash","result":{"content":[{"type":"text","text":"done\n"}]},"isError":false})",
      R"({"type":"turn_end"})",
      R"({"type":"turn_start"})",
      R"({"type":"message_end","message":)" + kReply + "}",
      R"({"type":"turn_end"})",
      R"({"type":"agent_end","messages":[)" + kUser + "," + kToolUse + "," + kReply + "]}",
  };
}

TEST(PiParser, ReadsASuccessfulRunWithAToolCall) {
  const auto lines = ToolRun();
  auto parser = PiAdapter().NewParser();
  parser->Feed(lines[0]);
  EXPECT_EQ(parser->session_id(), "01a2161b-abdf-7270-850c-3eb10339e00b");
  const auto run = testing::ParseLines(PiAdapter(), lines);
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.session_id, "01a2161b-abdf-7270-850c-3eb10339e00b");
  EXPECT_EQ(run.final_text, "pong");
  // Counted once, though message_end and agent_end both list the messages.
  EXPECT_EQ(run.usage.input_tokens, 626 + 704);
  EXPECT_EQ(run.usage.output_tokens, 55 + 10);
  EXPECT_EQ(run.usage.cache_read_tokens, 1);
  EXPECT_EQ(run.usage.cache_write_tokens, 2);
  EXPECT_NEAR(run.cost_usd.value_or(-1), 0.000736 + 0.000724, 1e-12);
  EXPECT_EQ(run.model, "fake-model");
}

TEST(PiParser, WithoutAgentEndUsesTheStreamedMessages) {
  auto lines = ToolRun();
  lines.pop_back();
  const auto run = testing::ParseLines(PiAdapter(), lines);
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.final_text, "pong");
  EXPECT_EQ(run.usage.input_tokens, 626 + 704);
}

TEST(PiParser, AnApiErrorFailsDespiteExitCodeZero) {
  const std::string failed =
      R"({"role":"assistant","content":[],"model":"fake-model","usage":{"input":0,"output":0,"cost":{"total":0}},"stopReason":"error","errorMessage":"Connection error."})";
  const auto run =
      testing::ParseLines(PiAdapter(),
                          {ToolRun()[0], R"({"type":"message_end","message":)" + failed + "}",
                           R"({"type":"agent_end","messages":[)" + kUser + "," + failed + "]}"},
                          0);
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error, "Connection error.");
  EXPECT_EQ(run.session_id, "01a2161b-abdf-7270-850c-3eb10339e00b");
}

TEST(PiParser, NoAssistantMessageIsAFailure) {
  auto run = testing::ParseLines(PiAdapter(), {ToolRun()[0]});
  EXPECT_FALSE(run.ok);
  EXPECT_THAT(run.error.value_or(""), HasSubstr("no assistant message"));
  run = testing::ParseLines(PiAdapter(), {"Error: models.json is invalid"}, 1);
  EXPECT_FALSE(run.ok);
  EXPECT_THAT(run.error.value_or(""), HasSubstr("exited with code 1"));
}

TEST(PiAdapter, PreparesTheInvocationAndItsConfig) {
  testing::TempDir root;
  const auto run = testing::MakeTaskRun(root.path());
  ModelEndpoint endpoint{ModelEndpoint::Api::kOpenAi, "http://127.0.0.1:8765", "sk-pi-secret",
                         "gpt-5-mini"};
  auto spec = PiAdapter().Prepare(run, endpoint);
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_THAT(spec->argv, ElementsAre("pi", "-p", "--mode", "json"));
  EXPECT_EQ(spec->stdin_data, "Task ID: task-1\n\nsay pong");
  auto& env = spec->env;
  EXPECT_EQ(env["PI_CODING_AGENT_DIR"], (run.home_dir / "pi").string());
  EXPECT_EQ(env["PI_OFFLINE"], "1");
  EXPECT_EQ(env["PI_SKIP_VERSION_CHECK"], "1");
  EXPECT_EQ(env["PI_TELEMETRY"], "0");
  EXPECT_EQ(env["SWARM_MODEL_API_KEY"], "sk-pi-secret");

  const json models = json::parse(testing::ReadFile(run.home_dir / "pi" / "models.json"));
  const json& provider = models["providers"]["swarm"];
  EXPECT_EQ(provider["baseUrl"], "http://127.0.0.1:8765/v1");
  EXPECT_EQ(provider["api"], "openai-completions");
  EXPECT_EQ(provider["apiKey"], "SWARM_MODEL_API_KEY");  // the variable's name, not the key
  EXPECT_EQ(provider["compat"]["supportsDeveloperRole"], false);
  ASSERT_EQ(provider["models"].size(), 1u);
  EXPECT_EQ(provider["models"][0]["id"], "gpt-5-mini");
  EXPECT_DOUBLE_EQ(provider["models"][0]["cost"]["input"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(provider["models"][0]["cost"]["output"].get<double>(), 2.0);

  const json settings = json::parse(testing::ReadFile(run.home_dir / "pi" / "settings.json"));
  EXPECT_EQ(settings["defaultProvider"], "swarm");
  EXPECT_EQ(settings["defaultModel"], "gpt-5-mini");
  EXPECT_EQ(settings["retry"]["enabled"], false);
  EXPECT_EQ(settings["retry"]["provider"]["maxRetries"], 0);
  EXPECT_EQ(settings["enableInstallTelemetry"], false);
}

TEST(PiModelsJson, SpeaksAnthropicMessagesToAnAnthropicEndpoint) {
  const json models = json::parse(PiModelsJson(
      {ModelEndpoint::Api::kAnthropic, "http://127.0.0.1:8765/v1", "k", "fake-model"}));
  const json& provider = models["providers"]["swarm"];
  EXPECT_EQ(provider["api"], "anthropic-messages");
  EXPECT_EQ(provider["baseUrl"], "http://127.0.0.1:8765");  // pi adds /v1/messages
  EXPECT_FALSE(provider.contains("compat"));
  EXPECT_EQ(provider["models"][0]["cost"]["input"], 0.0);  // not in the table: unpriced
}

TEST(PiAdapter, SendsAPromptThatLooksLikeAFileReferenceOnStdin) {
  testing::TempDir root;
  auto spec = PiAdapter().Prepare(testing::MakeTaskRun(root.path(), "@README.md summarise"),
                                  {ModelEndpoint::Api::kOpenAi, "", "k", {}});
  ASSERT_TRUE(spec.has_value());
  EXPECT_THAT(spec->argv, ElementsAre("pi", "-p", "--mode", "json"));
  EXPECT_EQ(spec->stdin_data, "Task ID: task-1\n\n@README.md summarise");
}

TEST(PiAdapter, WritesTheMcpExtensionIntoTheAgentDir) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path());
  run.mcp = testing::TestMcpAccess();
  auto spec = PiAdapter().Prepare(run, {ModelEndpoint::Api::kOpenAi, "http://h", "k", {}});
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  const auto extension = run.home_dir / "pi" / "extensions" / kPiMcpExtensionFile;
  // The file in the repository, built into the binary byte for byte.
  const std::string source = testing::ReadFile(std::filesystem::path(SWARM_SOURCE_DIR) /
                                               "src/harness/pi_mcp_extension.ts");
  ASSERT_FALSE(source.empty());
  EXPECT_EQ(PiMcpExtensionSource(), source);
  EXPECT_EQ(testing::ReadFile(extension), source);
  // It reads everything from the environment pi is given.
  for (const char* var : {kMcpUrlEnv, kMcpTokenEnv, kMcpAgentEnv, kMcpTaskEnv}) {
    EXPECT_THAT(source, HasSubstr(var));
    EXPECT_EQ(spec->env.count(var), 1u) << var;
  }
  EXPECT_THAT(source, HasSubstr(kPiMcpMarker));
  EXPECT_EQ(spec->env["SWARM_MCP_URL"], "http://127.0.0.1:3013/mcp");

  testing::TempDir bare;
  const auto without = testing::MakeTaskRun(bare.path());
  ASSERT_TRUE(PiAdapter().Prepare(without, {ModelEndpoint::Api::kOpenAi, "http://h", "k", {}}));
  EXPECT_FALSE(std::filesystem::exists(without.home_dir / "pi" / "extensions"));
}

// pi's events for an extension tool (notes/harness-mcp.md), and the extension's stderr line.
std::vector<std::string> McpToolRun() {
  auto lines = ToolRun();
  lines.insert(
      lines.end() - 1,
      {R"({"type":"tool_execution_start","toolCallId":"call_1","toolName":"store-progress","args":{"taskId":"task-1","status":"completed","output":"x"}})",
       R"({"type":"tool_execution_end","toolCallId":"call_1","toolName":"store-progress","result":{"content":[{"type":"text","text":"Error: output does not match"}],"details":{}},"isError":true})",
       R"({"type":"tool_execution_start","toolCallId":"call_2","toolName":"store-progress","args":{"taskId":"task-1","status":"completed","output":"{\"n\":1}"}})",
       R"({"type":"tool_execution_end","toolCallId":"call_2","toolName":"store-progress","result":{"content":[{"type":"text","text":"completed"}],"details":{}},"isError":false})"});
  return lines;
}

TEST(PiParser, ReadsTheExtensionsConnectionAndItsToolCalls) {
  const auto run = testing::ParseLines(
      PiAdapter(), McpToolRun(), 0,
      "[agent-swarm mcp] connected: store-progress get-task-details get-swarm\n");
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.mcp_status, McpStatus::kConnected);
  ASSERT_EQ(run.mcp_calls.size(), 2u);  // bash is pi's own
  EXPECT_EQ(run.mcp_calls[0].tool, "store-progress");
  EXPECT_EQ(run.mcp_calls[0].is_error, true);
  EXPECT_EQ(run.mcp_calls[1].status_argument, "completed");
  EXPECT_EQ(run.mcp_calls[1].is_error, false);
}

TEST(PiParser, WithoutTheStderrLineTheSwarmsToolNamesTell) {
  const auto run = testing::ParseLines(PiAdapter(), McpToolRun());
  EXPECT_EQ(run.mcp_status, McpStatus::kConnected);
  EXPECT_EQ(run.mcp_calls.size(), 2u);
  const auto quiet = testing::ParseLines(PiAdapter(), ToolRun());
  EXPECT_EQ(quiet.mcp_status, McpStatus::kUnknown);
  EXPECT_TRUE(quiet.mcp_calls.empty());
}

TEST(PiParser, ReportsAnExtensionThatCouldNotConnect) {
  const auto run = testing::ParseLines(PiAdapter(), ToolRun(), 0,
                                       "[agent-swarm mcp] not connected: fetch failed\n");
  EXPECT_TRUE(run.ok);  // pi still ran: the safety net judges the final text
  EXPECT_EQ(run.mcp_status, McpStatus::kFailed);
}

}  // namespace
}  // namespace swarm::harness
