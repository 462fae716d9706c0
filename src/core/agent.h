// An agent: a registered worker (or lead) that takes tasks, with its capacity.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swarm {

enum class AgentStatus { kIdle, kBusy, kOffline };

const char* AgentStatusName(AgentStatus status);
std::optional<AgentStatus> ParseAgentStatus(std::string_view name);

struct Agent {
  std::string id;
  std::string name;
  bool is_lead = false;
  AgentStatus status = AgentStatus::kIdle;
  std::optional<std::string> description;
  std::optional<std::string> role;
  std::vector<std::string> capabilities;
  int max_tasks = 1;
  std::optional<std::string> provider;
  std::optional<std::string> harness_provider;
  std::optional<std::string> last_activity_at;
  // The worker process that registered last (upstream's runtimeInstanceId), if it said.
  std::optional<std::string> runtime_instance_id;
  // What the worker reported at its last registration: its build version (BuildVersion) and
  // its harness CLI's `--version`. The smoke runner checks the first against the API's.
  std::optional<std::string> version;
  std::optional<std::string> cli_version;
  std::string created_at;
  std::string last_updated_at;
  int active_tasks = 0;  // in_progress tasks held now; derived by the store on every read
};

// What a worker sends to register. Optional fields left empty keep the stored value on a
// re-registration (max_tasks, provider) or take the default on a first one.
struct AgentRegistration {
  std::string id;
  std::string name;
  bool is_lead = false;
  std::optional<std::string> description;
  std::optional<std::string> role;
  std::vector<std::string> capabilities;
  std::optional<int> max_tasks;
  std::optional<std::string> provider;
  std::optional<std::string> harness_provider;
  // A fresh id per worker process. A different one than the stored one means the worker
  // restarted: the previous process's in_progress tasks are failed ("worker restarted").
  std::optional<std::string> runtime_instance_id;
  std::optional<std::string> version;      // "version" in the body; kept when not given
  std::optional<std::string> cli_version;  // "cliVersion"; kept when not given
};

}  // namespace swarm
