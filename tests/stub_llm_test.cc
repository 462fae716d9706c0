// `agent-swarm stub-llm` over real HTTP: each wire format streaming and not, tool calls built
// from the tool schemas the real CLIs send, tool-result turns, scripted errors and delays,
// --reply and --script, and a request log that never shows the key.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "stub_llm/sse_test_support.h"
#include "support/api_process.h"
#include "support/stub_llm_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using stub_llm::test_support::ParseSse;
using stub_llm::test_support::SseParse;

constexpr char kAnthropicKey[] = "sk-ant-test-5f1e9a77c2";
constexpr char kOpenAiKey[] = "sk-openai-test-0b7d3e91";

// The shell tools as each CLI offers them (schemas trimmed to the fields that matter).
const json kClaudeBash = json::parse(R"({"name": "Bash", "input_schema": {"type": "object",
    "properties": {"command": {"type": "string"}, "timeout": {"type": "number"},
                   "description": {"type": "string"}},
    "required": ["command"]}})");
const json kCodexExec = json::parse(R"({"type": "function", "name": "exec_command",
    "strict": false, "parameters": {"type": "object",
    "properties": {"cmd": {"type": "string"}, "workdir": {"type": "string"}},
    "required": ["cmd"]}})");
const json kOpencodeBash = json::parse(R"({"type": "function", "function": {"name": "bash",
    "parameters": {"type": "object",
    "properties": {"command": {"type": "string"}, "description": {"type": "string"},
                   "timeout": {"type": "number"}},
    "required": ["command", "description"]}}})");

struct Exchange {
  int status = 0;
  std::string body;
  http::HeaderList headers;
  std::chrono::milliseconds elapsed{0};

  json Json() const { return json::parse(body, nullptr, false); }
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
};

class StubLlmTest : public testing::Test {
 protected:
  Exchange Send(const StubLlmProcess& stub, const std::string& method, const std::string& target,
                const json& body = nullptr) {
    http::ClientRequest request;
    request.method = method;
    request.url = stub.url() + target;
    request.timeout = std::chrono::seconds(20);
    if (!body.is_null()) {
      request.body = body.dump();
      request.headers.emplace_back("Content-Type", "application/json");
    }
    // The keys the CLIs send: Claude Code as x-api-key, the OpenAI clients as a bearer token.
    if (target.find("/messages") != std::string::npos) {
      request.headers.emplace_back("x-api-key", kAnthropicKey);
      request.headers.emplace_back("anthropic-version", "2023-06-01");
    } else {
      request.headers.emplace_back("Authorization", std::string("Bearer ") + kOpenAiKey);
    }
    const auto start = std::chrono::steady_clock::now();
    auto response = client_.Send(request);
    Exchange out;
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    EXPECT_TRUE(response) << (response ? "" : response.error().message);
    if (!response) return out;
    out.status = response->status;
    out.body = response->body;
    out.headers = response->headers;
    return out;
  }
  Exchange Send(const std::string& method, const std::string& target, const json& body = nullptr) {
    return Send(stub_, method, target, body);
  }

  // An SSE reply, checked for framing and JSON on every data line.
  SseParse Stream(const Exchange& e) {
    EXPECT_EQ(e.status, 200) << e.body;
    EXPECT_EQ(e.Header("content-type"), "text/event-stream");
    SseParse sse = ParseSse(e.body);
    EXPECT_EQ(sse.error, "") << e.body;
    return sse;
  }

  TempDir dir_;
  StubLlmProcess stub_{dir_.File("stub.log")};
  http::CurlHttpClient client_;
};

// Request bodies as each CLI shapes them.
json AnthropicBody(const std::string& prompt, bool stream, json tools = json::array()) {
  return {{"model", "claude-opus-4-8"},
          {"max_tokens", 64000},
          {"stream", stream},
          {"system", json::array({{{"type", "text"}, {"text", "You are Claude Code."}}})},
          {"messages",
           json::array({{{"role", "user"},
                         {"content", json::array({{{"type", "text"}, {"text", prompt}}})}}})},
          {"tools", std::move(tools)}};
}

