#include "stub_llm/chat_request.h"

#include <gtest/gtest.h>

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

ChatRequest Parse(Wire wire, const json& body) {
  auto parsed = ParseChatRequest(wire, body.dump());
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : ChatRequest{};
}

// A Claude Code first turn: the prompt among system-reminder text blocks, 2 of its tools.
json ClaudeFirstTurn() {
  return json::parse(R"({
    "model": "claude-opus-4-8", "stream": true,
    "system": [{"type": "text", "text": "You are Claude Code"}],
    "messages": [{"role": "user", "content": [
      {"type": "text", "text": "<system-reminder>x</system-reminder>"},
      {"type": "text", "text": "say pong\nRUN_SHELL: echo hi"}]}],
    "tools": [
      {"name": "Bash", "input_schema": {"type": "object",
        "properties": {"command": {"type": "string"}}, "required": ["command"]}},
      {"name": "Read", "input_schema": {"type": "object"}}]})");
}

TEST(ChatRequestTest, AnthropicFirstTurn) {
  ChatRequest r = Parse(Wire::kAnthropic, ClaudeFirstTurn());
  EXPECT_EQ(r.model, "claude-opus-4-8");
  EXPECT_TRUE(r.stream);
  EXPECT_FALSE(r.tool_result_turn);
  EXPECT_NE(r.user_text.find("RUN_SHELL: echo hi"), std::string::npos);
  EXPECT_NE(r.user_text.find("system-reminder"), std::string::npos);
  ASSERT_EQ(r.tools.size(), 2u);
  EXPECT_EQ(r.tools[0].name, "Bash");
  EXPECT_EQ(r.tools[0].schema["required"][0], "command");
  ASSERT_NE(r.FindTool("Read"), nullptr);
  EXPECT_EQ(r.FindTool("Write"), nullptr);
}

TEST(ChatRequestTest, AnthropicToolResultTurnKeepsThePrompt) {
  json body = ClaudeFirstTurn();
  body["messages"].push_back({{"role", "assistant"},
                              {"content", json::array({{{"type", "tool_use"},
                                                        {"id", "toolu_1"},
                                                        {"name", "Bash"},
                                                        {"input", {{"command", "echo hi"}}}}})}});
  body["messages"].push_back(
      {{"role", "user"},
       {"content",
        json::array({{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "hi"}},
                     {{"type", "text"}, {"text", "<system-reminder>y</system-reminder>"}}})}});
  ChatRequest r = Parse(Wire::kAnthropic, body);
  EXPECT_TRUE(r.tool_result_turn);
  EXPECT_NE(r.user_text.find("RUN_SHELL: echo hi"), std::string::npos);
}

