#include "core/agent.h"

namespace swarm {

const char* AgentStatusName(AgentStatus status) {
  switch (status) {
    case AgentStatus::kIdle:
      return "idle";
    case AgentStatus::kBusy:
      return "busy";
    case AgentStatus::kOffline:
      return "offline";
    case AgentStatus::kWaitingForCredentials:
      return "waiting_for_credentials";
  }
  return "idle";
}

std::optional<AgentStatus> ParseAgentStatus(std::string_view name) {
  if (name == "idle") return AgentStatus::kIdle;
  if (name == "busy") return AgentStatus::kBusy;
  if (name == "offline") return AgentStatus::kOffline;
  if (name == "waiting_for_credentials") return AgentStatus::kWaitingForCredentials;
  return std::nullopt;
}

}  // namespace swarm
