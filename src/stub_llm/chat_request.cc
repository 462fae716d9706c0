#include "stub_llm/chat_request.h"

#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "core/bounded_json.h"
#include "core/json_fields.h"
#include "stub_llm/mcp_call.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

// One conversation entry reduced to what the script looks at.
enum class TurnKind { kUser, kAssistant, kToolResult, kOther };

struct Turn {
  TurnKind kind = TurnKind::kOther;
  std::string text;
  std::vector<std::string> calls{};         // kAssistant: the names of the tools it calls
  std::vector<std::string> result_texts{};  // kToolResult: the texts of its (last) result
  std::optional<bool> result_error{};       // kToolResult: the wire's error flag, if it has one
};

// The text of a message's content: a plain string, or the `text` of every part that has one
// (text, input_text, output_text parts all spell it `text`).
std::string ContentText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (!content.is_array()) return text;
  for (const auto& part : content) {
    if (!part.is_object()) continue;
    auto it = part.find("text");
    if (it == part.end() || !it->is_string()) continue;
    if (!text.empty()) text += '\n';
    text += it->get<std::string>();
  }
  return text;
}

// The text pieces of a tool result's content: a plain string, or the `text` of each part
// (codex sends an array of input_text items, the first one its wall-time header).
std::vector<std::string> ResultTexts(const json& content) {
  std::vector<std::string> texts;
  if (content.is_string()) texts.push_back(content.get<std::string>());
  if (!content.is_array()) return texts;
  for (const auto& part : content) {
    if (!part.is_object()) continue;
    auto it = part.find("text");
    if (it != part.end() && it->is_string()) texts.push_back(it->get<std::string>());
  }
  return texts;
}

bool HasBlockOfType(const json& content, std::string_view type) {
  if (!content.is_array()) return false;
  for (const auto& part : content) {
    if (part.is_object() && TextField(part, "type") == type) return true;
  }
  return false;
}

TurnKind KindOfRole(std::string_view role) {
  if (role == "user") return TurnKind::kUser;
  if (role == "assistant") return TurnKind::kAssistant;
  if (role == "tool" || role == "function") return TurnKind::kToolResult;
  return TurnKind::kOther;  // system, developer
}

Result<const json*> OptionalArray(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return nullptr;
  if (!it->is_array()) return BadRequest(std::string(field) + " must be an array");
  return &*it;
}

Result<void> ReadCommon(const json& body, ChatRequest& out) {
  if (auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return BadRequest("model must be a string");
    out.model = it->get<std::string>();
  }
  if (auto it = body.find("stream"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return BadRequest("stream must be a boolean");
    out.stream = it->get<bool>();
  }
  return {};
}

Result<std::vector<Turn>> AnthropicTurns(const json& body, ChatRequest& out) {
  auto messages = OptionalArray(body, "messages");
  if (!messages) return tl::unexpected(messages.error());
  std::vector<Turn> turns;
  if (*messages == nullptr) return BadRequest("messages is required");
  for (const auto& m : **messages) {
    if (!m.is_object()) return BadRequest("messages[] must be objects");
    const json content = m.value("content", json());
    Turn turn{KindOfRole(TextField(m, "role")), ContentText(content)};
    // Claude Code answers a tool_use with a user message of tool_result blocks (sometimes
    // followed by a text reminder): that is a tool result, not a new prompt.
    if (turn.kind == TurnKind::kUser && HasBlockOfType(content, "tool_result")) {
      turn.kind = TurnKind::kToolResult;
    }
    if (content.is_array()) {
      for (const auto& block : content) {
        if (!block.is_object()) continue;
        const std::string type = TextField(block, "type");
        if (turn.kind == TurnKind::kAssistant && type == "tool_use") {
          turn.calls.push_back(TextField(block, "name"));
        } else if (turn.kind == TurnKind::kToolResult && type == "tool_result") {
          turn.result_texts = ResultTexts(block.value("content", json()));
          auto flag = block.find("is_error");
          turn.result_error = flag != block.end() && flag->is_boolean()
                                  ? std::optional<bool>(flag->get<bool>())
                                  : std::nullopt;
        }
      }
    }
    turns.push_back(std::move(turn));
  }
  auto tools = OptionalArray(body, "tools");
  if (!tools) return tl::unexpected(tools.error());
  if (*tools != nullptr) {
    for (const auto& t : **tools) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      out.tools.push_back({t["name"].get<std::string>(), t.value("input_schema", json()), false});
    }
  }
  return turns;
}

