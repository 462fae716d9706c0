// Active sessions (upstream's active_sessions): the harness sessions a worker says it runs.
// Their heartbeats count as the agent's liveness for the dead-worker sweep, which resumes a
// lost worker's tasks that have one instead of failing them (WorkerMonitor). Upstream's worker
// also asks here for its orphaned in_progress tasks back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/agent_service.h"
#include "api/compat_requests.h"
#include "api/poll_hub.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/records.h"
#include "store/store.h"

namespace swarm {

// Per agent: above any maxTasks (1..100), so only a worker that never ends its sessions hits it.
inline constexpr int kMaxActiveSessionsPerAgent = 256;
inline constexpr int kMaxActiveSessionsListed = 1000;

class ActiveSessionService {
 public:
  ActiveSessionService(Store& store, const Clock& clock, AgentService& agents, PollHub& hub)
      : store_(store), clock_(clock), agents_(agents), hub_(hub) {}

  // The agent must be registered (kNotFound), and below kMaxActiveSessionsPerAgent (kConflict).
  Result<ActiveSession> Open(ActiveSession session);
  // Renews the task's sessions and counts as their agents' heartbeat. False: no such session.
  Result<bool> Heartbeat(const std::string& task_id);
  Result<bool> EndByTask(const std::string& task_id);
  Result<int> Cleanup(const std::string& agent_id);
  Result<std::vector<ActiveSession>> List(const std::optional<std::string>& agent_id);
  // The agent's in_progress tasks with no session of any kind, quiet for min_age_seconds, go
  // back to pending for it (Store::RecoverOrphanedTasks), and its poll is woken.
  Result<std::vector<Task>> RecoverOrphans(const OrphanRecoveryRequest& request);

 private:
  std::string Now() const { return FormatIsoTime(clock_.Now()); }

  Store& store_;
  const Clock& clock_;
  AgentService& agents_;
  PollHub& hub_;
};

}  // namespace swarm
