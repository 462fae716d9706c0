// Dead-worker detection. A worker that holds in_progress tasks and has sent nothing for
// longer than the timeout (no request naming it, no open long-poll) is lost: its tasks become
// failed ("worker lost") and the agent offline, so nothing waits forever on a vanished worker.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/heartbeats.h"
#include "api/poll_hub.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace swarm {

class WorkerMonitor {
 public:
  // Agents never heard from since `started_at` (the server's start) count from then, so a
  // restart does not declare every worker dead at once.
  WorkerMonitor(Store& store, const Clock& clock, Heartbeats& heartbeats, PollHub& hub,
                std::chrono::milliseconds timeout);

  // One pass. Returns the tasks failed by it.
  Result<std::vector<Task>> Sweep();

  // How often Sweep should run to notice a loss within about a quarter of the timeout.
  std::chrono::milliseconds sweep_interval() const;

 private:
  Store& store_;
  const Clock& clock_;
  Heartbeats& heartbeats_;
  PollHub& hub_;
  std::chrono::milliseconds timeout_;
  MonotonicTime started_at_;
};

}  // namespace swarm
