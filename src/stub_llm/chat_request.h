// What stub-llm needs to know about one model request, whichever of the three wire formats
// carried it: the prompt text, whether the conversation is waiting on a tool result (and
// whether that result is an error), the tools on offer, the tool calls made since the prompt,
// the task id the prompt names, and the request's size (the basis of the token estimate).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace swarm::stub_llm {

enum class Wire {
  kAnthropic,  // POST /v1/messages (Claude Code, pi's anthropic-messages)
  kResponses,  // POST /v1/responses (Codex, pi's openai-responses)
  kChat,       // POST /v1/chat/completions (opencode, pi's openai-completions)
};

const char* WireName(Wire wire);

struct OfferedTool {
  std::string name;
  nlohmann::json schema;  // the JSON schema of the arguments; null when the tool has none
  // A Responses "custom" (freeform) tool: its call carries a string `input`, not JSON
  // `arguments`. Codex offers apply_patch this way.
  bool freeform = false;
  // The Responses `namespace` tool that holds it, empty for a top-level tool. Codex offers
  // each MCP server's tools so (namespace mcp__agent_swarm, name store_progress), and takes a
  // call only when it names the namespace.
  std::string ns{};
};

struct ChatRequest {
  Wire wire = Wire::kChat;
  std::string model;
  bool stream = false;
  // The latest user turn's text: the user messages after the last assistant or tool turn
  // before the newest user message, joined by newlines. Codex sends its environment context
  // as a separate user message next to the prompt, so one message is not enough.
  std::string user_text;
  // The newest message is a tool result: the model's tool call has been answered.
  bool tool_result_turn = false;
  // That tool result is an error: by the wire's own flag where it has one (Anthropic
  // tool_result is_error), else by its text (mcp_call.h LooksLikeToolError).
  bool tool_result_error = false;
  std::vector<OfferedTool> tools;
  // The names of the tool calls the assistant made after the latest user prompt, oldest
  // first, as the model named them (without a Responses namespace).
  std::vector<std::string> calls_since_prompt;
  // The id on the first "Task ID: <id>" line of the system, developer or user text; empty
  // when there is none.
  std::string task_id;
  std::size_t body_bytes = 0;

  const OfferedTool* FindTool(std::string_view name) const;
};

// Parses a request body of the given wire format. Malformed JSON or a wrong shape of the
// fields read here is kBadRequest naming the field; fields stub-llm ignores are not checked.
Result<ChatRequest> ParseChatRequest(Wire wire, std::string_view body);

}  // namespace swarm::stub_llm
