// The client commands render whatever the API they talk to answers (ours, upstream's, a proxy
// in between): whatever the document, rendering ends without an exception or undefined
// behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/views.h"
#include "core/bounded_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto reply = ParseBoundedJson(text);  // as the client parses replies
  if (!reply) return 0;
  (void)RenderTaskList(*reply);
  (void)RenderTask(*reply);
  (void)RenderAgentList(*reply);
  (void)RenderAgent(*reply);
  return 0;
}
