// One model turn, decided and ready for a wire encoder: the text or the tool call, ids, and a
// token usage estimated from sizes, so the CLIs report plausible non-zero tokens and cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stub_llm/chat_request.h"
#include "stub_llm/script.h"

namespace swarm::stub_llm {

// About four bytes per token, as for English text and JSON; at least 1.
int64_t EstimateTokens(std::size_t bytes);

// `prefix` followed by 32 random-looking hex digits: "msg_…", "toolu_…", "call_…".
std::string NewId(std::string_view prefix);

struct ToolCall {
  std::string name;
  std::string arguments;  // JSON text, or the raw input of a freeform tool
  bool freeform = false;
  std::string ns{};  // the Responses namespace of the tool (codex's MCP tools), else empty
};

struct ModelReply {
  std::string model;                  // echoed from the request ("stub-model" if none)
  std::string text;                   // the reply, when there is no tool call
  std::optional<ToolCall> tool_call;  // the call the CLI should run
  int64_t input_tokens = 1;
  int64_t output_tokens = 1;
};

// The reply for a kReply or kToolCall decision.
ModelReply MakeReply(const ChatRequest& request, const Decision& decision);

}  // namespace swarm::stub_llm
