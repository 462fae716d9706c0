#include "harness/claude_adapter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The trimmed real sample of notes/harness-clis.md §1 (stream-json, a Bash tool round trip).
const std::vector<std::string> kToolRun = {
    R"({"type":"system","subtype":"init","cwd":"/w","session_id":"1a6353f3-bc03-4844-b128-fe5357bf5bdb","tools":["Task","Bash"],"model":"claude-opus-4-8[1m]","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","claude_code_version":"2.1.197","analytics_disabled":true})",
    R"({"type":"assistant","message":{"id":"msg_e62b","model":"claude-opus-4-8","content":[{"type":"tool_use","id":"toolu_a0e6","name":"Bash","input":{"command":"echo hello > made_by_tool.txt && echo done"}}],"usage":{"input_tokens":3219,"output_tokens":1}},"session_id":"1a6353f3-bc03-4844-b128-fe5357bf5bdb"})",
    R"({"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_a0e6","type":"tool_result","content":"done","is_error":false}]},"session_id":"1a6353f3-bc03-4844-b128-fe5357bf5bdb","tool_use_result":{"stdout":"done","stderr":"","interrupted":false}})",
    R"({"type":"assistant","message":{"model":"claude-opus-4-8","content":[{"type":"text","text":"pong"}]},"session_id":"1a6353f3-bc03-4844-b128-fe5357bf5bdb"})",
    R"({"type":"result","subtype":"success","is_error":false,"api_error_status":null,"duration_ms":682,"duration_api_ms":74,"num_turns":2,"result":"pong","stop_reason":"end_turn","session_id":"1a6353f3-bc03-4844-b128-fe5357bf5bdb","total_cost_usd":0.033695,"usage":{"input_tokens":6519,"cache_creation_input_tokens":7,"cache_read_input_tokens":11,"output_tokens":44},"modelUsage":{"claude-opus-4-8[1m]":{"inputTokens":6519,"outputTokens":44,"costUSD":0.033695,"contextWindow":1000000,"maxOutputTokens":64000}},"permission_denials":[],"terminal_reason":"completed"})",
};

TEST(ClaudeParser, ReadsASuccessfulRunWithAToolCall) {
  const auto run = testing::ParseLines(ClaudeAdapter(), kToolRun);
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.error, std::nullopt);
  EXPECT_EQ(run.session_id, "1a6353f3-bc03-4844-b128-fe5357bf5bdb");
  EXPECT_EQ(run.final_text, "pong");
  EXPECT_EQ(run.usage.input_tokens, 6519);
  EXPECT_EQ(run.usage.output_tokens, 44);
  EXPECT_EQ(run.usage.cache_read_tokens, 11);
  EXPECT_EQ(run.usage.cache_write_tokens, 7);
  EXPECT_DOUBLE_EQ(run.cost_usd.value_or(-1), 0.033695);
  EXPECT_EQ(run.model, "claude-opus-4-8");
  EXPECT_EQ(run.num_turns, 2);
}

TEST(ClaudeParser, KnowsTheSessionFromTheFirstLine) {
  auto parser = ClaudeAdapter().NewParser();
  EXPECT_EQ(parser->session_id(), std::nullopt);
  parser->Feed("Warning: no stdin data received in 3s");  // not JSON: ignored
  EXPECT_EQ(parser->session_id(), std::nullopt);
  parser->Feed(kToolRun[0]);
  EXPECT_EQ(parser->session_id(), "1a6353f3-bc03-4844-b128-fe5357bf5bdb");
}

TEST(ClaudeParser, AnApiErrorFailsDespiteSubtypeSuccess) {
  const auto run = testing::ParseLines(
      ClaudeAdapter(),
      {kToolRun[0],
       R"j({"type":"result","subtype":"success","is_error":true,"api_error_status":null,"num_turns":1,"result":"API Error: Unable to connect to API (ConnectionRefused)","session_id":"1a6353f3-bc03-4844-b128-fe5357bf5bdb","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}})j"},
      1);
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error, "API Error: Unable to connect to API (ConnectionRefused)");
  EXPECT_EQ(run.session_id, "1a6353f3-bc03-4844-b128-fe5357bf5bdb");
}

TEST(ClaudeParser, NamesTheHttpStatusOfAnApiError) {
  const auto run = testing::ParseLines(
      ClaudeAdapter(),
      {R"({"type":"result","subtype":"success","is_error":true,"api_error_status":500,"result":"API Error: 500 internal","session_id":"s"})"});
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error, "API Error: 500 internal (HTTP 500)");
}

TEST(ClaudeParser, ARunWithoutAResultLineFails) {
  const auto run = testing::ParseLines(ClaudeAdapter(), {kToolRun[0], kToolRun[3]});
  EXPECT_FALSE(run.ok);
  EXPECT_THAT(run.error.value_or(""), HasSubstr("without a result"));
  EXPECT_EQ(run.final_text, "pong");
}

