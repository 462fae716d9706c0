#include "stub_llm/script.h"

#include <gtest/gtest.h>

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

const json kBashSchema = {
    {"type", "object"},
    {"properties", {{"command", {{"type", "string"}}}, {"description", {{"type", "string"}}}}},
    {"required", {"command", "description"}}};

ChatRequest Request(std::string text, bool with_tools = true, bool tool_result = false) {
  ChatRequest r;
  r.user_text = std::move(text);
  r.tool_result_turn = tool_result;
  if (with_tools) {
    r.tools = {
        {"bash", kBashSchema},
        {"write", {{"properties", {{"path", {{"type", "string"}}}}}, {"required", {"path"}}}},
        {"apply_patch", json(), /*freeform=*/true}};
  }
  return r;
}

ScriptSpec Spec(std::string_view text) {
  auto spec = ParseScript(text);
  EXPECT_TRUE(spec) << (spec ? "" : spec.error().message);
  return spec ? std::move(*spec) : ScriptSpec{};
}

std::string SpecError(std::string_view text) {
  auto spec = ParseScript(text);
  EXPECT_FALSE(spec) << text;
  return spec ? "" : spec.error().message;
}

TEST(ScriptTest, DefaultReply) {
  Script script("pong");
  Decision d = script.Decide(Request("Reply with exactly: pong"));
  EXPECT_EQ(d.action, Action::kReply);
  EXPECT_EQ(d.text, "pong");
  EXPECT_EQ(d.source, "default");
  EXPECT_EQ(d.delay.count(), 0);
}

TEST(ScriptTest, RunShellMarkerCallsTheShellToolThenReplies) {
  Script script("pong");
  Decision call = script.Decide(Request("go\nRUN_SHELL: echo hi > f.txt"));
  ASSERT_EQ(call.action, Action::kToolCall);
  EXPECT_EQ(call.tool.name, "bash");
  EXPECT_EQ(call.tool.arguments["command"], "echo hi > f.txt");
  EXPECT_TRUE(call.tool.arguments["description"].is_string());
  EXPECT_EQ(call.source, "marker");

  Decision after = script.Decide(Request("go\nRUN_SHELL: echo hi > f.txt", true, true));
  EXPECT_EQ(after.action, Action::kReply);
  EXPECT_EQ(after.text, "pong");
}

TEST(ScriptTest, RequestsWithoutToolsGetThePlainReply) {
  Script script("pong");
  Decision d = script.Decide(Request("RUN_SHELL: ls\nREPLY: done", /*with_tools=*/false));
  EXPECT_EQ(d.action, Action::kReply);
  EXPECT_EQ(d.text, "done");
  EXPECT_EQ(d.note, "the request offers no tools");
}

TEST(ScriptTest, CallToolMarker) {
  Script script("pong");
  Decision d = script.Decide(Request(R"(CALL_TOOL: write {"content":"x"})"));
  ASSERT_EQ(d.action, Action::kToolCall);
  EXPECT_EQ(d.tool.name, "write");
  EXPECT_EQ(d.tool.arguments, json({{"content", "x"}, {"path", ""}}));  // required path filled

  Decision freeform = script.Decide(Request(R"(CALL_TOOL: apply_patch "*** Begin Patch")"));
  ASSERT_EQ(freeform.action, Action::kToolCall);
  EXPECT_TRUE(freeform.freeform);
  EXPECT_EQ(freeform.tool.arguments, "*** Begin Patch");

  Decision missing = script.Decide(Request("CALL_TOOL: webfetch {}"));
  EXPECT_EQ(missing.action, Action::kReply);
  EXPECT_EQ(missing.note, "the request does not offer the tool webfetch");

  Decision wrong = script.Decide(Request(R"(CALL_TOOL: write "text")"));
  EXPECT_EQ(wrong.action, Action::kReply);
  EXPECT_NE(wrong.note.find("takes a JSON object"), std::string::npos);
}

TEST(ScriptTest, NoShellToolOffered) {
  Script script("pong");
  ChatRequest r = Request("RUN_SHELL: ls");
  r.tools = {{"read", json::object()}};
  Decision d = script.Decide(r);
  EXPECT_EQ(d.action, Action::kReply);
  EXPECT_EQ(d.note, "the request offers no shell tool");
}