json ResponsesBody(const std::string& prompt, bool stream, json tools = json::array()) {
  return {{"model", "gpt-5.5"},
          {"stream", stream},
          {"store", false},
          {"include", json::array({"reasoning.encrypted_content"})},
          {"input",
           json::array({{{"type", "message"},
                         {"role", "user"},
                         {"content", json::array({{{"type", "input_text"}, {"text", prompt}}})}}})},
          {"tools", std::move(tools)}};
}

json ChatBody(const std::string& prompt, bool stream, json tools = json::array()) {
  json body = {{"model", "fake-model"},
               {"stream", stream},
               {"messages", json::array({{{"role", "system"}, {"content", "You are opencode."}},
                                         {{"role", "user"}, {"content", prompt}}})}};
  if (stream) body["stream_options"] = {{"include_usage", true}};
  if (!tools.empty()) body["tools"] = std::move(tools);
  return body;
}

std::vector<std::string> Collapse(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (out.empty() || out.back() != n) out.push_back(n);
  }
  return out;
}

TEST_F(StubLlmTest, RootAndModels) {
  EXPECT_EQ(Send("HEAD", "/").status, 200);
  Exchange models = Send("GET", "/v1/models");
  EXPECT_EQ(models.status, 200);
  EXPECT_EQ(models.Json()["object"], "list");
  EXPECT_EQ(models.Json()["data"][0]["id"], "stub-model");
}

TEST_F(StubLlmTest, UnknownPathsAre404Json) {
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/nothing"}, {"POST", "/v1/embeddings"}, {"GET", "/v1/messages"}}) {
    Exchange e = Send(method, target, method == "POST" ? json::object() : json());
    EXPECT_EQ(e.status, 404) << target;
    EXPECT_TRUE(e.Json()["error"]["message"].is_string()) << e.body;
  }
}

TEST_F(StubLlmTest, AnthropicMessages) {
  SseParse sse = Stream(Send("POST", "/v1/messages?beta=true", AnthropicBody("say pong", true)));
  EXPECT_EQ(sse.Names(), sse.Types());
  EXPECT_EQ(Collapse(sse.Names()),
            (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                      "content_block_delta", "content_block_stop", "message_delta",
                                      "message_stop"}));
  EXPECT_EQ(sse.events[3].json["delta"]["text"], "pong");
  EXPECT_GT(sse.events[0].json["message"]["usage"]["input_tokens"].get<int>(), 10);
  EXPECT_EQ(sse.events[sse.events.size() - 2].json["delta"]["stop_reason"], "end_turn");

  Exchange plain = Send("POST", "/v1/messages", AnthropicBody("say pong", false));
  EXPECT_EQ(plain.status, 200);
  json message = plain.Json();
  EXPECT_EQ(message["content"][0]["text"], "pong");
  EXPECT_EQ(message["stop_reason"], "end_turn");
  EXPECT_GT(message["usage"]["input_tokens"].get<int>(), 10);
  EXPECT_GE(message["usage"]["output_tokens"].get<int>(), 1);

  // A base URL that already ends in /v1 still reaches the endpoint.
  EXPECT_EQ(Send("POST", "/v1/v1/messages", AnthropicBody("x", false)).status, 200);
  Exchange count = Send("POST", "/v1/messages/count_tokens", AnthropicBody("x", false));
  EXPECT_GT(count.Json()["input_tokens"].get<int>(), 10);
}

TEST_F(StubLlmTest, OpenAiResponses) {
  SseParse sse = Stream(Send("POST", "/v1/responses", ResponsesBody("say pong", true)));
  EXPECT_EQ(sse.Names(), sse.Types());
  EXPECT_EQ(
      Collapse(sse.Names()),
      (std::vector<std::string>{
          "response.created", "response.in_progress", "response.output_item.added",
          "response.content_part.added", "response.output_text.delta", "response.output_text.done",
          "response.content_part.done", "response.output_item.done", "response.completed"}));
  const json& completed = sse.events.back().json["response"];
  EXPECT_TRUE(completed["id"].get<std::string>().starts_with("resp_"));
  EXPECT_EQ(completed["id"], sse.events[0].json["response"]["id"]);
  EXPECT_EQ(completed["output"][0]["content"][0]["text"], "pong");
  EXPECT_GT(completed["usage"]["input_tokens"].get<int>(), 10);
  EXPECT_EQ(completed["usage"]["total_tokens"].get<int>(),
            completed["usage"]["input_tokens"].get<int>() +
                completed["usage"]["output_tokens"].get<int>());

  Exchange plain = Send("POST", "/v1/responses", ResponsesBody("say pong", false));
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Json()["output"][0]["content"][0]["text"], "pong");
  EXPECT_EQ(plain.Json()["status"], "completed");
}