TEST(ClaudeAdapter, PreparesTheVerifiedInvocation) {
  testing::TempDir root;
  const auto run = testing::MakeTaskRun(root.path());
  ModelEndpoint endpoint{ModelEndpoint::Api::kAnthropic, "http://127.0.0.1:8765/v1/",
                         "sk-ant-secret-123", std::nullopt};
  auto spec = ClaudeAdapter().Prepare(run, endpoint);
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_THAT(spec->argv, ElementsAre("claude", "-p", "--output-format", "stream-json", "--verbose",
                                      "--dangerously-skip-permissions"));
  EXPECT_EQ(spec->stdin_data,
            "Task ID: task-1\n\nsay pong");  // never argv: /proc/<pid>/cmdline is public
  EXPECT_EQ(spec->cwd, run.work_dir);
  EXPECT_EQ(spec->timeout, run.timeout);

  auto& env = spec->env;
  EXPECT_EQ(env["ANTHROPIC_BASE_URL"], "http://127.0.0.1:8765");  // the CLI adds /v1/messages
  EXPECT_EQ(env["ANTHROPIC_API_KEY"], "sk-ant-secret-123");
  EXPECT_EQ(env["IS_SANDBOX"], "1");
  EXPECT_EQ(env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"], "1");
  EXPECT_EQ(env["CLAUDE_CODE_MAX_RETRIES"], "0");
  EXPECT_EQ(env["DISABLE_AUTOUPDATER"], "1");
  EXPECT_EQ(env["DISABLE_TELEMETRY"], "1");
  EXPECT_EQ(env["DISABLE_ERROR_REPORTING"], "1");
  EXPECT_EQ(env["CLAUDE_CONFIG_DIR"], (run.home_dir / "claude").string());
  EXPECT_TRUE(std::filesystem::is_directory(run.home_dir / "claude"));
  EXPECT_EQ(env["HOME"], (run.home_dir / "home").string());
  EXPECT_EQ(env["PATH"], "/opt/harness/bin:/usr/bin:/bin");
  EXPECT_EQ(env["LANG"], "C.UTF-8");
  EXPECT_EQ(env.count("AGENT_SWARM_API_KEY"), 0u);
  EXPECT_THAT(spec->argv, Not(Contains(HasSubstr("secret"))));
}

TEST(ClaudeAdapter, PassesTheModelAndTheSchemaInstruction) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path(), "Reply with exactly: pong");
  run.output_schema = R"({"type":"object","required":["reply"]})";
  ModelEndpoint endpoint{ModelEndpoint::Api::kAnthropic, "", "k", "claude-sonnet-4-5"};
  auto spec = ClaudeAdapter().Prepare(run, endpoint);
  ASSERT_TRUE(spec.has_value());
  const std::string prompt = spec->stdin_data.value_or("");
  EXPECT_THAT(prompt, ::testing::StartsWith("Task ID: task-1\n\nReply with exactly: pong\n\n"));
  EXPECT_THAT(prompt, HasSubstr("only a JSON value"));
  EXPECT_THAT(prompt, HasSubstr(*run.output_schema));
  EXPECT_EQ(spec->argv[spec->argv.size() - 2], "--model");
  EXPECT_EQ(spec->argv.back(), "claude-sonnet-4-5");
  EXPECT_EQ(spec->env.count("ANTHROPIC_BASE_URL"), 0u);  // none given: the CLI's default
}

TEST(ClaudeAdapter, SendsAPromptThatLooksLikeAFlagOnStdin) {
  testing::TempDir root;
  const auto run = testing::MakeTaskRun(root.path(), "--help me");
  auto spec = ClaudeAdapter().Prepare(run, {ModelEndpoint::Api::kAnthropic, "", "k", {}});
  ASSERT_TRUE(spec.has_value());
  EXPECT_THAT(spec->argv, Not(Contains("--help me")));
  EXPECT_EQ(spec->argv[1], "-p");
  EXPECT_EQ(spec->argv[2], "--output-format");
  EXPECT_EQ(spec->stdin_data, "Task ID: task-1\n\n--help me");
}

TEST(ClaudeAdapter, RefusesANonAnthropicEndpoint) {
  testing::TempDir root;
  auto spec = ClaudeAdapter().Prepare(testing::MakeTaskRun(root.path()),
                                      {ModelEndpoint::Api::kOpenAi, "http://x", "k", {}});
  ASSERT_FALSE(spec.has_value());
  EXPECT_THAT(spec.error().message, HasSubstr("ANTHROPIC_BASE_URL"));
}

