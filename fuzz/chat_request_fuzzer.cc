// stub-llm's model-request parser: the first byte picks the wire (Anthropic Messages, OpenAI
// Responses, Chat Completions), the rest is the body; also read as prompt markers and as a
// script file, and the parsed request goes through a script's decision (the MCP call, retry
// and placeholder logic reads the request's tool list and history).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stub_llm/chat_request.h"
#include "stub_llm/markers.h"
#include "stub_llm/script.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::stub_llm;
  if (size == 0) return 0;
  constexpr Wire kWires[] = {Wire::kAnthropic, Wire::kResponses, Wire::kChat};
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (auto request = ParseChatRequest(kWires[data[0] % 3], body)) {
    // The default script, so every request reaches the marker and MCP decision paths.
    static Script script("pong");
    (void)script.Decide(*request);
  }
  (void)ParseMarkers(body);
  (void)ParseScript(body);
  return 0;
}