TEST(ScriptTest, HttpErrorAndDelayMarkers) {
  Script script("pong");
  Decision d = script.Decide(Request("HTTP_ERROR: 503 down for maintenance\nDELAY_MS: 40"));
  EXPECT_EQ(d.action, Action::kError);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.text, "down for maintenance");
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.delay.count(), 40);
  // The error holds on the tool-result turn too: the server is "down" for the conversation.
  EXPECT_EQ(script.Decide(Request("HTTP_ERROR: 500", true, true)).status, 500);
  EXPECT_EQ(script.Decide(Request("HTTP_ERROR: 500")).text, "stub-llm: scripted HTTP 500");
}

TEST(ScriptTest, MalformedMarkerIsA400) {
  Script script("pong");
  Decision d = script.Decide(Request("RUN_SHELL:"));
  EXPECT_EQ(d.action, Action::kError);
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(d.text, "stub-llm: RUN_SHELL: needs a command");
}

TEST(ScriptTest, RulesMatchBySubstringInOrder) {
  Script script("pong", Spec(R"({
    "reply": "default from script",
    "rules": [
      {"match": "file", "shell": "touch out.txt", "reply": "made it"},
      {"match": "slow", "delayMs": 120, "reply": "late"},
      {"match": "", "reply": "catch-all"}
    ]})"));
  Decision call = script.Decide(Request("make the file please"));
  ASSERT_EQ(call.action, Action::kToolCall);
  EXPECT_EQ(call.tool.arguments["command"], "touch out.txt");
  EXPECT_EQ(call.source, "rule 1");
  Decision after = script.Decide(Request("make the file please", true, true));
  EXPECT_EQ(after.action, Action::kReply);
  EXPECT_EQ(after.text, "made it");
  Decision slow = script.Decide(Request("be slow"));
  EXPECT_EQ(slow.text, "late");
  EXPECT_EQ(slow.delay.count(), 120);
  EXPECT_EQ(script.Decide(Request("anything")).text, "catch-all");
}

TEST(ScriptTest, ScriptReplyReplacesTheDefault) {
  Script script("pong", Spec(R"({"reply": "{\"reply\":\"ping\"}"})"));
  EXPECT_EQ(script.Decide(Request("x")).text, R"({"reply":"ping"})");
}

TEST(ScriptTest, TimesMakesASequence) {
  Script script("pong", Spec(R"({"rules": [
      {"status": 500, "error": "first fails", "times": 1},
      {"reply": "second", "times": 1}]})"));
  Decision first = script.Decide(Request("x"));
  EXPECT_EQ(first.action, Action::kError);
  EXPECT_EQ(first.text, "first fails");
  EXPECT_EQ(script.Decide(Request("x")).text, "second");
  Decision third = script.Decide(Request("x"));
  EXPECT_EQ(third.text, "pong");
  EXPECT_EQ(third.source, "default");
}

TEST(ScriptTest, ToolRulesAndNeedsToolsSkipRequestsWithoutTools) {
  Script script("pong", Spec(R"({"rules": [
      {"shell": "ls", "times": 1},
      {"status": 500, "needsTools": true, "times": 1}]})"));
  // opencode's title request comes first and offers no tools: it spends neither rule.
  Decision title = script.Decide(Request("x", /*with_tools=*/false));
  EXPECT_EQ(title.action, Action::kReply);
  EXPECT_EQ(title.source, "default");
  EXPECT_EQ(script.Decide(Request("x")).action, Action::kToolCall);
  EXPECT_EQ(script.Decide(Request("x", true, true)).status, 500);
  EXPECT_EQ(script.Decide(Request("x")).action, Action::kReply);
}

TEST(ScriptTest, MarkersOverrideTheRuleFieldByField) {
  Script script("pong", Spec(R"({"rules": [{"match": "x", "delayMs": 30, "reply": "rule"}]})"));
  Decision d = script.Decide(Request("x\nREPLY: marker"));
  EXPECT_EQ(d.text, "marker");
  EXPECT_EQ(d.delay.count(), 30);
  EXPECT_EQ(d.source, "rule 1+marker");
}

TEST(ScriptTest, RetryableErrors) {
  Script script("pong", Spec(R"({"rules": [{"status": 429, "retry": true}]})"));
  Decision d = script.Decide(Request("x"));
  EXPECT_EQ(d.status, 429);
  EXPECT_TRUE(d.retry);
}

