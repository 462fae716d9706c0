// An agent: a registered worker (or lead) that takes tasks, with its capacity.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swarm {

// kWaitingForCredentials: the worker said its harness lacks a credential; it takes no task
// until it reports ready again (PUT /api/agents/{id}/credential-status).
enum class AgentStatus { kIdle, kBusy, kOffline, kWaitingForCredentials };

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
  // The worker's last credential report (upstream's credentialMissing and credStatus): the
  // variables it is blocked on, and its snapshot as JSON text. latest_model (JSON text) is
  // shown as credStatus.latestModel.
  std::optional<std::vector<std::string>> credential_missing;
  std::optional<std::string> cred_status;
  std::optional<std::string> latest_model;
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

// PUT /api/agents/{id}/credential-status. Absent fields leave the stored value alone.
struct CredentialReport {
  std::string agent_id;
  std::optional<bool> ready;  // false: waiting_for_credentials; true: idle (busy with tasks)
  std::optional<std::vector<std::string>> missing;
  bool cred_status_given = false;           // a null cred_status clears it
  std::optional<std::string> cred_status;   // JSON text (an object)
  std::optional<std::string> latest_model;  // JSON text (an object)
};

}  // namespace swarm
