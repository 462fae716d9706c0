#include "harness/codex_adapter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The real sample of notes/harness-clis.md §2 (--json, one shell command).
const std::vector<std::string> kToolRun = {
    R"({"type":"thread.started","thread_id":"01a21616-6653-7590-8cee-f2d5063322ba"})",
    R"({"type":"turn.started"})",
    R"({"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"/bin/bash -lc 'echo hello > made_by_tool.txt && echo done'","aggregated_output":"","exit_code":null,"status":"in_progress"}})",
    R"({"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"/bin/bash -lc 'echo hello > made_by_tool.txt && echo done'","aggregated_output":"done\n","exit_code":0,"status":"completed"}})",
    R"({"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"pong"}})",
    R"({"type":"turn.completed","usage":{"input_tokens":13999,"cached_input_tokens":5,"cache_write_input_tokens":0,"output_tokens":99,"reasoning_output_tokens":3}})",
};

TEST(CodexParser, ReadsASuccessfulRunWithAToolCall) {
  auto parser = CodexAdapter().NewParser();
  parser->Feed(kToolRun[0]);
  EXPECT_EQ(parser->session_id(), "01a21616-6653-7590-8cee-f2d5063322ba");
  const auto run = testing::ParseLines(CodexAdapter(), kToolRun);
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.session_id, "01a21616-6653-7590-8cee-f2d5063322ba");
  EXPECT_EQ(run.final_text, "pong");
  EXPECT_EQ(run.usage.input_tokens, 13999);
  EXPECT_EQ(run.usage.cache_read_tokens, 5);
  EXPECT_EQ(run.usage.output_tokens, 99);
  EXPECT_EQ(run.usage.reasoning_tokens, 3);
  EXPECT_EQ(run.cost_usd, std::nullopt);  // codex reports none
}

TEST(CodexParser, AWarningItemDoesNotFailTheRun) {
  auto lines = kToolRun;
  lines.insert(
      lines.begin() + 2,
      R"({"type":"item.completed","item":{"id":"item_w","type":"error","message":"Model metadata for `fake-model` not found"}})");
  const auto run = testing::ParseLines(CodexAdapter(), lines);
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.final_text, "pong");
}

TEST(CodexParser, ATurnFailedIsAFailureWithItsMessage) {
  const auto run = testing::ParseLines(
      CodexAdapter(),
      {kToolRun[0], kToolRun[1], R"({"type":"error","message":"stream error: connection refused"})",
       R"j({"type":"turn.failed","error":{"message":"error sending request for url (http://127.0.0.1:9/v1/responses)"}})j"},
      1);
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error, "error sending request for url (http://127.0.0.1:9/v1/responses)");
  EXPECT_EQ(run.session_id, "01a21616-6653-7590-8cee-f2d5063322ba");
}

TEST(CodexParser, AnErrorEventAloneIsAFailure) {
  const auto run = testing::ParseLines(
      CodexAdapter(), {kToolRun[0], R"({"type":"error","message":"unexpected status 401"})"}, 1);
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error, "unexpected status 401");
}

TEST(CodexParser, NoTurnCompletedIsAFailure) {
  const auto run = testing::ParseLines(CodexAdapter(), {kToolRun[0], kToolRun[1]});
  EXPECT_FALSE(run.ok);
  EXPECT_THAT(run.error.value_or(""), HasSubstr("turn.completed"));
}

TEST(CodexParser, ANonZeroExitFailsEvenAfterTurnCompleted) {
  const auto run = testing::ParseLines(CodexAdapter(), kToolRun, 2);
  EXPECT_FALSE(run.ok);
  EXPECT_THAT(run.error.value_or(""), HasSubstr("exited with code 2"));
}

