#include "api/agent_service.h"

namespace swarm {

Result<UpsertedAgent> AgentService::Register(const AgentRegistration& registration) {
  heartbeats_.Beat(registration.id, clock_.Now());
  return store_.UpsertAgent(registration, Now());
}

Result<Agent> AgentService::Get(const std::string& id) { return store_.GetAgent(id); }

Result<std::vector<Agent>> AgentService::List() { return store_.ListAgents(); }

Result<Agent> AgentService::Ping(const std::string& id) {
  heartbeats_.Beat(id, clock_.Now());
  return store_.TouchAgent(id, Now());
}

Result<Agent> AgentService::Close(const std::string& id) {
  auto agent = store_.SetAgentStatus(id, AgentStatus::kOffline, Now());
  if (agent) heartbeats_.MarkOffline(id);
  return agent;
}

void AgentService::Heartbeat(const std::string& id) {
  if (heartbeats_.Beat(id, clock_.Now())) {
    // Best effort: an unknown agent or a busy database must not fail the request it rides on.
    (void)store_.TouchAgent(id, Now());
  }
}

}  // namespace swarm