TEST_F(StubLlmTest, ChatCompletions) {
  for (const std::string path : {"/v1/chat/completions", "/chat/completions"}) {
    SseParse sse = Stream(Send("POST", path, ChatBody("say pong", true)));
    for (const auto& e : sse.events) EXPECT_EQ(e.name, "");
    ASSERT_GE(sse.events.size(), 4u);
    EXPECT_EQ(sse.events.back().data, "[DONE]");
    std::string text;
    for (const auto& e : sse.events) {
      if (e.json.is_object() && !e.json["choices"].empty()) {
        text += e.json["choices"][0]["delta"].value("content", "");
      }
    }
    EXPECT_EQ(text, "pong");
    const json& usage = sse.events[sse.events.size() - 2].json;
    EXPECT_EQ(usage["choices"], json::array());
    EXPECT_GT(usage["usage"]["prompt_tokens"].get<int>(), 10);
    EXPECT_EQ(sse.events[sse.events.size() - 3].json["choices"][0]["finish_reason"], "stop");
  }
  Exchange plain = Send("POST", "/v1/chat/completions", ChatBody("say pong", false));
  EXPECT_EQ(plain.Json()["choices"][0]["message"]["content"], "pong");
  EXPECT_GT(plain.Json()["usage"]["total_tokens"].get<int>(), 10);
}

constexpr char kToolPrompt[] =
    "Please do it.\nRUN_SHELL: echo hello > made_by_tool.txt && echo done";

TEST_F(StubLlmTest, RunShellBecomesClaudeBashThenTheReply) {
  SseParse sse = Stream(Send("POST", "/v1/messages?beta=true",
                             AnthropicBody(kToolPrompt, true, json::array({kClaudeBash}))));
  const json& block = sse.events[2].json["content_block"];
  EXPECT_EQ(block["type"], "tool_use");
  EXPECT_EQ(block["name"], "Bash");
  std::string args;
  for (const auto& e : sse.events) {
    if (e.name == "content_block_delta") args += e.json["delta"]["partial_json"].get<std::string>();
  }
  EXPECT_EQ(json::parse(args), json({{"command", "echo hello > made_by_tool.txt && echo done"}}));
  EXPECT_EQ(sse.events[sse.events.size() - 2].json["delta"]["stop_reason"], "tool_use");

  json turn2 = AnthropicBody(kToolPrompt, true, json::array({kClaudeBash}));
  turn2["messages"].push_back({{"role", "assistant"},
                               {"content", json::array({{{"type", "tool_use"},
                                                         {"id", block["id"]},
                                                         {"name", "Bash"},
                                                         {"input", json::parse(args)}}})}});
  turn2["messages"].push_back({{"role", "user"},
                               {"content", json::array({{{"type", "tool_result"},
                                                         {"tool_use_id", block["id"]},
                                                         {"content", "done"},
                                                         {"is_error", false}}})}});
  SseParse final_turn = Stream(Send("POST", "/v1/messages?beta=true", turn2));
  EXPECT_EQ(final_turn.events[2].json["content_block"]["type"], "text");
  EXPECT_EQ(final_turn.events[3].json["delta"]["text"], "pong");
}

TEST_F(StubLlmTest, RunShellBecomesCodexExecCommandThenTheReply) {
  SseParse sse = Stream(
      Send("POST", "/v1/responses", ResponsesBody(kToolPrompt, true, json::array({kCodexExec}))));
  const json& item = sse.events[sse.events.size() - 2].json["item"];
  EXPECT_EQ(sse.events[sse.events.size() - 2].name, "response.output_item.done");
  EXPECT_EQ(item["type"], "function_call");
  EXPECT_EQ(item["name"], "exec_command");
  EXPECT_EQ(json::parse(item["arguments"].get<std::string>()),
            json({{"cmd", "echo hello > made_by_tool.txt && echo done"}}));
  EXPECT_EQ(sse.events.back().json["response"]["output"][0], item);

  json turn2 = ResponsesBody(kToolPrompt, true, json::array({kCodexExec}));
  turn2["input"].push_back(item);
  turn2["input"].push_back({{"type", "function_call_output"},
                            {"call_id", item["call_id"]},
                            {"output", "Process exited with code 0\nOutput:\ndone\n"}});
  SseParse final_turn = Stream(Send("POST", "/v1/responses", turn2));
  EXPECT_EQ(final_turn.events.back().json["response"]["output"][0]["content"][0]["text"], "pong");
}

