// Starting a swarm worker in a sandbox, the seed's `e2b start-worker` flow: the runtime env
// and metadata are worked out first (a plan, which --dry-run prints), then the sandbox is
// created, /docker-entrypoint.sh started in it in the background, and the worker's
// registration awaited. Shared by `agent-swarm e2b start-worker` and the smoke runner.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "http/client.h"
#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

inline constexpr char kLauncher[] = "agent-swarm-e2b";
inline constexpr char kDefaultWorkerTemplate[] = "agent-swarm-worker";
inline constexpr char kWorkerEntrypoint[] = "/docker-entrypoint.sh";
inline constexpr char kWorkerLogPath[] = "/tmp/agent-swarm-e2b-worker.log";
inline constexpr char kWorkerCommandTag[] = "agent-swarm-worker";

// The launcher's variables a sandbox gets without being asked (the seed's
// DEFAULT_E2B_FORWARD_KEYS): the swarm key, provider credentials and integration tokens.
const std::vector<std::string_view>& DefaultForwardKeys();

// Where a worker's environment comes from, lowest precedence first.
struct RuntimeEnvSources {
  StringMap process_env;                 // the launcher's own environment
  std::vector<std::string> inherit_env;  // --inherit-env: more keys to forward from it
  std::vector<StringMap> env_files;      // --env-file, in the order given
  std::vector<std::pair<std::string, std::string>> secrets;  // --secret K=V, in order
  std::string api_key;  // the swarm key, forced under both of its names
};

struct WorkerLaunchOptions {
  std::string template_id = kDefaultWorkerTemplate;
  std::string api_url;   // the swarm API the worker reports to (MCP_BASE_URL)
  std::string agent_id;  // --agent-id; empty: AGENT_ID from the env, else e2b-<sandboxID>
  std::string agent_role = "worker";  // worker | lead
  std::string provider;  // --provider; empty: HARNESS_PROVIDER from the env, else claude
  bool worker_yolo = false;
  std::string log_dir = "/logs";  // WORKER_LOG_DIR and LEAD_LOG_DIR
  StringMap metadata;             // --metadata; the reserved keys are set over it
  std::chrono::seconds timeout{3600};
  std::chrono::milliseconds wait{90'000};
  bool wait_for_registration = true;
  std::optional<int> cpu_count;
  std::optional<int> memory_mb;
};

// The sandbox's environment, as §5.4 of the seed's rules layer it: forwarded keys <
// env files < secrets < the swarm key (AGENT_SWARM_API_KEY and API_KEY) < the role's forced
// keys (MCP_BASE_URL, AGENT_ROLE, WORKER_YOLO, WORKER_LOG_DIR, LEAD_LOG_DIR) and
// HARNESS_PROVIDER (flag > env > claude). E2B_API_KEY and E2B_ACCESS_TOKEN are removed.
// AGENT_ID is set when known before the sandbox exists (see ResolveAgentId).
Result<StringMap> BuildRuntimeEnv(const RuntimeEnvSources& sources,
                                  const WorkerLaunchOptions& options);

// An AGENT_ID already in `env` wins, else `flag`, else "e2b-<sandbox_id>"; empty when that
// last one is needed and the sandbox id is not known yet.
std::string ResolveAgentId(const StringMap& env, std::string_view flag,
                           std::string_view sandbox_id);

// The user's metadata with the reserved keys over it: app=agent-swarm, role=worker,
// launcher=agent-swarm-e2b and, when known, agentId.
StringMap WorkerMetadata(const StringMap& user, std::string_view agent_id);

// `bash -lc 'set -o pipefail; /docker-entrypoint.sh 2>&1 | tee /tmp/agent-swarm-e2b-worker.log'`
std::string WorkerCommandLine();

// Everything decided before a sandbox exists.
struct WorkerLaunchPlan {
  SandboxSpec sandbox;
  CommandSpec command;   // envs: the runtime env; AGENT_ID filled in once the id is known
  std::string agent_id;  // empty: e2b-<sandboxID>, known after create
  std::string api_url;   // normalized: no trailing slash
  std::string api_key;
  std::chrono::milliseconds wait{90'000};
  bool wait_for_registration = true;
};

Result<WorkerLaunchPlan> PlanWorkerLaunch(const RuntimeEnvSources& sources,
                                          const WorkerLaunchOptions& options);

// One look at whether the worker has registered: OK once GET {api_url}/api/agents/{id} with
// the bearer key answers 2xx; otherwise an error saying what came back.
using RegistrationProbe = std::function<Result<void>(
    std::string_view api_url, std::string_view agent_id, std::string_view api_key)>;

RegistrationProbe HttpRegistrationProbe(http::HttpClient& http);

struct WorkerLaunchDeps {
  SandboxProvider* provider = nullptr;
  RegistrationProbe probe;
  std::function<void(std::chrono::milliseconds)> sleep;        // default: this_thread
  std::function<std::chrono::steady_clock::time_point()> now;  // default: steady_clock
  std::chrono::milliseconds startup_grace{2000};  // an entrypoint dead by then failed to start
  std::chrono::milliseconds startup_poll_interval{200};  // during the grace
  std::chrono::milliseconds poll_interval{1000};         // after it
  StringMap controller_env;  // the launcher's env: its secrets are scrubbed from log tails
  // Told the sandbox as soon as it exists, before the entrypoint starts: a caller that must
  // see it killed whatever happens next (the smoke runner) takes its id here.
  std::function<void(const SandboxInfo&)> on_created;
  // When set and true, the wait ends at its next look (a `sleep` that returns early on it
  // makes that prompt): the sandbox is killed and the error says the launch was stopped.
  const std::atomic<bool>* stop = nullptr;
};

struct WorkerLaunchResult {
  SandboxInfo sandbox;
  std::string agent_id;
  int pid = 0;
  bool registered = false;
};

// Creates the sandbox, starts the entrypoint, fails if it exits within the startup grace
// (with the redacted tail of its log), waits for registration up to plan.wait (counted from
// the start). Without the wait it returns once the entrypoint has outlived the grace. Any
// failure after the sandbox exists, and a stop, kills it before returning the error.
Result<WorkerLaunchResult> LaunchWorker(const WorkerLaunchPlan& plan, WorkerLaunchDeps deps);

}  // namespace swarm::sandbox
