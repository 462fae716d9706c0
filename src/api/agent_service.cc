#include "api/agent_service.h"

#include "core/log.h"

namespace swarm {

Result<UpsertedAgent> AgentService::Register(const AgentRegistration& registration) {
  auto upserted = store_.UpsertAgent(registration, Now());
  if (!upserted) return upserted;
  heartbeats_.Known(registration.id, clock_.Monotonic());
  for (const Task& task : upserted->restarted_tasks) {
    log::Warn("worker restarted", {{"taskId", task.id},
                                   {"agentId", registration.id},
                                   {"reason", task.failure_reason.value_or("")}});
  }
  for (const SupersedeResult& resumed : upserted->resumed_tasks) {
    if (!resumed.resume) continue;
    log::Warn("worker restarted: task resumed",
              {{"taskId", resumed.task.id},
               {"agentId", registration.id},
               {"resumeTaskId", resumed.resume->id},
               {"resumeAgentId", resumed.resume->agent_id.value_or("")}});
    if (!hub_) continue;
    if (resumed.resume->agent_id) {
      hub_->NotifyAgent(*resumed.resume->agent_id);
    } else {
      hub_->NotifyPool();  // no free slot for it here: it waits in the pool
    }
  }
  return upserted;
}

Result<Agent> AgentService::Get(const std::string& id) { return store_.GetAgent(id); }

Result<std::vector<Agent>> AgentService::List() { return store_.ListAgents(); }

Result<Agent> AgentService::Ping(const std::string& id) {
  auto agent = store_.TouchAgent(id, Now());
  if (agent) heartbeats_.Known(id, clock_.Monotonic());
  return agent;
}

Result<Agent> AgentService::Close(const std::string& id) {
  auto agent = store_.SetAgentStatus(id, AgentStatus::kOffline, Now());
  if (agent) heartbeats_.MarkOffline(id);
  return agent;
}

void AgentService::Heartbeat(const std::string& id) {
  // Best effort throughout: an unknown agent or a busy database must not fail the request
  // the heartbeat rides on.
  switch (heartbeats_.Beat(id, clock_.Monotonic())) {
    case Heartbeats::BeatResult::kRecorded:
      return;
    case Heartbeats::BeatResult::kPersist:
      (void)store_.TouchAgent(id, Now());
      return;
    case Heartbeats::BeatResult::kUnknown:
      // Registered before this server started (or never): a read decides, so made-up ids
      // cost no write and leave no entry.
      if (store_.GetAgent(id) && store_.TouchAgent(id, Now())) {
        heartbeats_.Known(id, clock_.Monotonic());
      }
      return;
  }
}

Result<Agent> AgentService::ReportCredentials(const CredentialReport& report) {
  auto agent = store_.SetAgentCredentials(report, Now());
  if (agent) heartbeats_.Known(report.agent_id, clock_.Monotonic());
  return agent;
}

}  // namespace swarm