TEST(ScriptTest, ToolRule) {
  Script script("pong",
                Spec(R"({"rules": [{"tool": {"name": "write", "arguments": {"path": "a"}}}]})"));
  Decision d = script.Decide(Request("x"));
  ASSERT_EQ(d.action, Action::kToolCall);
  EXPECT_EQ(d.tool.arguments, json({{"path", "a"}}));
}

TEST(ScriptTest, CommentsAreAllowed) {
  Spec("// a comment\n{\"comment\": \"why\", \"rules\": [{\"comment\": \"x\", \"reply\": \"y\"}]}");
}

TEST(ScriptTest, DeepScriptsAreRefusedAndCommentsStillWork) {
  EXPECT_EQ(SpecError("// deep\n{\"rules\":" + std::string(100000, '[') + "}"),
            "the script: JSON is nested deeper than the 64-level limit");
}

TEST(ScriptTest, InvalidScripts) {
  EXPECT_EQ(SpecError("{"), "the script is not valid JSON");
  EXPECT_EQ(SpecError("[]"), "the script must be a JSON object {reply?, rules?}");
  EXPECT_EQ(SpecError(R"({"rule": []})"), "script: unknown field rule");
  EXPECT_EQ(SpecError(R"({"reply": 1})"), "script: reply must be a string");
  EXPECT_EQ(SpecError(R"({"rules": {}})"), "script: rules must be an array");
  EXPECT_EQ(SpecError(R"({"rules": [1]})"), "script: rules[0] must be an object");
  EXPECT_EQ(SpecError(R"({"rules": [{"mtach": "x"}]})"), "script: rules[0]: unknown field mtach");
  EXPECT_EQ(SpecError(R"({"rules": [{"status": 200}]})"),
            "script: rules[0]: status must be an integer from 400 to 599");
  EXPECT_EQ(SpecError(R"({"rules": [{"times": 0}]})"),
            "script: rules[0]: times must be an integer from 1 to 1000000000");
  EXPECT_EQ(SpecError(R"({"rules": [{"delayMs": 600001}]})"),
            "script: rules[0]: delayMs must be an integer from 0 to 600000");
  EXPECT_EQ(SpecError(R"({"rules": [{"shell": "ls", "tool": {"name": "x"}}]})"),
            "script: rules[0]: shell, tool and mcp exclude each other");
  EXPECT_EQ(SpecError(R"({"rules": [{"shell": "ls", "mcp": {"tool": "x"}}]})"),
            "script: rules[0]: shell, tool and mcp exclude each other");
  EXPECT_EQ(SpecError(R"({"rules": [{"shell": "ls", "status": 500}]})"),
            "script: rules[0]: status (an error) excludes shell, tool and mcp");
  EXPECT_EQ(SpecError(R"({"rules": [{"mcp": {"tool": "x"}, "status": 500}]})"),
            "script: rules[0]: status (an error) excludes shell, tool and mcp");
  EXPECT_EQ(SpecError(R"({"rules": [{"mcp": "store-progress"}]})"),
            "script: rules[0]: mcp must be an object {tool, arguments?, retryArguments?}");
  EXPECT_EQ(SpecError(R"({"rules": [{"mcp": {"arguments": {}}}]})"),
            "script: rules[0]: mcp.tool must be the MCP tool name (store-progress)");
  EXPECT_EQ(SpecError(R"({"rules": [{"mcp": {"tool": ""}}]})"),
            "script: rules[0]: mcp.tool must be the MCP tool name (store-progress)");
  EXPECT_EQ(SpecError(R"({"rules": [{"mcp": {"tool": "x", "arguments": "a"}}]})"),
            "script: rules[0]: mcp.arguments must be an object");
  EXPECT_EQ(SpecError(R"({"rules": [{"mcp": {"tool": "x", "retryArguments": []}}]})"),
            "script: rules[0]: mcp.retryArguments must be an object");
  EXPECT_EQ(SpecError(R"({"rules": [{"mcp": {"tool": "x", "retryArgs": {}}}]})"),
            "script: rules[0]: unknown field mcp.retryArgs");
  EXPECT_EQ(SpecError(R"({"rules": [{"error": "x"}]})"),
            "script: rules[0]: error and retry need a status");
  EXPECT_EQ(SpecError(R"({"rules": [{"tool": {"arguments": {}}}]})"),
            "script: rules[0]: tool must be an object with a name");
  EXPECT_EQ(SpecError(R"({"rules": [{"tool": {"name": "x", "arguments": 1}}]})"),
            "script: rules[0]: tool.arguments must be an object (a string for a freeform tool)");
  EXPECT_EQ(SpecError(R"({"rules": [{"shell": ""}]})"),
            "script: rules[0]: shell must not be empty");
  EXPECT_EQ(SpecError(R"({"rules": [{"needsTools": 1}]})"),
            "script: rules[0]: needsTools must be a boolean");
}