TEST_F(StubLlmTest, RunShellBecomesOpencodeBashThenTheReply) {
  SseParse sse = Stream(Send("POST", "/v1/chat/completions",
                             ChatBody(kToolPrompt, true, json::array({kOpencodeBash}))));
  const json& first = sse.events[0].json["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(first["function"]["name"], "bash");
  std::string args;
  for (const auto& e : sse.events) {
    if (!e.json.is_object() || e.json["choices"].empty()) continue;
    const json& delta = e.json["choices"][0]["delta"];
    if (delta.contains("tool_calls")) {
      args += delta["tool_calls"][0]["function"]["arguments"].get<std::string>();
    }
  }
  json parsed = json::parse(args);
  EXPECT_EQ(parsed["command"], "echo hello > made_by_tool.txt && echo done");
  EXPECT_TRUE(parsed["description"].is_string());  // required by opencode's schema
  EXPECT_EQ(sse.events[sse.events.size() - 3].json["choices"][0]["finish_reason"], "tool_calls");

  json turn2 = ChatBody(kToolPrompt, true, json::array({kOpencodeBash}));
  turn2["messages"].push_back(
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls", json::array({{{"id", first["id"]},
                                    {"type", "function"},
                                    {"function", {{"name", "bash"}, {"arguments", args}}}}})}});
  turn2["messages"].push_back(
      {{"role", "tool"}, {"tool_call_id", first["id"]}, {"content", "done\n"}});
  Exchange e = Send("POST", "/v1/chat/completions", turn2);
  EXPECT_NE(e.body.find(R"("content":"pong")"), std::string::npos) << e.body;

  // opencode's title request offers no tools: the plain reply, never a call.
  Exchange title = Send("POST", "/v1/chat/completions", ChatBody(kToolPrompt, false));
  EXPECT_EQ(title.Json()["choices"][0]["message"]["content"], "pong");
}

TEST_F(StubLlmTest, ScriptedServerErrorInEachWireShape) {
  Exchange a = Send("POST", "/v1/messages", AnthropicBody("HTTP_ERROR: 500 scripted outage", true));
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(a.Json()["type"], "error");
  EXPECT_EQ(a.Json()["error"]["message"], "scripted outage");
  EXPECT_EQ(a.Header("x-should-retry"), "false");
  EXPECT_EQ(a.Header("retry-after-ms"), "0");
  Exchange r = Send("POST", "/v1/responses", ResponsesBody("HTTP_ERROR: 500", true));
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(r.Json()["error"]["message"].is_string());
  Exchange c = Send("POST", "/v1/chat/completions", ChatBody("HTTP_ERROR: 429 slow down", true));
  EXPECT_EQ(c.status, 429);
  EXPECT_EQ(c.Json()["error"]["message"], "slow down");
}