TurnKind KindOfResponsesItem(const json& item) {
  const std::string type = TextField(item, "type", item.contains("role") ? "message" : "");
  if (type == "message") return KindOfRole(TextField(item, "role"));
  if (type.size() > 7 && type.compare(type.size() - 7, 7, "_output") == 0) {
    return TurnKind::kToolResult;  // function_call_output, custom_tool_call_output, ...
  }
  if (type == "reasoning" || type.find("_call") != std::string::npos) return TurnKind::kAssistant;
  return TurnKind::kOther;
}

// The function and custom tools of a Responses tool list (one level: a namespace's tools).
void AddResponsesTools(const json& tools, const std::string& ns, ChatRequest& out) {
  if (!tools.is_array()) return;
  for (const auto& t : tools) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
    const std::string type = TextField(t, "type", "function");
    if (type == "function") {
      out.tools.push_back({t["name"].get<std::string>(), t.value("parameters", json()), false, ns});
    } else if (type == "custom") {
      out.tools.push_back({t["name"].get<std::string>(), json(), true, ns});
    }
  }
}

Result<std::vector<Turn>> ResponsesTurns(const json& body, ChatRequest& out) {
  std::vector<Turn> turns;
  auto input = body.find("input");
  if (input == body.end() || input->is_null()) return BadRequest("input is required");
  if (input->is_string()) {
    turns.push_back({TurnKind::kUser, input->get<std::string>()});
  } else if (input->is_array()) {
    for (const auto& item : *input) {
      if (!item.is_object()) return BadRequest("input[] must be objects");
      Turn turn{KindOfResponsesItem(item), ContentText(item.value("content", json()))};
      if (turn.kind == TurnKind::kToolResult) {
        turn.result_texts = ResultTexts(item.value("output", json()));
      } else if (turn.kind == TurnKind::kAssistant && item.contains("name")) {
        turn.calls.push_back(TextField(item, "name"));  // function_call, custom_tool_call
      }
      turns.push_back(std::move(turn));
    }
  } else {
    return BadRequest("input must be a string or an array");
  }
  auto tools = OptionalArray(body, "tools");
  if (!tools) return tl::unexpected(tools.error());
  if (*tools != nullptr) {
    for (const auto& t : **tools) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      // Built-in tools (web_search, local_shell) have no name and no schema to call with.
      const std::string type = TextField(t, "type", "function");
      if (type == "namespace") {
        // Codex's MCP tools: {"type":"namespace","name":"mcp__agent_swarm","tools":[…]}.
        AddResponsesTools(t.value("tools", json()), t["name"].get<std::string>(), out);
      } else {
        AddResponsesTools(json::array({t}), "", out);
      }
    }
  }
  return turns;
}

Result<std::vector<Turn>> ChatTurns(const json& body, ChatRequest& out) {
  auto messages = OptionalArray(body, "messages");
  if (!messages) return tl::unexpected(messages.error());
  if (*messages == nullptr) return BadRequest("messages is required");
  std::vector<Turn> turns;
  for (const auto& m : **messages) {
    if (!m.is_object()) return BadRequest("messages[] must be objects");
    const json content = m.value("content", json());
    Turn turn{KindOfRole(TextField(m, "role")), ContentText(content)};
    if (turn.kind == TurnKind::kToolResult) turn.result_texts = ResultTexts(content);
    auto calls = m.find("tool_calls");
    if (turn.kind == TurnKind::kAssistant && calls != m.end() && calls->is_array()) {
      for (const auto& call : *calls) {
        auto fn = call.is_object() ? call.find("function") : call.end();
        if (fn != call.end() && fn->is_object()) turn.calls.push_back(TextField(*fn, "name"));
      }
    }
    turns.push_back(std::move(turn));
  }
  auto tools = OptionalArray(body, "tools");
  if (!tools) return tl::unexpected(tools.error());
  if (*tools != nullptr) {
    for (const auto& t : **tools) {
      if (!t.is_object()) continue;
      auto fn = t.find("function");
      if (fn == t.end() || !fn->is_object() || !fn->contains("name") ||
          !(*fn)["name"].is_string()) {
        continue;
      }
      out.tools.push_back(
          {(*fn)["name"].get<std::string>(), fn->value("parameters", json()), false});
    }
  }
  return turns;
}

