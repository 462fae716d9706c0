// MCP tool use scripted through the whole request path (StubService::Decide), with the
// requests shaped as each CLI sends them once the swarm's MCP server is configured (see
// shared/notes/harness-mcp.md): the tool under each CLI's name, codex's namespace, the tool
// results as each CLI sends them back.
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stub_llm/stub_service.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

constexpr char kTaskId[] = "3f1c9b2e-8d4a-4c1f-9e2b-7a6d5c4b3a21";

const json kStoreProgressSchema = json::parse(R"({"type": "object",
  "properties": {"taskId": {"type": "string"}, "progress": {"type": "string"},
                 "status": {"type": "string", "enum": ["completed", "failed"]},
                 "output": {}, "failureReason": {"type": "string"}},
  "required": ["taskId"]})");
const json kTaskDetailsSchema = json::parse(R"({"type": "object",
  "properties": {"taskId": {"type": "string"}}, "required": ["taskId"]})");

struct ToolUse {
  std::string id;
  std::string name;
  std::string ns;  // codex only
  json arguments;
};

// How one CLI shapes its requests and reads the replies.
class Cli {
 public:
  virtual ~Cli() = default;
  virtual std::string name() const = 0;
  virtual std::string path() const = 0;
  // The name the model sees store-progress under.
  virtual std::string store_progress() const = 0;
  // The first request of a task whose prompt is `prompt`; without the MCP tools when
  // `with_mcp` is false (the server was not connected).
  virtual json FirstTurn(const std::string& prompt, bool with_mcp) const = 0;
  // The tool call in a reply, or nullopt for a text reply.
  virtual std::optional<ToolUse> CallIn(const json& reply) const = 0;
  virtual std::string TextIn(const json& reply) const = 0;
  // Appends the assistant's call and the result the CLI got from the MCP server.
  virtual void Answer(json& body, const ToolUse& call, const std::string& text,
                      bool is_error) const = 0;
};

json AnthropicTool(const std::string& name, const json& schema) {
  return {{"name", name}, {"description", "An MCP tool"}, {"input_schema", schema}};
}

// Claude Code, and pi on the anthropic-messages API: the same wire, different tool names and
// tool_result shapes.
class AnthropicCli : public Cli {
 public:
  explicit AnthropicCli(bool pi) : pi_(pi) {}
  std::string name() const override { return pi_ ? "pi (anthropic)" : "claude"; }
  std::string path() const override { return "/v1/messages"; }
  std::string store_progress() const override {
    return pi_ ? "store-progress" : "mcp__agent-swarm__store-progress";
  }
  json FirstTurn(const std::string& prompt, bool with_mcp) const override {
    json tools = json::array({AnthropicTool(pi_ ? "bash" : "Bash", {{"type", "object"}})});
    if (with_mcp) {
      tools.push_back(AnthropicTool(pi_ ? "get-task-details" : "mcp__agent-swarm__get-task-details",
                                    kTaskDetailsSchema));
      tools.push_back(AnthropicTool(store_progress(), kStoreProgressSchema));
    }
    return {{"model", "claude-opus-4-8"},
            {"max_tokens", 32000},
            {"stream", false},
            {"system", json::array({{{"type", "text"}, {"text", "You are an agent."}}})},
            {"messages",
             json::array({{{"role", "user"},
                           {"content", json::array({{{"type", "text"}, {"text", prompt}}})}}})},
            {"tools", std::move(tools)}};
  }
  std::optional<ToolUse> CallIn(const json& reply) const override {
    const json& block = reply["content"][0];
    if (block["type"] != "tool_use") return std::nullopt;
    return ToolUse{block["id"], block["name"], "", block["input"]};
  }
  std::string TextIn(const json& reply) const override { return reply["content"][0]["text"]; }
  void Answer(json& body, const ToolUse& call, const std::string& text,
              bool is_error) const override {
    body["messages"].push_back({{"role", "assistant"},
                                {"content", json::array({{{"type", "tool_use"},
                                                          {"id", call.id},
                                                          {"name", call.name},
                                                          {"input", call.arguments}}})}});
    json result = {{"type", "tool_result"}, {"tool_use_id", call.id}};
    if (pi_) {
      // pi sends text blocks and always the flag.
      result["content"] = json::array({{{"type", "text"}, {"text", text}}});
      result["is_error"] = is_error;
    } else if (is_error) {
      // Claude Code: an isError result is a plain string with the flag.
      result["content"] = text;
      result["is_error"] = true;
    } else {
      result["content"] = json::array({{{"type", "text"}, {"text", text}}});
    }
    body["messages"].push_back({{"role", "user"}, {"content", json::array({result})}});
  }

