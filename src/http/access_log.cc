#include "http/access_log.h"

#include <chrono>
#include <cstdint>

#include "core/clock.h"
#include "core/json_writer.h"
#include "core/log.h"

namespace swarm::http {

void WriteAccessLog(const AccessRecord& r) {
  JsonWriter w;
  w.BeginObject()
      .Field("ts", FormatIsoTime(std::chrono::system_clock::now()))
      .Field("level", "info")
      .Field("msg", "access")
      .Field("method", r.method)
      .Field("path", r.path)
      .Field("status", int64_t{r.status})
      .Field("bytes", static_cast<int64_t>(r.response_bytes))
      .Field("us", r.duration_us)
      .Field("remote", r.remote);
  if (!r.agent_id.empty()) w.Field("agentId", r.agent_id);
  w.EndObject();
  log::Access(w.str());
}

}  // namespace swarm::http