bool IsErrorResult(const Turn& turn) {
  if (turn.result_error) return *turn.result_error;
  for (const auto& text : turn.result_texts) {
    if (LooksLikeToolError(text)) return true;
  }
  return false;
}

// The task id of the first "Task ID:" line in the instructions (`preamble`: Anthropic's
// system, Responses' instructions), else in the system, developer and user messages. Tool
// results and the model's own text are left out: a task listing there names other tasks.
std::string FindTaskId(const std::string& preamble, const std::vector<Turn>& turns) {
  std::string id = TaskIdIn(preamble);
  for (std::size_t i = 0; id.empty() && i < turns.size(); ++i) {
    if (turns[i].kind == TurnKind::kUser || turns[i].kind == TurnKind::kOther) {
      id = TaskIdIn(turns[i].text);
    }
  }
  return id;
}

// Fills user_text, tool_result_turn, tool_result_error and calls_since_prompt from the
// conversation.
void ReadTurns(const std::vector<Turn>& turns, ChatRequest& out) {
  out.tool_result_turn = !turns.empty() && turns.back().kind == TurnKind::kToolResult;
  out.tool_result_error = out.tool_result_turn && IsErrorResult(turns.back());
  std::size_t last_user = turns.size();
  for (std::size_t i = turns.size(); i-- > 0;) {
    if (turns[i].kind == TurnKind::kUser) {
      last_user = i;
      break;
    }
  }
  for (std::size_t i = last_user == turns.size() ? 0 : last_user + 1; i < turns.size(); ++i) {
    for (const auto& call : turns[i].calls) out.calls_since_prompt.push_back(call);
  }
  if (last_user == turns.size()) return;
  std::size_t first = last_user;
  while (first > 0 && turns[first - 1].kind != TurnKind::kAssistant &&
         turns[first - 1].kind != TurnKind::kToolResult) {
    --first;
  }
  for (std::size_t i = first; i <= last_user; ++i) {
    if (turns[i].kind != TurnKind::kUser || turns[i].text.empty()) continue;
    if (!out.user_text.empty()) out.user_text += '\n';
    out.user_text += turns[i].text;
  }
}

}  // namespace

const char* WireName(Wire wire) {
  switch (wire) {
    case Wire::kAnthropic:
      return "anthropic";
    case Wire::kResponses:
      return "responses";
    case Wire::kChat:
      return "chat";
  }
  return "unknown";
}

const OfferedTool* ChatRequest::FindTool(std::string_view name) const {
  for (const auto& tool : tools) {
    if (tool.name == name) return &tool;
  }
  return nullptr;
}

Result<ChatRequest> ParseChatRequest(Wire wire, std::string_view body) {
  // Harness requests carry tool schemas, so more nesting than the default; the size is the
  // stub server's body limit.
  JsonLimits limits;
  limits.max_depth = 128;
  limits.max_bytes = std::numeric_limits<std::size_t>::max();
  auto bounded = ParseBoundedJson(body, limits);
  if (!bounded) {
    const std::string& why = bounded.error().message;
    return BadRequest(why.starts_with("malformed")
                          ? std::string("the request body is not valid JSON")
                          : "the request body: " + why);
  }
  json parsed = std::move(*bounded);
  if (!parsed.is_object()) return BadRequest("the request body must be a JSON object");
  ChatRequest out;
  out.wire = wire;
  out.body_bytes = body.size();
  if (auto common = ReadCommon(parsed, out); !common) return tl::unexpected(common.error());
  Result<std::vector<Turn>> turns = wire == Wire::kAnthropic   ? AnthropicTurns(parsed, out)
                                    : wire == Wire::kResponses ? ResponsesTurns(parsed, out)
                                                               : ChatTurns(parsed, out);
  if (!turns) return tl::unexpected(turns.error());
  ReadTurns(*turns, out);
  const char* preamble_field = wire == Wire::kAnthropic   ? "system"
                               : wire == Wire::kResponses ? "instructions"
                                                          : "";
  std::string preamble;
  if (auto it = parsed.find(preamble_field); *preamble_field && it != parsed.end()) {
    preamble = ContentText(*it);
  }
  out.task_id = FindTaskId(preamble, *turns);
  return out;
}

}  // namespace swarm::stub_llm