 private:
  bool pi_;
};

// Codex: the MCP tools inside a namespace tool, calls answered with function_call_output
// arrays.
class CodexCli : public Cli {
 public:
  std::string name() const override { return "codex"; }
  std::string path() const override { return "/v1/responses"; }
  std::string store_progress() const override { return "store_progress"; }
  json FirstTurn(const std::string& prompt, bool with_mcp) const override {
    json tools = json::array({{{"type", "function"},
                               {"name", "exec_command"},
                               {"strict", false},
                               {"parameters", {{"type", "object"}}}}});
    if (with_mcp) {
      tools.push_back({{"type", "namespace"},
                       {"name", "mcp__agent_swarm"},
                       {"description", "Tools in the mcp__agent_swarm namespace."},
                       {"tools", json::array({{{"type", "function"},
                                               {"name", "get_task_details"},
                                               {"strict", false},
                                               {"parameters", kTaskDetailsSchema}},
                                              {{"type", "function"},
                                               {"name", "store_progress"},
                                               {"strict", false},
                                               {"parameters", kStoreProgressSchema}}})}});
    }
    auto message = [](const char* role, const std::string& text) {
      return json{{"type", "message"},
                  {"role", role},
                  {"content", json::array({{{"type", "input_text"}, {"text", text}}})}};
    };
    return {{"model", "gpt-5.5"},
            {"instructions", "You are Codex."},
            {"stream", false},
            {"store", false},
            {"input",
             json::array({message("developer", "<permissions instructions/>"),
                          message("user", "<environment_context/>"), message("user", prompt)})},
            {"tools", std::move(tools)}};
  }
  std::optional<ToolUse> CallIn(const json& reply) const override {
    const json& item = reply["output"][0];
    if (item["type"] != "function_call") return std::nullopt;
    return ToolUse{item["call_id"], item["name"], item.value("namespace", ""),
                   json::parse(item["arguments"].get<std::string>())};
  }
  std::string TextIn(const json& reply) const override { return reply["output_text"]; }
  void Answer(json& body, const ToolUse& call, const std::string& text, bool) const override {
    json item = {{"type", "function_call"},
                 {"name", call.name},
                 {"arguments", call.arguments.dump()},
                 {"call_id", call.id}};
    if (!call.ns.empty()) item["namespace"] = call.ns;
    body["input"].push_back(std::move(item));
    body["input"].push_back({{"type", "function_call_output"},
                             {"call_id", call.id},
                             {"output", json::array({{{"type", "input_text"},
                                                      {"text", "Wall time: 0.0 seconds\nOutput:"}},
                                                     {{"type", "input_text"}, {"text", text}}})}});
  }
};

// opencode, and pi on the openai-completions API: chat completions, no error flag.
class ChatCli : public Cli {
 public:
  explicit ChatCli(bool pi) : pi_(pi) {}
  std::string name() const override { return pi_ ? "pi (chat)" : "opencode"; }
  std::string path() const override { return "/v1/chat/completions"; }
  std::string store_progress() const override {
    return pi_ ? "store-progress" : "agent-swarm_store-progress";
  }
  json FirstTurn(const std::string& prompt, bool with_mcp) const override {
    auto tool = [](const std::string& name, json schema) {
      return json{
          {"type", "function"},
          {"function", {{"name", name}, {"description", "A tool"}, {"parameters", schema}}}};
    };
    json tools = json::array({tool("bash", {{"type", "object"}})});
    if (with_mcp) {
      json schema = kStoreProgressSchema;
      if (!pi_) schema["additionalProperties"] = false;  // opencode adds it
      tools.push_back(
          tool(pi_ ? "get-task-details" : "agent-swarm_get-task-details", kTaskDetailsSchema));
      tools.push_back(tool(store_progress(), schema));
    }
    return {{"model", "fake-model"},
            {"stream", false},
            {"messages", json::array({{{"role", "system"}, {"content", "You are an agent."}},
                                      {{"role", "user"}, {"content", prompt}}})},
            {"tools", std::move(tools)}};
  }
  std::optional<ToolUse> CallIn(const json& reply) const override {
    const json& message = reply["choices"][0]["message"];
    if (!message.contains("tool_calls")) return std::nullopt;
    const json& call = message["tool_calls"][0];
    return ToolUse{call["id"], call["function"]["name"], "",
                   json::parse(call["function"]["arguments"].get<std::string>())};
  }
  std::string TextIn(const json& reply) const override {
    return reply["choices"][0]["message"]["content"];
  }
  void Answer(json& body, const ToolUse& call, const std::string& text, bool) const override {
    body["messages"].push_back(
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          json::array(
              {{{"id", call.id},
                {"type", "function"},
                {"function", {{"name", call.name}, {"arguments", call.arguments.dump()}}}}})}});
    body["messages"].push_back({{"role", "tool"}, {"tool_call_id", call.id}, {"content", text}});
  }

 private:
  bool pi_;
};

