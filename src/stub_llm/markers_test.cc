#include "stub_llm/markers.h"

#include <gtest/gtest.h>

namespace swarm::stub_llm {
namespace {

Answer Parse(std::string_view text) {
  auto a = ParseMarkers(text);
  EXPECT_TRUE(a) << (a ? "" : a.error().message);
  return a ? *a : Answer{};
}

std::string Error(std::string_view text) {
  auto a = ParseMarkers(text);
  EXPECT_FALSE(a) << text;
  return a ? "" : a.error().message;
}

TEST(MarkersTest, NoMarkers) {
  EXPECT_TRUE(Parse("Reply with exactly: pong").empty());
  EXPECT_TRUE(Parse("").empty());
}

TEST(MarkersTest, EachMarkerTakesTheRestOfItsLine) {
  Answer a = Parse(
      "Do this.\nRUN_SHELL:   echo hello > made_by_tool.txt && echo done  \n"
      "then REPLY: {\"reply\":\"pong\"}\nDELAY_MS: 250\nmore text");
  EXPECT_EQ(a.shell, "echo hello > made_by_tool.txt && echo done");
  EXPECT_EQ(a.reply, R"({"reply":"pong"})");
  EXPECT_EQ(a.delay, std::chrono::milliseconds(250));
  EXPECT_FALSE(a.status);
  EXPECT_FALSE(a.tool);
}

TEST(MarkersTest, MarkersMustStartAWord) {
  EXPECT_TRUE(Parse("MY_REPLY: x\nXRUN_SHELL: y").empty());
  EXPECT_TRUE(Parse("reply: lower case is prose").empty());
}

TEST(MarkersTest, CallTool) {
  Answer a = Parse(R"(CALL_TOOL: write {"path":"a.txt","content":"x"})");
  ASSERT_TRUE(a.tool);
  EXPECT_EQ(a.tool->name, "write");
  EXPECT_EQ(a.tool->arguments, nlohmann::json({{"path", "a.txt"}, {"content", "x"}}));
  Answer bare = Parse("CALL_TOOL: todoread");
  EXPECT_EQ(bare.tool->name, "todoread");
  EXPECT_EQ(bare.tool->arguments, nlohmann::json::object());
  Answer both = Parse("RUN_SHELL: ls\nCALL_TOOL: read {}");
  EXPECT_TRUE(both.tool);
  EXPECT_FALSE(both.shell);
}

TEST(MarkersTest, McpCallAndRetry) {
  Answer a = Parse(
      "Task ID: t1\n"
      R"(MCP_CALL: store-progress {"taskId": "{{taskId}}", "output": {"reply": 1}})"
      "\n"
      R"(MCP_RETRY: {"taskId": "{{taskId}}", "output": {"reply": "one"}})");
  ASSERT_TRUE(a.mcp);
  EXPECT_EQ(a.mcp->name, "store-progress");
  EXPECT_EQ(a.mcp->arguments, nlohmann::json::parse(R"({"taskId": "{{taskId}}",
                                                         "output": {"reply": 1}})"));
  EXPECT_EQ(a.mcp_retry,
            nlohmann::json::parse(R"({"taskId": "{{taskId}}", "output": {"reply": "one"}})"));
  EXPECT_TRUE(a.asks_for_tool());
  EXPECT_EQ(Parse("MCP_CALL: get-swarm").mcp->arguments, nlohmann::json::object());
  // One call per turn: the MCP call wins over the others.
  Answer all = Parse("RUN_SHELL: ls\nCALL_TOOL: read {}\nMCP_CALL: my-agent-info {}");
  EXPECT_TRUE(all.mcp);
  EXPECT_FALSE(all.tool);
  EXPECT_FALSE(all.shell);
  // MCP_RETRY alone parses: a script rule may hold the call it retries.
  EXPECT_TRUE(Parse(R"(MCP_RETRY: {"a": 1})").mcp_retry);
}

TEST(MarkersTest, HttpError) {
  Answer a = Parse("HTTP_ERROR: 529 the model is overloaded");
  EXPECT_EQ(a.status, 529);
  EXPECT_EQ(a.error, "the model is overloaded");
  EXPECT_FALSE(Parse("HTTP_ERROR: 500").error);
}

TEST(MarkersTest, MalformedMarkersAreErrors) {
  EXPECT_EQ(Error("RUN_SHELL:   "), "stub-llm: RUN_SHELL: needs a command");
  EXPECT_EQ(Error("CALL_TOOL:"), "stub-llm: CALL_TOOL: needs a tool name");
  EXPECT_NE(Error("CALL_TOOL: write {nope").find("not a JSON object"), std::string::npos);
  EXPECT_NE(Error("CALL_TOOL: write [1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(Error("CALL_TOOL: write {\"a\":" + std::string(100000, '[')).find("not a JSON object"),
            std::string::npos);
  EXPECT_EQ(Error("MCP_CALL: "), "stub-llm: MCP_CALL: needs a tool name");
  EXPECT_EQ(Error("MCP_CALL: store-progress {nope"),
            "stub-llm: MCP_CALL: the arguments of store-progress are not a JSON object");
  EXPECT_EQ(Error(R"(MCP_CALL: store-progress "text")"),
            "stub-llm: MCP_CALL: the arguments of store-progress are not a JSON object");
  EXPECT_EQ(Error("MCP_RETRY:"),
            "stub-llm: MCP_RETRY: needs the arguments of the second call, a JSON object");
  EXPECT_EQ(Error("MCP_RETRY: [1]"),
            "stub-llm: MCP_RETRY: needs the arguments of the second call, a JSON object");
  EXPECT_EQ(Error("MCP_RETRY: {\"taskId\": "),
            "stub-llm: MCP_RETRY: needs the arguments of the second call, a JSON object");
  EXPECT_NE(Error("HTTP_ERROR: 200").find("400 to 599"), std::string::npos);
  EXPECT_NE(Error("HTTP_ERROR: soon").find("400 to 599"), std::string::npos);
  EXPECT_NE(Error("DELAY_MS: -1").find("milliseconds"), std::string::npos);
  EXPECT_NE(Error("DELAY_MS: 10s").find("milliseconds"), std::string::npos);
  EXPECT_NE(Error("DELAY_MS: 99999999").find("milliseconds"), std::string::npos);
}

}  // namespace
}  // namespace swarm::stub_llm