// The MCP tool as opencode offers it; store-progress's schema requires taskId.
ChatRequest McpRequest(std::string text, bool tool_result = false, bool error = false,
                       int calls = 0) {
  ChatRequest r = Request(std::move(text), true, tool_result);
  r.tools.push_back(
      {"agent-swarm_store-progress",
       {{"type", "object"},
        {"properties", {{"taskId", {{"type", "string"}}}, {"status", {{"type", "string"}}}}},
        {"required", {"taskId"}}}});
  r.tool_result_error = error;
  r.calls_since_prompt.assign(static_cast<std::size_t>(calls), "agent-swarm_store-progress");
  r.task_id = "task-7";
  return r;
}

constexpr char kMcpPrompt[] =
    "Task ID: task-7\n"
    R"(MCP_CALL: store-progress {"taskId": "{{taskId}}", "status": "completed", "output": 1})"
    "\n"
    R"(MCP_RETRY: {"taskId": "{{taskId}}", "status": "completed", "output": {"n": [1, "{{taskId}}"]}})"
    "\nREPLY: stored";

TEST(ScriptTest, McpCallThenRetryAfterAnErrorThenTheReply) {
  Script script("pong");
  Decision call = script.Decide(McpRequest(kMcpPrompt));
  ASSERT_EQ(call.action, Action::kToolCall);
  EXPECT_EQ(call.tool.name, "agent-swarm_store-progress");
  EXPECT_EQ(call.tool.arguments,
            json({{"taskId", "task-7"}, {"status", "completed"}, {"output", 1}}));
  EXPECT_EQ(call.source, "marker");

  Decision retry = script.Decide(McpRequest(kMcpPrompt, true, /*error=*/true, /*calls=*/1));
  ASSERT_EQ(retry.action, Action::kToolCall);
  EXPECT_EQ(retry.tool.name, "agent-swarm_store-progress");
  EXPECT_EQ(retry.tool.arguments, json::parse(R"({"taskId": "task-7", "status": "completed",
                                                  "output": {"n": [1, "task-7"]}})"));
  EXPECT_EQ(retry.note, "retry after an MCP tool error");

  // The retry's own result, error or not, gets the final reply: no third call.
  Decision after_retry = script.Decide(McpRequest(kMcpPrompt, true, true, 2));
  EXPECT_EQ(after_retry.action, Action::kReply);
  EXPECT_EQ(after_retry.text, "stored");
  EXPECT_NE(after_retry.note.find("2 calls of store-progress"), std::string::npos);
  EXPECT_EQ(script.Decide(McpRequest(kMcpPrompt, true, false, 2)).text, "stored");
}

TEST(ScriptTest, NoMcpRetryAfterASuccessOrWithoutMcpRetry) {
  Script script("pong");
  Decision success = script.Decide(McpRequest(kMcpPrompt, true, /*error=*/false, 1));
  EXPECT_EQ(success.action, Action::kReply);
  EXPECT_EQ(success.text, "stored");
  EXPECT_EQ(success.note, "the MCP tool result is a success");

  Decision no_retry = script.Decide(
      McpRequest(R"(MCP_CALL: store-progress {"taskId": "{{taskId}}"})", true, true, 1));
  EXPECT_EQ(no_retry.action, Action::kReply);
  EXPECT_EQ(no_retry.text, "pong");
  EXPECT_EQ(no_retry.note, "the MCP tool result is an error; no retry is scripted");
}