TEST(ChatRequestTest, AnthropicStringContentAndNoStream) {
  ChatRequest r = Parse(Wire::kAnthropic, {{"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(r.user_text, "hi");
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.tools.empty());
}

TEST(ChatRequestTest, ResponsesJoinsTheUserMessagesOfTheLatestTurn) {
  // Codex: a developer message, then the environment context and the prompt as two user
  // messages.
  json body = {
      {"model", "gpt-5.5"},
      {"stream", true},
      {"input",
       json::array(
           {{{"type", "message"},
             {"role", "developer"},
             {"content", json::array({{{"type", "input_text"}, {"text", "rules"}}})}},
            {{"type", "message"},
             {"role", "user"},
             {"content",
              json::array({{{"type", "input_text"}, {"text", "<environment_context/>"}}})}},
            {{"type", "message"},
             {"role", "user"},
             {"content", json::array({{{"type", "input_text"}, {"text", "REPLY: ok"}}})}}})},
      {"tools",
       json::array(
           {{{"type", "function"}, {"name", "exec_command"}, {"parameters", {{"type", "object"}}}},
            {{"type", "custom"}, {"name", "apply_patch"}},
            {{"type", "web_search"}}})}};
  ChatRequest r = Parse(Wire::kResponses, body);
  EXPECT_EQ(r.user_text, "<environment_context/>\nREPLY: ok");
  EXPECT_FALSE(r.tool_result_turn);
  ASSERT_EQ(r.tools.size(), 2u);
  EXPECT_FALSE(r.tools[0].freeform);
  EXPECT_TRUE(r.tools[1].freeform);

  body["input"].push_back(
      {{"type", "function_call"}, {"call_id", "c"}, {"name", "exec_command"}, {"arguments", "{}"}});
  body["input"].push_back({{"type", "function_call_output"}, {"call_id", "c"}, {"output", "ok"}});
  r = Parse(Wire::kResponses, body);
  EXPECT_TRUE(r.tool_result_turn);
  EXPECT_EQ(r.user_text, "<environment_context/>\nREPLY: ok");
}

TEST(ChatRequestTest, ResponsesStringInput) {
  ChatRequest r = Parse(Wire::kResponses, {{"input", "hello"}});
  EXPECT_EQ(r.user_text, "hello");
}

TEST(ChatRequestTest, ResponsesLaterPromptStartsANewTurn) {
  json body = {{"input", json::array({{{"role", "user"}, {"content", "first"}},
                                      {{"role", "assistant"}, {"content", "answer"}},
                                      {{"role", "user"}, {"content", "second"}}})}};
  EXPECT_EQ(Parse(Wire::kResponses, body).user_text, "second");
}

TEST(ChatRequestTest, ChatTitleRequestAndToolTurn) {
  json title = {
      {"model", "fake-model"},
      {"messages", json::array({{{"role", "system"}, {"content", "You are a title generator"}},
                                {{"role", "user"}, {"content", "say pong"}}})},
      {"stream", true}};
  ChatRequest r = Parse(Wire::kChat, title);
  EXPECT_TRUE(r.tools.empty());
  EXPECT_EQ(r.user_text, "say pong");

  json agent = {
      {"messages",
       json::array({{{"role", "user"},
                     {"content", json::array({{{"type", "text"}, {"text", "RUN_SHELL: ls"}}})}},
                    {{"role", "assistant"},
                     {"content", nullptr},
                     {"tool_calls",
                      json::array({{{"id", "call_1"},
                                    {"type", "function"},
                                    {"function", {{"name", "bash"}, {"arguments", "{}"}}}}})}},
                    {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "a.txt"}}})},
      {"tools",
       json::array({{{"type", "function"},
                     {"function", {{"name", "bash"}, {"parameters", {{"type", "object"}}}}}}})}};
  r = Parse(Wire::kChat, agent);
  EXPECT_TRUE(r.tool_result_turn);
  EXPECT_EQ(r.user_text, "RUN_SHELL: ls");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "bash");
}

// Codex with the swarm's MCP server: its tools inside a namespace tool, -'s turned into _'s.
json CodexMcpTurn() {
  return json::parse(R"({
    "model": "gpt-5.5", "stream": true, "instructions": "You are Codex.",
    "input": [
      {"type": "message", "role": "developer",
       "content": [{"type": "input_text", "text": "<permissions instructions/>"}]},
      {"type": "message", "role": "user",
       "content": [{"type": "input_text", "text": "<environment_context/>"}]},
      {"type": "message", "role": "user",
       "content": [{"type": "input_text", "text": "Task ID: task-42\nFinish with store-progress."}]}],
    "tools": [
      {"type": "function", "name": "exec_command", "parameters": {"type": "object"}},
      {"type": "namespace", "name": "mcp__agent_swarm",
       "description": "Tools in the mcp__agent_swarm namespace.",
       "tools": [
         {"type": "function", "name": "store_progress", "strict": false,
          "parameters": {"type": "object", "properties": {"taskId": {"type": "string"}},
                         "required": ["taskId"]}},
         {"type": "function", "name": "get_swarm", "strict": false,
          "parameters": {"type": "object"}}]},
      {"type": "namespace", "name": "odd", "tools": "not a list"}]})");
}

TEST(ChatRequestTest, ResponsesNamespaceToolsKeepTheirNamespace) {
  ChatRequest r = Parse(Wire::kResponses, CodexMcpTurn());
  ASSERT_EQ(r.tools.size(), 3u);
  EXPECT_EQ(r.tools[0].name, "exec_command");
  EXPECT_EQ(r.tools[0].ns, "");
  EXPECT_EQ(r.tools[1].name, "store_progress");
  EXPECT_EQ(r.tools[1].ns, "mcp__agent_swarm");
  EXPECT_EQ(r.tools[1].schema["required"][0], "taskId");
  EXPECT_EQ(r.tools[2].name, "get_swarm");
  EXPECT_EQ(r.task_id, "task-42");
  EXPECT_TRUE(r.calls_since_prompt.empty());
  EXPECT_FALSE(r.tool_result_error);
}