TEST_F(StubLlmTest, ScriptedDelayDoesNotHoldUpOtherRequests) {
  // The stub runs two I/O threads. Three delayed requests at once would hold both if a delay
  // slept on its thread; waiting on a timer, they end together and quick requests pass.
  std::vector<Exchange> slow(3);
  std::vector<std::thread> waiters;
  for (auto& e : slow) {
    waiters.emplace_back([this, &e] {
      e = Send("POST", "/v1/chat/completions", ChatBody("DELAY_MS: 600\nREPLY: late", false));
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  for (int i = 0; i < 3; ++i) {
    Exchange quick = Send("POST", "/v1/chat/completions", ChatBody("hi", false));
    EXPECT_EQ(quick.status, 200);
    EXPECT_LT(quick.elapsed, std::chrono::milliseconds(400));
  }
  for (auto& t : waiters) t.join();
  for (const auto& e : slow) {
    EXPECT_EQ(e.status, 200);
    EXPECT_EQ(e.Json()["choices"][0]["message"]["content"], "late");
    EXPECT_GE(e.elapsed, std::chrono::milliseconds(600));
    EXPECT_LT(e.elapsed, std::chrono::milliseconds(1150));  // together, not two threads at a time
  }
}

TEST_F(StubLlmTest, ReplyFlag) {
  StubLlmProcess stub(dir_.File("reply.log"), {"--reply", R"({"reply":"pong"})"});
  Exchange e = Send(stub, "POST", "/v1/messages", AnthropicBody("Reply with exactly: pong", false));
  EXPECT_EQ(e.Json()["content"][0]["text"], R"({"reply":"pong"})");
}

TEST_F(StubLlmTest, ScriptFile) {
  const std::string path = dir_.File("script.json");
  std::ofstream(path) << R"({
    // a flaky first request, then a tool round trip for prompts naming "the file"
    "reply": "scripted default",
    "rules": [
      {"status": 503, "error": "warming up", "times": 1, "needsTools": true},
      {"match": "the file", "shell": "touch out.txt", "reply": "file made"},
      {"match": "wait", "delayMs": 300, "reply": "waited"}
    ]})";
  StubLlmProcess stub(dir_.File("script.log"), {"--script", path});
  const json tools = json::array({kCodexExec});
  EXPECT_EQ(
      Send(stub, "POST", "/v1/responses", ResponsesBody("make the file", false, tools)).status,
      503);
  Exchange call = Send(stub, "POST", "/v1/responses", ResponsesBody("make the file", false, tools));
  ASSERT_EQ(call.status, 200);
  const json item = call.Json()["output"][0];
  EXPECT_EQ(item["type"], "function_call");
  EXPECT_EQ(json::parse(item["arguments"].get<std::string>())["cmd"], "touch out.txt");
  json turn2 = ResponsesBody("make the file", false, tools);
  turn2["input"].push_back(item);
  turn2["input"].push_back(
      {{"type", "function_call_output"}, {"call_id", item["call_id"]}, {"output", ""}});
  EXPECT_EQ(Send(stub, "POST", "/v1/responses", turn2).Json()["output_text"], "file made");
  Exchange waited = Send(stub, "POST", "/v1/chat/completions", ChatBody("please wait", false));
  EXPECT_EQ(waited.Json()["choices"][0]["message"]["content"], "waited");
  EXPECT_GE(waited.elapsed, std::chrono::milliseconds(300));
  EXPECT_EQ(Send(stub, "POST", "/v1/chat/completions", ChatBody("other", false))
                .Json()["choices"][0]["message"]["content"],
            "scripted default");
}

// Codex with the swarm's MCP server connected: store-progress inside a namespace tool.
const json kCodexMcpNamespace = json::parse(R"({"type": "namespace", "name": "mcp__agent_swarm",
    "description": "Tools in the mcp__agent_swarm namespace.",
    "tools": [{"type": "function", "name": "store_progress", "strict": false,
               "parameters": {"type": "object",
                              "properties": {"taskId": {"type": "string"}, "output": {}},
                              "required": ["taskId"]}}]})");

