// What the worker tells the API when it stops before a task ends, and at boot. Upstream's
// worker hands an interrupted task back with POST /api/tasks/{id}/supersede {reason:
// "graceful_shutdown"}: the task becomes superseded and a "resume" child waits for the same
// agent, which claims it when it comes back. An API that refuses (an older one: 404) gets the
// finish failed ("worker shutting down") as before.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "worker/retry.h"
#include "worker/worker_config.h"
#include "worker/worker_context.h"

namespace swarm::worker {

// Hands the task back (supersede, else finish failed). Returns true when superseded (or the
// API said the task had already finished), false when it fell back to the finish.
bool HandBackTask(WorkerContext& context, const std::string& task_id,
                  Steady::time_point task_started);

// PUT /api/agents/{id}/credential-status at boot: ready when the credential the provider's
// CLI uses is set; missing names the variables that would satisfy it otherwise. The snapshot
// (cred_status) names the variable that satisfied it, never its value.
nlohmann::json CredentialStatusBody(const WorkerConfig& config, int64_t reported_at_ms);

}  // namespace swarm::worker
