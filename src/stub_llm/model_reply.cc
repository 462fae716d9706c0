#include "stub_llm/model_reply.h"

#include <algorithm>

#include "core/ids.h"
#include "stub_llm/sse.h"

namespace swarm::stub_llm {

int64_t EstimateTokens(std::size_t bytes) {
  return std::max<int64_t>(1, static_cast<int64_t>((bytes + 3) / 4));
}

std::string NewId(std::string_view prefix) {
  std::string id(prefix);
  for (char c : NewUuid()) {
    if (c != '-') id += c;
  }
  return id;
}

ModelReply MakeReply(const ChatRequest& request, const Decision& decision) {
  ModelReply reply;
  reply.model = request.model.empty() ? "stub-model" : request.model;
  reply.input_tokens = EstimateTokens(request.body_bytes);
  if (decision.action == Action::kToolCall) {
    ToolCall call;
    call.name = decision.tool.name;
    call.freeform = decision.freeform;
    call.ns = decision.tool_namespace;
    call.arguments = decision.tool.arguments.is_string()
                         ? decision.tool.arguments.get<std::string>()
                         : Dump(decision.tool.arguments);
    reply.output_tokens = EstimateTokens(call.name.size() + call.arguments.size());
    reply.tool_call = std::move(call);
  } else {
    reply.text = decision.text;
    reply.output_tokens = EstimateTokens(reply.text.size());
  }
  return reply;
}

}  // namespace swarm::stub_llm
