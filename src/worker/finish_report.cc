#include "worker/finish_report.h"

#include <algorithm>

namespace swarm::worker {

using std::chrono::milliseconds;

namespace {

// One attempt may not hang past the deadline by more than this, nor last longer than
// kMaxAttempt: a server that accepts and never answers is retried too.
constexpr milliseconds kMinAttempt(1'000);
constexpr milliseconds kMaxAttempt(15'000);

}  // namespace

Steady::time_point FinishDeadline(Steady::time_point task_started, milliseconds task_timeout,
                                  std::optional<Steady::time_point> stop_deadline,
                                  Steady::time_point now) {
  Steady::time_point deadline = std::max(task_started + task_timeout, now + kFinishMinWindow);
  if (stop_deadline) {
    deadline = std::min(deadline, std::max(*stop_deadline, now + kFinishMinWindowStopping));
  }
  return deadline;
}

Result<ApiReply> SendFinish(WorkerContext& context, const std::string& task_id,
                            const nlohmann::json& body, Steady::time_point task_started) {
  const std::string path = "/api/tasks/" + UrlEncode(task_id) + "/finish";
  const milliseconds task_timeout = context.config.task_timeout;
  // Fixed when the report starts (the floor must not move with it); a Stop since then brings
  // it closer.
  const Steady::time_point first =
      FinishDeadline(task_started, task_timeout, context.stop_deadline(), Steady::now());
  auto deadline = [&] {
    return std::min(
        first, FinishDeadline(task_started, task_timeout, context.stop_deadline(), Steady::now()));
  };
  return CallUntil(
      [&] {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline() - Steady::now());
        return context.client.Call("POST", path, body, std::clamp(left, kMinAttempt, kMaxAttempt));
      },
      Backoff(kFinishBackoffFloor, kFinishBackoffCeiling), deadline, "task finish");
}

}  // namespace swarm::worker