// The shapes of notes/harness-mcp.md (claude 2.1.197): init's mcp_servers, an MCP tool_use,
// an isError tool_result (content a string), then the corrected call and its result.
const std::string kMcpInit =
    R"({"type":"system","subtype":"init","session_id":"s1","tools":["Bash","mcp__agent-swarm__store-progress"],"mcp_servers":[{"name":"other","status":"failed"},{"name":"agent-swarm","status":"connected"}],"model":"claude-sonnet-4-5"})";
const std::vector<std::string> kMcpRetryRun = {
    kMcpInit,
    R"({"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_1","name":"mcp__agent-swarm__store-progress","input":{"taskId":"task-1","status":"completed","output":"{\"n\":\"x\"}"}}]},"session_id":"s1","tool_use_meta":[{"id":"toolu_1","display_name":"Store-Progress"}]})",
    R"({"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"Error: output does not match the task's outputSchema: /n: expected integer","is_error":true}]},"session_id":"s1","tool_use_result":"Error: Error: output does not match"})",
    R"({"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_2","name":"mcp__agent-swarm__store-progress","input":{"taskId":"task-1","status":"completed","output":{"n":1}}}]},"session_id":"s1"})",
    R"({"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"task task-1 completed"}]}]},"session_id":"s1"})",
    R"({"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_3","name":"Bash","input":{"command":"ls"}}]},"session_id":"s1"})",
    R"({"type":"assistant","message":{"content":[{"type":"text","text":"{\"n\":1}"}]},"session_id":"s1"})",
    R"({"type":"result","subtype":"success","is_error":false,"result":"{\"n\":1}","session_id":"s1","usage":{}})",
};

TEST(ClaudeParser, ReadsTheMcpServerStateAndTheToolCalls) {
  const auto run = testing::ParseLines(ClaudeAdapter(), kMcpRetryRun);
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.mcp_status, McpStatus::kConnected);
  ASSERT_EQ(run.mcp_calls.size(), 2u);  // Bash is not an MCP tool
  EXPECT_EQ(run.mcp_calls[0].tool, "store-progress");
  EXPECT_EQ(run.mcp_calls[0].status_argument, "completed");
  EXPECT_EQ(run.mcp_calls[0].is_error, true);
  EXPECT_EQ(run.mcp_calls[1].is_error, false);
}

TEST(ClaudeParser, ReportsAFailedOrPendingServer) {
  for (const auto& [status, expected] :
       {std::pair<std::string, McpStatus>{"failed", McpStatus::kFailed},
        {"pending", McpStatus::kPending},
        {"needs-auth", McpStatus::kUnknown}}) {
    const std::string init =
        R"({"type":"system","subtype":"init","session_id":"s1","mcp_servers":[{"name":"agent-swarm","status":")" +
        status + R"("}]})";
    const auto run = testing::ParseLines(ClaudeAdapter(), {init, kMcpRetryRun.back()});
    EXPECT_EQ(run.mcp_status, expected) << status;
    EXPECT_TRUE(run.mcp_calls.empty());
  }
  // No mcp_servers entry for it: claude did not say.
  EXPECT_EQ(testing::ParseLines(ClaudeAdapter(), kToolRun).mcp_status, McpStatus::kUnknown);
}

TEST(ClaudeAdapter, ConfiguresTheMcpServerByAFileThatNamesTheSecret) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path());
  run.mcp = testing::TestMcpAccess();
  auto spec = ClaudeAdapter().Prepare(run, {ModelEndpoint::Api::kAnthropic, "", "k", {}});
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  const auto config_path = std::filesystem::absolute(run.home_dir) / "mcp.json";
  EXPECT_THAT(spec->argv,
              ::testing::IsSupersetOf({std::string("--mcp-config"), config_path.string(),
                                       std::string("--strict-mcp-config"),
                                       std::string("--dangerously-skip-permissions")}));
  const auto config = nlohmann::json::parse(testing::ReadFile(config_path));
  const auto& server = config.at("mcpServers").at("agent-swarm");
  EXPECT_EQ(server.at("type"), "http");
  EXPECT_EQ(server.at("url"), "http://127.0.0.1:3013/mcp");
  EXPECT_EQ(server.at("headers"), nlohmann::json({{"Authorization", "Bearer ${SWARM_MCP_TOKEN}"},
                                                  {"X-Agent-ID", "${SWARM_AGENT_ID}"},
                                                  {"X-Source-Task-Id", "task-1"}}));
  auto& env = spec->env;
  EXPECT_EQ(env["SWARM_MCP_TOKEN"], run.mcp->token);
  EXPECT_EQ(env["SWARM_AGENT_ID"], "agent-7");
  // Else claude does not wait for the server in -p mode (both are needed).
  EXPECT_EQ(env["MCP_CONNECTION_NONBLOCKING"], "0");
  EXPECT_EQ(env["MCP_CONNECT_TIMEOUT_MS"], "15000");
  EXPECT_EQ(env["IS_SANDBOX"], "1");
}

}  // namespace
}  // namespace swarm::harness
