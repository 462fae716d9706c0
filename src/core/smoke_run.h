// A provider smoke run (the seed's ProviderSmokeRequest and ProviderSmokeResult, with our
// extras): what was asked, and per provider what happened. The request's secrets (the swarm
// key, provider credentials) live only in memory while the run goes; what is stored and shown
// is the SmokeRun, which names secrets but never holds their values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace swarm {

inline constexpr std::string_view kSmokeProviders[] = {"claude", "codex", "pi", "opencode"};
inline constexpr char kSmokeTaskText[] = "Reply with exactly: pong";
// The seed's outputSchema for the smoke task.
const nlohmann::json& SmokeOutputSchema();

struct SmokeRequest {
  std::vector<std::string> providers;         // each one of kSmokeProviders, no repeats
  std::string template_id;                    // the worker template
  std::string api_url;                        // where the workers report (their MCP_BASE_URL)
  std::string api_key;                        // secret: the swarm key the workers present
  std::string deployment_sha;                 // agent ids are smoke-<provider>-<sha>-<run>
  int64_t timeout_ms = 300'000;               // per provider, from its task's creation
  int64_t sandbox_timeout_sec = 900;          // each sandbox's TTL
  std::optional<std::string> model_base_url;  // a model endpoint for every CLI (stub-llm)
  // Per provider, extra sandbox env (credentials). Secret: names are stored, values are not.
  std::map<std::string, std::map<std::string, std::string>> secrets;
  bool allow_version_skew = false;  // a worker version other than the API's is still ok
};

enum class SmokeRunStatus { kRunning, kPassed, kFailed, kInterrupted };
const char* SmokeRunStatusName(SmokeRunStatus status);
std::optional<SmokeRunStatus> ParseSmokeRunStatus(std::string_view name);

// Where a provider's check is; the CLI shows it live.
enum class SmokePhase {
  kQueued,
  kCreatingSandbox,
  kStartingWorker,  // sandbox up, entrypoint started, waiting for registration
  kRegistered,
  kTaskRunning,  // task created, followed until terminal
  kCleaningUp,   // killing the sandbox
  kDone,
};
const char* SmokePhaseName(SmokePhase phase);
std::optional<SmokePhase> ParseSmokePhase(std::string_view name);

// Milliseconds from the provider's start (the run's start) to each step; unset when not reached.
struct SmokeTimings {
  std::optional<int64_t> sandbox_created_ms;
  std::optional<int64_t> worker_registered_ms;
  std::optional<int64_t> task_done_ms;
  std::optional<int64_t> total_ms;  // including the kill
  // Not a point in time: how long the harness CLI itself ran (the worker's measure, from the
  // task's session costs). What is left of total_ms beyond the worker's start and this is the
  // runner's and the worker's own overhead.
  std::optional<int64_t> cli_ms;
};

struct ProviderSmokeResult {
  std::string provider;
  bool ok = false;
  SmokePhase phase = SmokePhase::kQueued;
  std::string sandbox_id;  // empty until created
  std::string agent_id;
  std::optional<std::string> task_id;
  std::optional<std::string> task_status;  // the task's status as last seen
  std::optional<std::string> failure_reason;
  std::optional<std::string> session_id;
  std::optional<std::string> output;
  std::optional<double> cost_usd;
  int64_t log_lines = 0;
  // What made the task terminal, from its status-change log: "mcp" (the agent called
  // store-progress), "finish" (the worker's safety net), "cancel".
  std::optional<std::string> finished_via;
  std::optional<std::string> cli_version;
  std::optional<std::string> worker_version;
  SmokeTimings timings;
  bool sandbox_killed = false;
};

struct SmokeRun {
  std::string id;
  SmokeRunStatus status = SmokeRunStatus::kRunning;
  bool ok = false;  // every provider ok (false while running)
  // The request as stored: api_key empty, secrets' values replaced by "[REDACTED]".
  SmokeRequest request;
  std::string api_version;                   // the version of the API that ran it
  std::string owner;                         // the API process (runtime instance) that runs it
  std::vector<ProviderSmokeResult> results;  // in the request's provider order
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> finished_at;
};

// The request with its secret values gone: what may be stored or echoed.
SmokeRequest RedactedSmokeRequest(const SmokeRequest& request);

// JSON, camelCase as the API shows it. The request's JSON never carries apiKey nor a secret
// value, whatever the struct holds (it is RedactedSmokeRequest'ed first).
nlohmann::json SmokeRequestToJson(const SmokeRequest& request);
nlohmann::json ProviderSmokeResultToJson(const ProviderSmokeResult& result);
nlohmann::json SmokeRunToJson(const SmokeRun& run);
// The inverse, for the store and the CLI that follows a run; tolerant of missing fields,
// std::nullopt when the document is not a run at all.
std::optional<ProviderSmokeResult> ProviderSmokeResultFromJson(const nlohmann::json& json);
std::optional<SmokeRun> SmokeRunFromJson(const nlohmann::json& json);

}  // namespace swarm
