// Dead-worker detection. A worker that holds in_progress tasks and has sent nothing for
// longer than the timeout (no request naming it, no open long-poll, no active-session
// heartbeat) is lost: the agent goes offline, each of its tasks with an active session is
// superseded (crash_recovery) with a "resume" child in the pool, within the resume-generation
// limit, and the others become failed ("worker lost"), so nothing waits forever on a vanished
// worker. Its active sessions are removed.
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

  // One pass. Returns the lost workers' tasks it took back: failed, or superseded (then
  // `resumed` gets their children, when given).
  Result<std::vector<Task>> Sweep(std::vector<Task>* resumed = nullptr);

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
