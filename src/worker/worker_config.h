// The worker's configuration, read from the environment only (the seed's sandboxes pass
// everything as env; no secret ever goes through argv). Every rule is checked up front so a
// misconfigured worker exits at once with a message naming each bad variable, instead of
// registering and failing tasks later.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "harness/adapter.h"
#include "worker/env_values.h"

namespace swarm::worker {

// How the CLI authenticates to the swarm's MCP server (MCP_AUTH).
enum class McpAuth {
  // task when the API's GET /health says it accepts task tokens ("mcp":{"taskTokens":true}),
  // else off: the CLI is never handed the swarm key unless asked (an API that is not ours,
  // such as upstream's, then finishes tasks through the worker's /finish alone).
  kAuto,
  kTask,  // a token bound to this agent and the task (core/mcp_token.h): the CLI never holds
          // the swarm key
  kKey,   // the swarm key itself, for an API that does not know task tokens (upstream's)
  kOff,   // no MCP: the CLI is not configured with the server
};

const char* McpAuthName(McpAuth auth);

struct WorkerConfig {
  // The API.
  std::string api_url;  // MCP_BASE_URL, no trailing slash
  std::string api_key;  // AGENT_SWARM_API_KEY, else API_KEY (a secret)
  std::string agent_id;
  std::string agent_name;       // AGENT_NAME, else "<role>-<first 8 of agent id>"
  std::string role = "worker";  // worker | lead
  bool is_lead = false;
  std::vector<std::string> capabilities;  // CAPABILITIES, comma separated
  int max_tasks = 1;                      // MAX_CONCURRENT_TASKS
  // The swarm's MCP server, at api_url + "/mcp", given to every CLI (MCP_AUTH, default task).
  McpAuth mcp_auth = McpAuth::kAuto;

  // The harness.
  harness::Provider provider = harness::Provider::kClaude;
  std::string provider_name = "claude";
  harness::ModelEndpoint endpoint;  // base URL, key (a secret), MODEL_OVERRIDE
  // Start of every child's environment (PATH with HARNESS_BIN_DIR first, locale, proxies);
  // HOME is set per task.
  std::map<std::string, std::string> base_env;
  // The first line of the CLI's `--version` (cli_version.h), probed once by the worker command
  // at startup and sent at registration; not read from the environment. Unset when unknown.
  std::optional<std::string> cli_version;

  // Accepted for compatibility with the seed's environment. This worker always runs the CLI
  // unattended and has no Slack or GitHub integration, so they change nothing but the log.
  bool yolo = false;
  bool slack_disable = false;
  bool github_disable = false;

  // Worker knobs.
  std::chrono::milliseconds api_ready_timeout{90'000};     // WORKER_API_READY_TIMEOUT_SECONDS
  std::chrono::milliseconds task_timeout{600'000};         // WORKER_TASK_TIMEOUT_SECONDS
  std::chrono::milliseconds shutdown_timeout{30'000};      // SHUTDOWN_TIMEOUT (ms)
  std::chrono::milliseconds poll_wait{10'000};             // WORKER_POLL_WAIT_SECONDS
  std::chrono::milliseconds heartbeat_interval{5'000};     // WORKER_HEARTBEAT_SECONDS
  std::chrono::milliseconds cancel_check_interval{1'000};  // WORKER_CANCEL_CHECK_SECONDS
  std::chrono::milliseconds log_flush_interval{1'000};     // WORKER_LOG_FLUSH_SECONDS
  std::filesystem::path work_root;  // WORKER_WORK_DIR: per-task dirs live under it
  bool keep_task_dirs = false;      // WORKER_KEEP_TASK_DIRS: keep each task's work dir (debugging)
  // When running as root, the unprivileged user the CLI runs as (WORKER_CLI_USER, default
  // agent-swarm-cli, else nobody); see harness/process_hardening.h.
  std::optional<harness::RunAs> cli_user;

  // Parses and checks everything; the error lists every bad or missing variable, one per
  // clause ("MCP_BASE_URL is required; MAX_CONCURRENT_TASKS must be ..."). Secrets found are
  // registered with core/redact.h so no log line can show them.
  static Result<WorkerConfig> FromEnv(const EnvMap& env);
};

// What MCP_AUTH=auto turns into against the API whose GET /health answered `health`; any
// other setting stays as it is.
McpAuth ResolveMcpAuth(McpAuth configured, const nlohmann::json& health);

// The swarm's MCP server for one task's CLI: api_url + "/mcp", with the bearer `auth` chooses
// (a token minted for this agent and task, or the swarm key); nullopt when off (or still
// auto: unresolved means no MCP).
std::optional<harness::McpAccess> McpAccessFor(const WorkerConfig& config, McpAuth auth,
                                               const std::string& task_id);

}  // namespace swarm::worker