TEST(CodexAdapter, PreparesTheInvocationAndItsConfig) {
  testing::TempDir root;
  const auto run = testing::MakeTaskRun(root.path());
  ModelEndpoint endpoint{ModelEndpoint::Api::kOpenAi, "http://127.0.0.1:8765", "sk-codex-secret",
                         "gpt-5.5"};
  auto spec = CodexAdapter().Prepare(run, endpoint);
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_THAT(spec->argv, ElementsAre("codex", "exec", "--json", "--skip-git-repo-check", "-"));
  EXPECT_EQ(spec->stdin_data,
            "Task ID: task-1\n\nsay pong");  // written, then closed: an open pipe hangs codex
  EXPECT_EQ(spec->cwd, run.work_dir);
  EXPECT_EQ(spec->env["CODEX_HOME"], (run.home_dir / "codex").string());
  EXPECT_EQ(spec->env["SWARM_MODEL_API_KEY"], "sk-codex-secret");
  EXPECT_EQ(spec->env["HOME"], (run.home_dir / "home").string());
  EXPECT_EQ(spec->env.count("API_KEY"), 0u);

  const std::string toml = testing::ReadFile(run.home_dir / "codex" / "config.toml");
  for (const char* line : {
           "model = \"gpt-5.5\"\n",
           "model_provider = \"swarm\"\n",
           "approval_policy = \"never\"\n",
           "sandbox_mode = \"danger-full-access\"\n",
           "check_for_update_on_startup = false\n",
           "web_search = \"disabled\"\n",
           "[model_providers.swarm]\n",
           "base_url = \"http://127.0.0.1:8765/v1\"\n",
           "env_key = \"SWARM_MODEL_API_KEY\"\n",
           "wire_api = \"responses\"\n",
           "request_max_retries = 0\n",
           "stream_max_retries = 0\n",
           "[features]\nplugins = false\nremote_plugin = false\napps = false\n"
           "unbounded_connection_retries = false\n",
           "[analytics]\nenabled = false\n",
           "[feedback]\nenabled = false\n",
           "[otel]\nexporter = \"none\"\nmetrics_exporter = \"none\"\ntrace_exporter = \"none\"\n",
       }) {
    EXPECT_THAT(toml, HasSubstr(line));
  }
  EXPECT_THAT(toml, Not(HasSubstr("sk-codex-secret")));
}

TEST(CodexConfigToml, KeepsAGivenV1AndEscapesStrings) {
  const std::string toml = CodexConfigToml(
      {ModelEndpoint::Api::kOpenAi, "https://proxy.example/v1/", "k", "we\"ird\\model"});
  EXPECT_THAT(toml, HasSubstr("base_url = \"https://proxy.example/v1\"\n"));
  EXPECT_THAT(toml, HasSubstr("model = \"we\\\"ird\\\\model\"\n"));
}

TEST(CodexConfigToml, WithoutAKeyNamesNoKeyVariable) {
  EXPECT_THAT(CodexConfigToml({ModelEndpoint::Api::kOpenAi, "http://h", "", {}}),
              Not(HasSubstr("env_key")));
}

TEST(CodexAdapter, SendsAPromptThatLooksLikeAFlagOnStdin) {
  testing::TempDir root;
  auto spec = CodexAdapter().Prepare(testing::MakeTaskRun(root.path(), "-v please"),
                                     {ModelEndpoint::Api::kOpenAi, "", "k", {}});
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->argv.back(), "-");
  EXPECT_EQ(spec->stdin_data, "Task ID: task-1\n\n-v please");
}

TEST(CodexAdapter, RefusesAnAnthropicEndpoint) {
  testing::TempDir root;
  auto spec = CodexAdapter().Prepare(testing::MakeTaskRun(root.path()),
                                     {ModelEndpoint::Api::kAnthropic, "http://x", "k", {}});
  ASSERT_FALSE(spec.has_value());
  EXPECT_THAT(spec.error().message, HasSubstr("OPENAI_BASE_URL"));
}

