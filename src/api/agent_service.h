// Agents: registration, lookup, liveness. Thin over the store; heartbeats go to memory first.
#pragma once

#include <string>
#include <vector>

#include "api/heartbeats.h"
#include "core/agent.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace swarm {

class AgentService {
 public:
  AgentService(Store& store, const Clock& clock, Heartbeats& heartbeats)
      : store_(store), clock_(clock), heartbeats_(heartbeats) {}

  Result<UpsertedAgent> Register(const AgentRegistration& registration);
  Result<Agent> Get(const std::string& id);
  Result<std::vector<Agent>> List();
  // POST /ping: the agent is alive (an offline agent comes back). kNotFound if unknown.
  Result<Agent> Ping(const std::string& id);
  // POST /close: the agent leaves; it is offline until it calls again.
  Result<Agent> Close(const std::string& id);
  // Any authenticated call naming an agent. Unknown agents are ignored.
  void Heartbeat(const std::string& id);
  // PUT /api/agents/{id}/credential-status: the worker's credential report (Store::
  // SetAgentCredentials). kNotFound if unknown.
  Result<Agent> ReportCredentials(const CredentialReport& report);

 private:
  std::string Now() const { return FormatIsoTime(clock_.Now()); }

  Store& store_;
  const Clock& clock_;
  Heartbeats& heartbeats_;
};

}  // namespace swarm
