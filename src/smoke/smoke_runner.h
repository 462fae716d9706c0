// The provider smoke runner, one for the API (POST /api/smoke-runs) and the CLI: for every
// provider of a request, in parallel, the seed's flow: credential preflight → sandbox from the
// worker template with the runtime env and metadata tags → /docker-entrypoint.sh in the
// background → wait for /api/agents/{id} → the pong task with the seed's outputSchema →
// follow it until terminal or timeoutMs (then cancel it) → check session id, output, logs,
// cost where the provider reports it, and the worker's version against the API's → kill the
// sandbox, on every path.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/smoke_run.h"
#include "http/client.h"
#include "sandbox/sandbox_provider.h"

namespace swarm::smoke {

// Metadata keys every smoke sandbox carries besides the launcher's reserved ones
// (app, role, launcher=agent-swarm-e2b, agentId): the sweep finds a run's sandboxes by them.
inline constexpr char kRunIdMetadataKey[] = "smokeRunId";
inline constexpr char kProviderMetadataKey[] = "smokeProvider";

// What the runner's host provides.
struct SmokeEnvironment {
  std::string api_version;  // the API's BuildVersion(); each worker's must equal it
  // Provider credentials available to every run (the API's environment and its
  // --smoke-secrets file; the CLI's environment). Secret.
  sandbox::StringMap credentials;
  // Non-secret env every sandbox gets under the seed's runtime env (a local sandboxd runs
  // over this machine's root: AGENT_SWARM_BIN, HARNESS_BIN_DIR, PATH).
  sandbox::StringMap worker_env;
};

struct SmokeRunnerOptions {
  std::chrono::milliseconds registration_wait{90'000};
  std::chrono::milliseconds poll_interval{200};    // following the task: cheap GETs
  std::chrono::milliseconds startup_grace{2'000};  // see sandbox::WorkerLaunchDeps
  // How long a completed task's worker may take to report its session id, log lines and cost
  // (an agent that finished through MCP makes the task terminal while its CLI still runs).
  std::chrono::milliseconds reports_settle{20'000};
};

// Called from the providers' threads, one call at a time, with the provider's result so far
// after each step (phase changes, ids learned, the final result).
using SmokeProgress = std::function<void(const ProviderSmokeResult&)>;

class SmokeRunner {
 public:
  // `sandboxes` and `http` must be safe to use from several threads at once.
  SmokeRunner(sandbox::SandboxProvider& sandboxes, http::HttpClient& http, SmokeEnvironment env,
              SmokeRunnerOptions options = {});

  // Runs every provider of `request` (validated already) in parallel and returns when each is
  // done and its sandbox killed; results in the request's provider order. Once `stop` is set
  // each provider stops where it is, cancels its task, kills its sandbox and reports "stopped".
  std::vector<ProviderSmokeResult> Run(const SmokeRequest& request, const std::string& run_id,
                                       const SmokeProgress& on_progress,
                                       const std::atomic<bool>& stop);

 private:
  sandbox::SandboxProvider& sandboxes_;
  http::HttpClient& http_;
  SmokeEnvironment env_;
  SmokeRunnerOptions options_;
};

}  // namespace swarm::smoke
