// The API's request-body parsers: bytes -> ParseJsonObject -> every body parser, and the
// X-Agent-ID check. Anything accepted must survive dump() (valid UTF-8, bounded depth).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/requests.h"
#include "core/field_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ValidateAgentId(text);
  auto body = ParseJsonObject(text);
  if (!body) return 0;
  (void)body->dump();
  if (auto r = ParseCreateTask(*body); r && r->task.output_schema)
    (void)r->task.output_schema->size();
  (void)ParseFinish(*body);
  (void)ParseRegisterAgent(*body, "agent-1");
  (void)ParseSessionLogs(*body);
  (void)ParseSessionCost(*body);
  (void)ParseSession(*body);
  (void)ParseProgress(*body);
  (void)ParseCancel(*body);
  return 0;
}
