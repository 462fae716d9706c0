// The query decoder and the query parsers of the API.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/requests.h"
#include "http/query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto query = http::QueryParams::Parse(text);
  for (const char* name : {"status", "agentId", "source", "limit", "offset", "wait", "taskId"})
    (void)query.Get(name);
  (void)ParseTaskFilter(query);
  (void)ParseCostFilter(query);
  (void)ParsePollWait(query, 300);
  return 0;
}
