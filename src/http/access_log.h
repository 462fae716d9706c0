// The access log line every server of ours writes (the API, sandboxd): one JSON object per
// request, with no header values, query or body, so no secret reaches it.
#pragma once

#include "http/server.h"

namespace swarm::http {

// {"ts","level":"info","msg":"access","method","path","status","bytes","us","remote"[,"agentId"]}
void WriteAccessLog(const AccessRecord& record);

}  // namespace swarm::http
