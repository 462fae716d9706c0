// stub-llm's model-request parser: the first byte picks the wire (Anthropic Messages, OpenAI
// Responses, Chat Completions), the rest is the body; also read as prompt markers and as a
// script file.
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
  (void)ParseChatRequest(kWires[data[0] % 3], body);
  (void)ParseMarkers(body);
  (void)ParseScript(body);
  return 0;
}