std::vector<std::shared_ptr<Cli>> AllClis() {
  return {std::make_shared<AnthropicCli>(false), std::make_shared<CodexCli>(),
          std::make_shared<ChatCli>(false), std::make_shared<ChatCli>(true),
          std::make_shared<AnthropicCli>(true)};
}

// The worker's prompt names the task; the task's description carries the markers.
std::string Prompt(const std::string& markers) {
  return std::string("You are working on a task of the swarm.\nTask ID: ") + kTaskId +
         "\nFinish it with the store-progress tool.\n\n" + markers;
}

const std::string kCallAndRetry = Prompt(
    R"(MCP_CALL: store-progress {"taskId": "{{taskId}}", "status": "completed", "output": {"reply": 1}})"
    "\n"
    R"(MCP_RETRY: {"taskId": "{{taskId}}", "status": "completed", "output": {"reply": "pong"}})"
    "\nREPLY: stored it");

constexpr char kSchemaError[] =
    "Error: output does not match the task's outputSchema: /reply: must be string";

struct Conversation {
  std::vector<ToolUse> calls;
  std::vector<json> logs;
  std::string final_text;
  int final_status = 0;
};

class McpFlowTest : public testing::TestWithParam<std::shared_ptr<Cli>> {
 protected:
  http::HttpRequest Post(const std::string& path, const json& body) {
    http::HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body.dump();
    r.headers = {{"content-type", "application/json"}};
    return r;
  }

  // Runs the conversation: each tool call gets the next of `results` ({text, is_error}).
  Conversation Converse(const Cli& cli, json body,
                        const std::vector<std::pair<std::string, bool>>& results) {
    Conversation c;
    for (std::size_t turn = 0; turn <= results.size(); ++turn) {
      StubService::Outcome out = service_.Decide(Post(cli.path(), body));
      c.logs.push_back(out.log);
      c.final_status = out.response.status;
      if (out.response.status != 200) {
        c.final_text = out.response.body;
        return c;
      }
      const json reply = json::parse(out.response.body);
      std::optional<ToolUse> call = cli.CallIn(reply);
      if (!call) {
        c.final_text = cli.TextIn(reply);
        return c;
      }
      c.calls.push_back(*call);
      if (turn == results.size()) break;
      cli.Answer(body, *call, results[turn].first, results[turn].second);
    }
    ADD_FAILURE() << cli.name() << ": more tool calls than results";
    return c;
  }

  Script script_{"pong"};
  StubService service_{script_, nullptr};
};

TEST_P(McpFlowTest, CallsTheToolThenRetriesAfterAnErrorThenReplies) {
  const Cli& cli = *GetParam();
  Conversation c = Converse(cli, cli.FirstTurn(kCallAndRetry, true),
                            {{kSchemaError, true}, {"stored " + std::string(kTaskId), false}});
  ASSERT_EQ(c.calls.size(), 2u);
  for (const ToolUse& call : c.calls) {
    EXPECT_EQ(call.name, cli.store_progress());
    // Codex takes the call only with its namespace; the flat name would be refused.
    EXPECT_EQ(call.ns, cli.name() == "codex" ? "mcp__agent_swarm" : "");
  }
  EXPECT_EQ(c.calls[0].arguments,
            json({{"taskId", kTaskId}, {"status", "completed"}, {"output", {{"reply", 1}}}}));
  EXPECT_EQ(c.calls[1].arguments,
            json({{"taskId", kTaskId}, {"status", "completed"}, {"output", {{"reply", "pong"}}}}));
  EXPECT_EQ(c.final_text, "stored it");
  ASSERT_EQ(c.logs.size(), 3u);
  EXPECT_EQ(c.logs[1]["decision"]["note"], "retry after an MCP tool error");
  if (cli.name() == "codex") {
    EXPECT_EQ(c.logs[0]["decision"]["namespace"], "mcp__agent_swarm");
    EXPECT_EQ(c.logs[0]["tools"][2], "mcp__agent_swarm.store_progress");
  }
}