TEST(CodexAdapter, ConfiguresTheMcpServerAsRequiredAndApproved) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path());
  run.mcp = testing::TestMcpAccess();
  auto spec = CodexAdapter().Prepare(run, {ModelEndpoint::Api::kOpenAi, "http://h", "k", {}});
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  const std::string toml = testing::ReadFile(run.home_dir / "codex" / "config.toml");
  EXPECT_THAT(toml, HasSubstr("\n[mcp_servers.agent-swarm]\n"
                              "url = \"http://127.0.0.1:3013/mcp\"\n"
                              "bearer_token_env_var = \"SWARM_MCP_TOKEN\"\n"
                              "env_http_headers = { \"X-Agent-ID\" = \"SWARM_AGENT_ID\" }\n"
                              "http_headers = { \"X-Source-Task-Id\" = \"task-1\" }\n"
                              "required = true\n"
                              "default_tools_approval_mode = \"approve\"\n"
                              "startup_timeout_sec = 20\n"
                              "tool_timeout_sec = 60\n"));
  EXPECT_THAT(toml, Not(HasSubstr("token-must-not-leak")));
  EXPECT_EQ(spec->env["SWARM_MCP_TOKEN"], run.mcp->token);
  EXPECT_EQ(spec->env["SWARM_AGENT_ID"], "agent-7");
  EXPECT_THAT(CodexConfigToml({ModelEndpoint::Api::kOpenAi, "http://h", "k", {}}),
              Not(HasSubstr("mcp_servers")));
}

// The shapes of notes/harness-mcp.md (codex 0.169.0): an mcp_tool_call that failed (isError),
// then one that completed; a shell command item is no MCP call.
TEST(CodexParser, ReadsTheMcpToolCalls) {
  const auto run = testing::ParseLines(
      CodexAdapter(),
      {
          R"({"type":"thread.started","thread_id":"th-1"})",
          R"({"type":"turn.started"})",
          R"({"type":"item.started","item":{"id":"item_1","type":"mcp_tool_call","server":"agent-swarm","tool":"store-progress","arguments":{"taskId":"task-1","status":"completed","output":"x"},"result":null,"error":null,"status":"in_progress"}})",
          R"({"type":"item.completed","item":{"id":"item_1","type":"mcp_tool_call","server":"agent-swarm","tool":"store-progress","arguments":{"taskId":"task-1","status":"completed","output":"x"},"result":{"content":[{"type":"text","text":"Error: output does not match"}],"structured_content":null},"error":null,"status":"failed"}})",
          R"({"type":"item.started","item":{"id":"item_2","type":"mcp_tool_call","server":"agent-swarm","tool":"store-progress","arguments":{"taskId":"task-1","status":"completed","output":"{\"n\":1}"},"result":null,"error":null,"status":"in_progress"}})",
          R"({"type":"item.completed","item":{"id":"item_2","type":"mcp_tool_call","server":"agent-swarm","tool":"store-progress","arguments":{"taskId":"task-1","status":"completed","output":"{\"n\":1}"},"result":{"content":[{"type":"text","text":"completed"}]},"error":null,"status":"completed"}})",
          R"({"type":"item.completed","item":{"id":"item_3","type":"mcp_tool_call","server":"other","tool":"store-progress","status":"completed"}})",
          R"({"type":"item.completed","item":{"id":"item_4","type":"agent_message","text":"{\"n\":1}"}})",
          R"({"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":2}})",
      });
  EXPECT_TRUE(run.ok);
  EXPECT_EQ(run.mcp_status, McpStatus::kConnected);  // required = true: it started, so it had it
  ASSERT_EQ(run.mcp_calls.size(), 2u);
  EXPECT_EQ(run.mcp_calls[0].is_error, true);
  EXPECT_EQ(run.mcp_calls[1].tool, "store-progress");
  EXPECT_EQ(run.mcp_calls[1].status_argument, "completed");
  EXPECT_EQ(run.mcp_calls[1].is_error, false);
}

TEST(CodexParser, ARequiredMcpServerThatFailedIsTheFailureReason) {
  const auto run = testing::ParseLines(
      CodexAdapter(), {}, 1,
      "ERROR rmcp::transport: connection refused\n"
      "Error: required MCP servers failed to initialize: agent-swarm: handshake failed\n");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.mcp_status, McpStatus::kFailed);
  EXPECT_THAT(run.error.value_or(""), HasSubstr("MCP server (agent-swarm) could not be reached"));
  // Any other failure before a thread started says nothing of MCP.
  const auto other = testing::ParseLines(CodexAdapter(), {}, 1, "Error: bad config\n");
  EXPECT_EQ(other.mcp_status, McpStatus::kUnknown);
  EXPECT_THAT(other.error.value_or(""), Not(HasSubstr("MCP")));
}

}  // namespace
}  // namespace swarm::harness