TEST(ScriptTest, McpCallWithoutTheToolIsAPlainReplyWithANote) {
  Script script("pong");
  Decision d = script.Decide(Request("MCP_CALL: store-progress {}"));
  EXPECT_EQ(d.action, Action::kReply);
  EXPECT_EQ(d.note, "the request offers no MCP tool store-progress");
  Decision no_tools = script.Decide(Request("MCP_CALL: store-progress {}", false));
  EXPECT_EQ(no_tools.action, Action::kReply);
  EXPECT_EQ(no_tools.note, "the request offers no tools");
}

TEST(ScriptTest, TaskIdPlaceholderStaysWhenTheRequestNamesNoTask) {
  Script script("pong");
  ChatRequest r = McpRequest(R"(MCP_CALL: store-progress {"taskId": "{{taskId}}"})");
  r.task_id.clear();
  Decision d = script.Decide(r);
  ASSERT_EQ(d.action, Action::kToolCall);
  EXPECT_EQ(d.tool.arguments["taskId"], "{{taskId}}");
  EXPECT_EQ(d.note, R"(no "Task ID:" in the request, {{taskId}} left as is)");
  // Required fields the arguments leave out are filled, as for CALL_TOOL.
  EXPECT_EQ(script.Decide(McpRequest("MCP_CALL: store-progress")).tool.arguments,
            json({{"taskId", ""}}));
}

TEST(ScriptTest, McpRule) {
  Script script("pong", Spec(R"({"rules": [{"match": "finish", "reply": "done",
      "mcp": {"tool": "store-progress", "arguments": {"taskId": "{{taskId}}", "output": 1},
              "retryArguments": {"taskId": "{{taskId}}", "output": 2}}}]})"));
  Decision call = script.Decide(McpRequest("finish it"));
  ASSERT_EQ(call.action, Action::kToolCall);
  EXPECT_EQ(call.tool.arguments, json({{"taskId", "task-7"}, {"output", 1}}));
  EXPECT_EQ(call.source, "rule 1");
  Decision retry = script.Decide(McpRequest("finish it", true, true, 1));
  ASSERT_EQ(retry.action, Action::kToolCall);
  EXPECT_EQ(retry.tool.arguments, json({{"taskId", "task-7"}, {"output", 2}}));
  EXPECT_EQ(script.Decide(McpRequest("finish it", true, false, 2)).text, "done");

  // A marker overrides field by field: its own retry arguments with the rule's call.
  Decision overlaid =
      script.Decide(McpRequest("finish it\nMCP_RETRY: {\"output\": 3}", true, true, 1));
  ASSERT_EQ(overlaid.action, Action::kToolCall);
  EXPECT_EQ(overlaid.tool.arguments, json({{"output", 3}, {"taskId", ""}}));
  EXPECT_EQ(overlaid.source, "rule 1+marker");
  // A marker's shell command replaces the rule's MCP call together with its retry.
  Decision shell = script.Decide(McpRequest("finish it\nRUN_SHELL: ls"));
  EXPECT_EQ(shell.tool.name, "bash");
}

TEST(ScriptTest, McpRetryWithoutAnMcpCallIsA400) {
  Script script("pong");
  Decision d = script.Decide(McpRequest(R"(MCP_RETRY: {"taskId": "x"})"));
  EXPECT_EQ(d.action, Action::kError);
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(d.text, "stub-llm: MCP_RETRY: needs an MCP_CALL (or a rule's mcp) to retry");
}

TEST(ScriptTest, LoadScriptNamesAMissingFile) {
  auto spec = LoadScript("/nonexistent/script.json");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message, "cannot read the script file /nonexistent/script.json");
}

TEST(ScriptTest, DecisionLogShape) {
  Script script("pong");
  json call = script.Decide(Request("RUN_SHELL: ls")).ToJson();
  EXPECT_EQ(call["action"], "tool_call");
  EXPECT_EQ(call["tool"], "bash");
  EXPECT_EQ(call["arguments"]["command"], "ls");
  json error = script.Decide(Request("HTTP_ERROR: 500\nDELAY_MS: 5")).ToJson();
  EXPECT_EQ(error["action"], "error");
  EXPECT_EQ(error["status"], 500);
  EXPECT_EQ(error["delayMs"], 5);
  Script long_reply(std::string(1000, 'x'));
  EXPECT_LT(long_reply.Decide(Request("x")).ToJson()["text"].get<std::string>().size(), 300u);
}

}  // namespace
}  // namespace swarm::stub_llm
