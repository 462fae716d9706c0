// The one retry policy for a task's finish report, whoever sends it (the task's thread, or the
// loop for a task it cannot run). The finish is the result itself, so it is not dropped after
// a short outage: it is retried with backoff until the task's own deadline (its start plus
// WORKER_TASK_TIMEOUT_SECONDS), or, once the worker is stopping, the end of the shutdown grace.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "worker/retry.h"
#include "worker/worker_context.h"

namespace swarm::worker {

// However late a finish comes (a task that ran to its timeout), it gets this long to arrive:
// an API restart takes a few seconds.
inline constexpr std::chrono::milliseconds kFinishMinWindow{30'000};
// The same once the worker is stopping: its process is about to end.
inline constexpr std::chrono::milliseconds kFinishMinWindowStopping{5'000};
// Between attempts: an outage is ridden out with a request every two seconds at most.
inline constexpr std::chrono::milliseconds kFinishBackoffFloor{250};
inline constexpr std::chrono::milliseconds kFinishBackoffCeiling{2'000};

// Until when a finish is retried, as of `now`.
Steady::time_point FinishDeadline(Steady::time_point task_started,
                                  std::chrono::milliseconds task_timeout,
                                  std::optional<Steady::time_point> stop_deadline,
                                  Steady::time_point now);

// POST /api/tasks/{id}/finish with `body`, retried on transient failures until
// FinishDeadline (asked again after each failure, so a Stop meanwhile shortens it).
Result<ApiReply> SendFinish(WorkerContext& context, const std::string& task_id,
                            const nlohmann::json& body, Steady::time_point task_started);

}  // namespace swarm::worker
