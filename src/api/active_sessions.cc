#include "api/active_sessions.h"

#include <chrono>

#include "core/ids.h"

namespace swarm {

Result<ActiveSession> ActiveSessionService::Open(ActiveSession session) {
  // Sessions of made-up agents would only grow the table.
  if (auto agent = store_.GetAgent(session.agent_id); !agent) return tl::unexpected(agent.error());
  session.id = NewUuid();
  session.started_at = Now();
  session.last_heartbeat_at = session.started_at;
  auto opened = store_.CreateActiveSession(session, kMaxActiveSessionsPerAgent);
  if (opened) agents_.Heartbeat(opened->agent_id);
  return opened;
}

Result<bool> ActiveSessionService::Heartbeat(const std::string& task_id) {
  auto agents = store_.HeartbeatActiveSession(task_id, Now());
  if (!agents) return tl::unexpected(agents.error());
  // Upstream's worker renews its sessions while a quiet CLI works: that is a sign of life even
  // when nothing else it sends names the agent.
  for (const std::string& agent : *agents) agents_.Heartbeat(agent);
  return !agents->empty();
}

Result<bool> ActiveSessionService::EndByTask(const std::string& task_id) {
  auto deleted = store_.DeleteActiveSessionsByTask(task_id);
  if (!deleted) return tl::unexpected(deleted.error());
  return *deleted > 0;
}

Result<int> ActiveSessionService::Cleanup(const std::string& agent_id) {
  return store_.DeleteAgentActiveSessions(agent_id);
}

Result<std::vector<ActiveSession>> ActiveSessionService::List(
    const std::optional<std::string>& agent_id) {
  return store_.ListActiveSessions(agent_id, kMaxActiveSessionsListed);
}

Result<std::vector<Task>> ActiveSessionService::RecoverOrphans(
    const OrphanRecoveryRequest& request) {
  const std::string cutoff =
      FormatIsoTime(clock_.Now() - std::chrono::seconds(request.min_age_seconds));
  auto recovered = store_.RecoverOrphanedTasks(request.agent_id, cutoff, Now());
  if (recovered && !recovered->empty()) hub_.NotifyAgent(request.agent_id);
  return recovered;
}

}  // namespace swarm