TEST(ChatRequestTest, ResponsesToolResultErrorIsReadFromTheOutputTexts) {
  json body = CodexMcpTurn();
  body["input"].push_back({{"type", "function_call"},
                           {"namespace", "mcp__agent_swarm"},
                           {"name", "store_progress"},
                           {"arguments", "{}"},
                           {"call_id", "c1"}});
  auto output = [](std::string text) {
    return json::array({{{"type", "input_text"}, {"text", "Wall time: 0.0 seconds\nOutput:"}},
                        {{"type", "input_text"}, {"text", std::move(text)}}});
  };
  body["input"].push_back(
      {{"type", "function_call_output"},
       {"call_id", "c1"},
       {"output", output("Error: output does not match the task's outputSchema")}});
  ChatRequest r = Parse(Wire::kResponses, body);
  EXPECT_TRUE(r.tool_result_turn);
  EXPECT_TRUE(r.tool_result_error);
  EXPECT_EQ(r.calls_since_prompt, std::vector<std::string>{"store_progress"});

  body["input"].back()["output"] = output("stored task-42=completed");
  EXPECT_FALSE(Parse(Wire::kResponses, body).tool_result_error);
  body["input"].back()["output"] = "ERR: not your task";
  EXPECT_TRUE(Parse(Wire::kResponses, body).tool_result_error);
}

TEST(ChatRequestTest, AnthropicToolResultErrorFlagWinsOverTheText) {
  json body = ClaudeFirstTurn();
  body["messages"].push_back(
      {{"role", "assistant"},
       {"content", json::array({{{"type", "text"}, {"text", "Storing."}},
                                {{"type", "tool_use"},
                                 {"id", "toolu_1"},
                                 {"name", "mcp__agent-swarm__store-progress"},
                                 {"input", json::object()}}})}});
  body["messages"].push_back({{"role", "user"},
                              {"content", json::array({{{"type", "tool_result"},
                                                        {"tool_use_id", "toolu_1"},
                                                        {"content", "output does not match"},
                                                        {"is_error", true}}})}});
  ChatRequest r = Parse(Wire::kAnthropic, body);
  EXPECT_TRUE(r.tool_result_turn);
  EXPECT_TRUE(r.tool_result_error);  // flagged, though the text does not say Error
  EXPECT_EQ(r.calls_since_prompt, std::vector<std::string>{"mcp__agent-swarm__store-progress"});

  json& result = body["messages"].back()["content"][0];
  result["is_error"] = false;
  result["content"] = "Error: a success that reads like an error";
  EXPECT_FALSE(Parse(Wire::kAnthropic, body).tool_result_error);
  result.erase("is_error");  // no flag: the text decides
  EXPECT_TRUE(Parse(Wire::kAnthropic, body).tool_result_error);
  result["content"] = json::array({{{"type", "text"}, {"text", "stored"}}});
  EXPECT_FALSE(Parse(Wire::kAnthropic, body).tool_result_error);
}

TEST(ChatRequestTest, ChatToolResultErrorByTextAndCallsSinceTheLatestPrompt) {
  auto call = [](const std::string& id) {
    return json{{"role", "assistant"},
                {"content", ""},
                {"tool_calls",
                 json::array({{{"id", id},
                               {"type", "function"},
                               {"function",
                                {{"name", "agent-swarm_store-progress"}, {"arguments", "{}"}}}}})}};
  };
  json body = {
      {"messages", json::array({{{"role", "user"}, {"content", "first prompt"}},
                                call("c0"),
                                {{"role", "tool"}, {"tool_call_id", "c0"}, {"content", "ok"}},
                                {{"role", "assistant"}, {"content", "done"}},
                                {{"role", "user"}, {"content", "second prompt"}},
                                call("c1"),
                                {{"role", "tool"},
                                 {"tool_call_id", "c1"},
                                 {"content", "Error: output does not match"}}})}};
  ChatRequest r = Parse(Wire::kChat, body);
  EXPECT_TRUE(r.tool_result_error);
  // The first prompt's call is not counted: turns are counted from the latest prompt.
  EXPECT_EQ(r.calls_since_prompt, std::vector<std::string>{"agent-swarm_store-progress"});
  body["messages"].back()["content"] = "stored";
  EXPECT_FALSE(Parse(Wire::kChat, body).tool_result_error);
}

