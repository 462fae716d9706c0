// Agents: registration, lookup, liveness. Thin over the store; heartbeats go to memory first.
#pragma once

#include <string>
#include <vector>

#include "api/heartbeats.h"
#include "api/poll_hub.h"
#include "core/agent.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace swarm {

class AgentService {
 public:
  // `hub`, when given, is told of the resume children a restarted worker's registration makes,
  // so the polls that can claim them wake at once.
  AgentService(Store& store, const Clock& clock, Heartbeats& heartbeats, PollHub* hub = nullptr)
      : store_(store), clock_(clock), heartbeats_(heartbeats), hub_(hub) {}

  // A new runtimeInstanceId is a restarted worker: its previous process's tasks that had an
  // active session are resumed (for this agent), the others failed (Store::UpsertAgent).
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
  PollHub* hub_;
};

}  // namespace swarm