TEST_P(McpFlowTest, NoRetryAfterASuccess) {
  const Cli& cli = *GetParam();
  Conversation c = Converse(cli, cli.FirstTurn(kCallAndRetry, true), {{"stored", false}});
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(c.calls[0].arguments["output"], json({{"reply", 1}}));
  EXPECT_EQ(c.final_text, "stored it");
  EXPECT_EQ(c.logs.back()["decision"]["note"], "the MCP tool result is a success");
}

TEST_P(McpFlowTest, WithoutTheMcpToolAPlainReplyAndANote) {
  const Cli& cli = *GetParam();
  Conversation c = Converse(cli, cli.FirstTurn(kCallAndRetry, false), {});
  EXPECT_TRUE(c.calls.empty());
  EXPECT_EQ(c.final_text, "stored it");
  EXPECT_EQ(c.logs[0]["decision"]["note"], "the request offers no MCP tool store-progress");
}

TEST_P(McpFlowTest, OtherMcpToolsByTheirMcpName) {
  const Cli& cli = *GetParam();
  Conversation c = Converse(
      cli, cli.FirstTurn(Prompt(R"(MCP_CALL: get-task-details {"taskId": "{{taskId}}"})"), true),
      {{R"({"id": "x", "status": "in_progress"})", false}});
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_TRUE(
      c.calls[0].name.ends_with(cli.name() == "codex" ? "get_task_details" : "get-task-details"))
      << c.calls[0].name;
  EXPECT_EQ(c.calls[0].arguments, json({{"taskId", kTaskId}}));
  EXPECT_EQ(c.final_text, "pong");
}

TEST_P(McpFlowTest, MalformedMarkerIsA400NamingIt) {
  const Cli& cli = *GetParam();
  Conversation c =
      Converse(cli, cli.FirstTurn(Prompt("MCP_CALL: store-progress {taskId}"), true), {});
  EXPECT_EQ(c.final_status, 400);
  EXPECT_NE(c.final_text.find("stub-llm: MCP_CALL: the arguments of store-progress are not a JSON "
                              "object"),
            std::string::npos)
      << c.final_text;
}

INSTANTIATE_TEST_SUITE_P(EachCli, McpFlowTest, testing::ValuesIn(AllClis()),
                         [](const testing::TestParamInfo<std::shared_ptr<Cli>>& info) {
                           std::string name;
                           for (char ch : info.param->name()) {
                             if (std::isalnum(static_cast<unsigned char>(ch))) name += ch;
                           }
                           return name;
                         });

// The error is recognized by the wire's flag where there is one, else by the text.
TEST(McpFlowErrorDetection, FlagOrText) {
  Script script("pong");
  StubService service(script, nullptr);
  const std::string not_prefixed = "output does not match the task's outputSchema";
  auto calls_after = [&](const Cli& cli, const std::string& text, bool is_error) {
    json body = cli.FirstTurn(kCallAndRetry, true);
    http::HttpRequest r;
    r.method = "POST";
    r.path = cli.path();
    r.body = body.dump();
    auto call = cli.CallIn(json::parse(service.Decide(r).response.body));
    EXPECT_TRUE(call);
    if (!call) return false;
    cli.Answer(body, *call, text, is_error);
    r.body = body.dump();
    return cli.CallIn(json::parse(service.Decide(r).response.body)).has_value();
  };
  // Claude flags it: retried though the text does not start with Error.
  EXPECT_TRUE(calls_after(AnthropicCli(false), not_prefixed, true));
  // pi on anthropic sends is_error false: the flag says success, whatever the text.
  EXPECT_FALSE(calls_after(AnthropicCli(true), kSchemaError, false));
  // Chat completions has no flag: only a text starting Error or ERR is an error.
  EXPECT_FALSE(calls_after(ChatCli(false), not_prefixed, true));
  EXPECT_TRUE(calls_after(ChatCli(false), "ERR: refused", true));
  // Codex: the texts of the output array, after the wall-time header.
  EXPECT_TRUE(calls_after(CodexCli(), kSchemaError, true));
  EXPECT_FALSE(calls_after(CodexCli(), "stored", false));
}

}  // namespace
}  // namespace swarm::stub_llm
