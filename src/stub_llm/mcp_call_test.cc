#include "stub_llm/mcp_call.h"

#include <gtest/gtest.h>

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

TEST(McpCallTest, NamesMatchWhateverPrefixEachCliAdds) {
  EXPECT_TRUE(McpNameMatches("mcp__agent-swarm__store-progress", "store-progress"));  // claude
  EXPECT_TRUE(McpNameMatches("store_progress", "store-progress"));  // codex, in its namespace
  EXPECT_TRUE(McpNameMatches("agent-swarm_store-progress", "store-progress"));  // opencode
  EXPECT_TRUE(McpNameMatches("store-progress", "store-progress"));              // pi
  EXPECT_TRUE(McpNameMatches("mcp__agent_swarm__store_progress", "store_progress"));
  EXPECT_FALSE(McpNameMatches("mcp__agent-swarm__store-progress2", "store-progress"));
  EXPECT_FALSE(McpNameMatches("restore-progress", "store-progress"));  // no separator before
  EXPECT_FALSE(McpNameMatches("progress", "store-progress"));
  EXPECT_FALSE(McpNameMatches("Store-Progress", "store-progress"));
  EXPECT_FALSE(McpNameMatches("store-progress", ""));
}

TEST(McpCallTest, FindPrefersAnExactNameAndSkipsFreeformTools) {
  ChatRequest r;
  r.tools = {{"apply_patch", json(), true},
             {"mcp__other__get-task-details", json::object()},
             {"mcp__agent-swarm__get-task-details", json::object()},
             {"get_task_details", json::object(), false, "mcp__agent_swarm"},
             {"store-progress", json(), /*freeform=*/true}};
  const OfferedTool* exact = FindMcpTool(r, "get-task-details");
  ASSERT_NE(exact, nullptr);
  EXPECT_EQ(exact->name, "get_task_details");
  EXPECT_EQ(exact->ns, "mcp__agent_swarm");
  r.tools.erase(r.tools.begin() + 3);
  EXPECT_EQ(FindMcpTool(r, "get-task-details")->name, "mcp__other__get-task-details");
  EXPECT_EQ(FindMcpTool(r, "store-progress"), nullptr);
  EXPECT_EQ(FindMcpTool(r, "patch"), nullptr);
}

TEST(McpCallTest, CountsCallsOfTheToolSinceThePrompt) {
  ChatRequest r;
  r.calls_since_prompt = {"Bash", "mcp__agent-swarm__store-progress", "Read",
                          "mcp__agent-swarm__store-progress"};
  EXPECT_EQ(CountMcpCalls(r, "store-progress"), 2);
  EXPECT_EQ(CountMcpCalls(r, "get-swarm"), 0);
}

TEST(McpCallTest, ReplacesTheTaskIdInEveryStringAtAnyDepth) {
  json args = json::parse(R"({"taskId": "{{taskId}}", "n": 1, "{{taskId}}": "key stays",
      "output": {"list": ["a {{taskId}} b {{taskId}}", null, {"deep": "{{taskId}}"}]}})");
  EXPECT_TRUE(ReplaceTaskId(args, "t-1"));
  EXPECT_EQ(args, json::parse(R"({"taskId": "t-1", "n": 1, "{{taskId}}": "key stays",
      "output": {"list": ["a t-1 b t-1", null, {"deep": "t-1"}]}})"));
  EXPECT_FALSE(ReplaceTaskId(args, "t-2"));

  json kept = {{"taskId", "{{taskId}}"}};
  EXPECT_TRUE(ReplaceTaskId(kept, ""));
  EXPECT_EQ(kept["taskId"], "{{taskId}}");
  // An id that holds the placeholder itself is put in once, not expanded forever.
  json self = {{"x", "{{taskId}}"}};
  EXPECT_TRUE(ReplaceTaskId(self, "{{taskId}}!"));
  EXPECT_EQ(self["x"], "{{taskId}}!");
}

TEST(McpCallTest, TaskIdIsTheWordAfterTheFirstLabel) {
  EXPECT_EQ(TaskIdIn("Task ID: 7f3c2a10-1111-4222-8333-944445555666\nmore"),
            "7f3c2a10-1111-4222-8333-944445555666");
  EXPECT_EQ(TaskIdIn("Your task (Task ID: `t-9`)."), "t-9");
  EXPECT_EQ(TaskIdIn("Task ID:\"abc\", then Task ID: def"), "abc");
  EXPECT_EQ(TaskIdIn("Task ID:\nTask ID: second"), "second");  // the first has no id on its line
  EXPECT_EQ(TaskIdIn("task id: lower"), "");
  EXPECT_EQ(TaskIdIn("no id here"), "");
}

TEST(McpCallTest, ErrorTextsStartWithErrorOrErr) {
  EXPECT_TRUE(LooksLikeToolError("Error: output does not match the task's outputSchema"));
  EXPECT_TRUE(LooksLikeToolError("  \nERR: refused"));
  EXPECT_TRUE(LooksLikeToolError("ERROR"));
  EXPECT_FALSE(LooksLikeToolError("stored t1=ok"));
  EXPECT_FALSE(LooksLikeToolError("No Error here"));
  EXPECT_FALSE(LooksLikeToolError("error: lower case is not the API's"));
  EXPECT_FALSE(LooksLikeToolError(""));
}

// What codex 0.169.0 sent stub-llm for the API's store-progress refusal (seen in the e2e): the
// structuredContent under its wall-time header, with no error flag on the wire.
TEST(LooksLikeToolError, ReadsCodexsStructuredContentUnderItsHeader) {
  EXPECT_TRUE(LooksLikeToolError(
      "Wall time: 0.0043 seconds\nOutput:\n{\"message\":\"output does not match the task's "
      "outputSchema\",\"status\":\"in_progress\",\"success\":false,\"taskId\":\"t1\"}"));
  EXPECT_TRUE(LooksLikeToolError("Wall time: 0.1 seconds\nOutput:\nError: refused"));
  EXPECT_TRUE(LooksLikeToolError(R"({"isError":true})"));
  EXPECT_FALSE(LooksLikeToolError(
      "Wall time: 0.0043 seconds\nOutput:\n{\"success\":true,\"status\":\"completed\"}"));
  EXPECT_FALSE(LooksLikeToolError("Wall time: 0.1 seconds\nOutput:\nstored"));
  EXPECT_FALSE(LooksLikeToolError("{not json"));
}

}  // namespace
}  // namespace swarm::stub_llm