TEST_F(StubLlmTest, McpCallRetryAndReplyOverCodexResponses) {
  const std::string path = dir_.File("mcp.json");
  std::ofstream(path) << R"({"rules": [{"match": "finish", "reply": "all stored",
      "mcp": {"tool": "store-progress",
              "arguments": {"taskId": "{{taskId}}", "status": "completed", "output": {"n": 1}},
              "retryArguments": {"taskId": "{{taskId}}", "status": "completed",
                                 "output": {"n": "one"}}}}]})";
  StubLlmProcess stub(dir_.File("mcp.log"), {"--script", path});
  const json tools = json::array({kCodexExec, kCodexMcpNamespace});
  json body = ResponsesBody("Task ID: task-77\nfinish the task", true, tools);

  // One streamed turn: the function_call item as the stream's output_item.done carries it.
  auto call_in = [&](const json& request) {
    SseParse sse = Stream(Send(stub, "POST", "/v1/responses", request));
    EXPECT_GE(sse.events.size(), 2u);
    if (sse.events.size() < 2) return json();
    EXPECT_EQ(sse.events[sse.events.size() - 2].name, "response.output_item.done");
    return sse.events[sse.events.size() - 2].json["item"];
  };
  auto answer = [&](const json& item, const std::string& text) {
    body["input"].push_back(item);
    body["input"].push_back({{"type", "function_call_output"},
                             {"call_id", item["call_id"]},
                             {"output", json::array({{{"type", "input_text"},
                                                      {"text", "Wall time: 0.0 seconds\nOutput:"}},
                                                     {{"type", "input_text"}, {"text", text}}})}});
  };

  const json first = call_in(body);
  EXPECT_EQ(first["type"], "function_call");
  EXPECT_EQ(first["namespace"], "mcp__agent_swarm");
  EXPECT_EQ(first["name"], "store_progress");
  EXPECT_EQ(json::parse(first["arguments"].get<std::string>()),
            json({{"taskId", "task-77"}, {"status", "completed"}, {"output", {{"n", 1}}}}));

  answer(first, "Error: output does not match the task's outputSchema: /n: must be string");
  const json second = call_in(body);
  EXPECT_EQ(second["namespace"], "mcp__agent_swarm");
  EXPECT_EQ(second["name"], "store_progress");
  EXPECT_EQ(json::parse(second["arguments"].get<std::string>())["output"], json({{"n", "one"}}));
  EXPECT_NE(second["call_id"], first["call_id"]);

  answer(second, "stored task-77 as completed");
  const json last = call_in(body);
  EXPECT_EQ(last["type"], "message");
  EXPECT_EQ(last["content"][0]["text"], "all stored");
}

TEST_F(StubLlmTest, BadScriptFailsAtStart) {
  const std::string path = dir_.File("bad.json");
  std::ofstream(path) << R"({"rules": [{"mtach": "typo"}]})";
  CommandResult r = RunCommand({AgentSwarmBinary(), "stub-llm", "--port", "0", "--script", path},
                               {}, std::chrono::seconds(10));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown field mtach"), std::string::npos) << r.err;
}

TEST_F(StubLlmTest, RequestLogIsJsonAndNeverShowsTheKeys) {
  Send("HEAD", "/");
  Send("POST", "/v1/messages?beta=true",
       AnthropicBody(std::string("my key is ") + kAnthropicKey, true));
  Send("POST", "/v1/responses", ResponsesBody("RUN_SHELL: ls", true, json::array({kCodexExec})));
  Send("POST", "/v1/chat/completions", ChatBody(std::string("echo ") + kOpenAiKey, true));
  Send("GET", "/v1/unknown");
  // The log is written by a thread of its own: the last line may trail the last reply.
  auto request_lines = [&] {
    const std::string log = stub_.log();
    std::size_t n = 0;
    for (std::size_t at = 0; (at = log.find("\"msg\":\"request\"", at)) != std::string::npos; ++at)
      ++n;
    return n;
  };
  EXPECT_TRUE(WaitUntil([&] { return request_lines() >= 5; }, std::chrono::seconds(5)));
  const std::string log = stub_.log();
  EXPECT_EQ(log.find(kAnthropicKey), std::string::npos) << log;
  EXPECT_EQ(log.find(kOpenAiKey), std::string::npos) << log;

  std::istringstream lines(log);
  std::vector<json> requests;
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    if (j["msg"] == "request") requests.push_back(j);
  }
  ASSERT_EQ(requests.size(), 5u) << log;
  EXPECT_EQ(requests[0]["method"], "HEAD");
  EXPECT_EQ(requests[1]["path"], "/v1/messages");
  EXPECT_EQ(requests[1]["query"], "beta=true");
  EXPECT_EQ(requests[1]["headers"]["x-api-key"],
            "[REDACTED] (" + std::to_string(sizeof(kAnthropicKey) - 1) + " bytes)");
  EXPECT_EQ(requests[1]["decision"]["action"], "reply");
  EXPECT_EQ(requests[2]["decision"]["action"], "tool_call");
  EXPECT_EQ(requests[2]["decision"]["tool"], "exec_command");
  EXPECT_EQ(requests[2]["headers"]["authorization"].get<std::string>().rfind("[REDACTED]", 0), 0u);
  EXPECT_EQ(requests[4]["status"], 404);
}

TEST_F(StubLlmTest, SigtermStopsCleanly) {
  stub_.child().Signal(SIGTERM);
  EXPECT_EQ(stub_.child().Wait(std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace swarm::testing_support