TEST(ChatRequestTest, TaskIdComesFromInstructionsAndPromptsNotFromToolResults) {
  json claude = ClaudeFirstTurn();
  claude["system"][0]["text"] = "You are Claude Code.\nTask ID: from-system";
  EXPECT_EQ(Parse(Wire::kAnthropic, claude).task_id, "from-system");
  claude["system"] = "Task ID: system-string";
  EXPECT_EQ(Parse(Wire::kAnthropic, claude).task_id, "system-string");

  json codex = CodexMcpTurn();
  codex["instructions"] = "Task ID: from-instructions";
  EXPECT_EQ(Parse(Wire::kResponses, codex).task_id, "from-instructions");
  codex.erase("instructions");
  codex["input"][0]["content"][0]["text"] = "Task ID: from-developer";
  EXPECT_EQ(Parse(Wire::kResponses, codex).task_id, "from-developer");

  json chat = {
      {"messages", json::array({{{"role", "system"}, {"content", "no id"}},
                                {{"role", "assistant"}, {"content", "Task ID: from-the-model"}},
                                {{"role", "tool"}, {"content", "Task ID: from-a-listing"}},
                                {{"role", "user"}, {"content", "Task ID: from-user"}}})}};
  EXPECT_EQ(Parse(Wire::kChat, chat).task_id, "from-user");
  chat["messages"].erase(3);
  EXPECT_EQ(Parse(Wire::kChat, chat).task_id, "");
}

TEST(ChatRequestTest, MalformedBodiesAreBadRequests) {
  auto bad = [](Wire wire, std::string_view body) {
    auto r = ParseChatRequest(wire, body);
    EXPECT_FALSE(r) << body;
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(bad(Wire::kChat, "{nope"), "the request body is not valid JSON");
  EXPECT_EQ(bad(Wire::kChat, "[1]"), "the request body must be a JSON object");
  EXPECT_EQ(bad(Wire::kChat, "{}"), "messages is required");
  EXPECT_EQ(bad(Wire::kAnthropic, R"({"messages":"x"})"), "messages must be an array");
  EXPECT_EQ(bad(Wire::kResponses, R"({"input":3})"), "input must be a string or an array");
  EXPECT_EQ(bad(Wire::kChat, R"({"messages":[],"stream":"yes"})"), "stream must be a boolean");
  EXPECT_EQ(bad(Wire::kChat, R"({"messages":[],"model":1})"), "model must be a string");
  EXPECT_EQ(bad(Wire::kChat, R"({"messages":[],"tools":{}})"), "tools must be an array");
}

TEST(ChatRequestTest, DeepBodiesAreRefusedNamingTheLimit) {
  const std::string deep =
      R"({"messages":[],"tools":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  for (Wire wire : {Wire::kChat, Wire::kAnthropic, Wire::kResponses}) {
    auto r = ParseChatRequest(wire, deep);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "the request body: JSON is nested deeper than the 128-level limit");
  }
}

TEST(ChatRequestTest, OddFieldTypesInsideMessagesAreIgnored) {
  // Fields stub-llm does not check must not make it throw.
  auto r = ParseChatRequest(Wire::kAnthropic,
                            R"({"messages":[{"role":1,"content":[{"type":2,"text":3}]},)"
                            R"({"role":"user","content":[{"type":"text","text":"ok"}]}],)"
                            R"("tools":[{"name":5},"x",{"name":"T"}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->user_text, "ok");
  ASSERT_EQ(r->tools.size(), 1u);
  EXPECT_EQ(r->tools[0].name, "T");
}

}  // namespace
}  // namespace swarm::stub_llm
