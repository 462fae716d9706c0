#include "core/smoke_run.h"

#include <cstdint>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;

constexpr const char* kRunStatusNames[] = {"running", "passed", "failed", "interrupted"};
constexpr const char* kPhaseNames[] = {"queued",     "creating_sandbox", "starting_worker",
                                       "registered", "task_running",     "cleaning_up",
                                       "done"};
constexpr char kRedacted[] = "[REDACTED]";

template <typename T>
void PutOptional(json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}

template <typename T>
std::optional<T> GetOptional(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::nullopt;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // get<int64_t>() on a float (1e300) is an undefined cast; on 2^64-1 it wraps.
    if (!it->is_number_integer()) return std::nullopt;
    if (it->is_number_unsigned() &&
        it->template get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return std::nullopt;
    }
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

template <typename T>
T Get(const json& in, const char* key, T fallback) {
  return GetOptional<T>(in, key).value_or(std::move(fallback));
}

SmokeRequest SmokeRequestFromJson(const json& in) {
  SmokeRequest r;
  if (!in.is_object()) return r;
  r.providers = Get<std::vector<std::string>>(in, "providers", {});
  r.template_id = Get<std::string>(in, "template", "");
  r.api_url = Get<std::string>(in, "apiUrl", "");
  r.deployment_sha = Get<std::string>(in, "deploymentSha", "");
  r.timeout_ms = Get<int64_t>(in, "timeoutMs", r.timeout_ms);
  r.sandbox_timeout_sec = Get<int64_t>(in, "sandboxTimeoutSec", r.sandbox_timeout_sec);
  r.model_base_url = GetOptional<std::string>(in, "modelBaseUrl");
  r.allow_version_skew = Get<bool>(in, "allowVersionSkew", false);
  if (auto it = in.find("secrets"); it != in.end() && it->is_object()) {
    for (const auto& [provider, vars] : it->items()) {
      if (!vars.is_array()) continue;
      for (const auto& name : vars) {
        if (name.is_string()) r.secrets[provider][name.get<std::string>()] = kRedacted;
      }
    }
  }
  return r;
}

}  // namespace

const json& SmokeOutputSchema() {
  static const json schema = json::parse(
      R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})");
  return schema;
}

const char* SmokeRunStatusName(SmokeRunStatus status) {
  return kRunStatusNames[static_cast<int>(status)];
}

std::optional<SmokeRunStatus> ParseSmokeRunStatus(std::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (name == kRunStatusNames[i]) return static_cast<SmokeRunStatus>(i);
  }
  return std::nullopt;
}

const char* SmokePhaseName(SmokePhase phase) { return kPhaseNames[static_cast<int>(phase)]; }

std::optional<SmokePhase> ParseSmokePhase(std::string_view name) {
  for (int i = 0; i < 7; ++i) {
    if (name == kPhaseNames[i]) return static_cast<SmokePhase>(i);
  }
  return std::nullopt;
}

SmokeRequest RedactedSmokeRequest(const SmokeRequest& request) {
  SmokeRequest out = request;
  out.api_key.clear();
  for (auto& [provider, vars] : out.secrets) {
    for (auto& [name, value] : vars) value = kRedacted;
  }
  return out;
}

json SmokeRequestToJson(const SmokeRequest& request) {
  json out = {{"providers", request.providers},
              {"template", request.template_id},
              {"apiUrl", request.api_url},
              {"deploymentSha", request.deployment_sha},
              {"timeoutMs", request.timeout_ms},
              {"sandboxTimeoutSec", request.sandbox_timeout_sec},
              {"allowVersionSkew", request.allow_version_skew}};
  PutOptional(out, "modelBaseUrl", request.model_base_url);
  // Secrets by name only: which variables each provider was given, never their values.
  json secrets = json::object();
  for (const auto& [provider, vars] : request.secrets) {
    json names = json::array();
    for (const auto& [name, value] : vars) names.push_back(name);
    secrets[provider] = std::move(names);
  }
  if (!secrets.empty()) out["secrets"] = std::move(secrets);
  return out;
}

json ProviderSmokeResultToJson(const ProviderSmokeResult& r) {
  json out = {{"provider", r.provider},
              {"ok", r.ok},
              {"phase", SmokePhaseName(r.phase)},
              {"sandboxId", r.sandbox_id},
              {"agentId", r.agent_id},
              {"logLines", r.log_lines},
              {"sandboxKilled", r.sandbox_killed}};
  PutOptional(out, "taskId", r.task_id);
  PutOptional(out, "taskStatus", r.task_status);
  PutOptional(out, "failureReason", r.failure_reason);
  PutOptional(out, "sessionId", r.session_id);
  PutOptional(out, "output", r.output);
  PutOptional(out, "costUsd", r.cost_usd);
  PutOptional(out, "finishedVia", r.finished_via);
  PutOptional(out, "cliVersion", r.cli_version);
  PutOptional(out, "workerVersion", r.worker_version);
  json timings = json::object();
  PutOptional(timings, "sandboxCreatedMs", r.timings.sandbox_created_ms);
  PutOptional(timings, "workerRegisteredMs", r.timings.worker_registered_ms);
  PutOptional(timings, "taskDoneMs", r.timings.task_done_ms);
  PutOptional(timings, "totalMs", r.timings.total_ms);
  PutOptional(timings, "cliMs", r.timings.cli_ms);
  out["timings"] = std::move(timings);
  return out;
}

json SmokeRunToJson(const SmokeRun& run) {
  json results = json::array();
  for (const auto& r : run.results) results.push_back(ProviderSmokeResultToJson(r));
  json out = {{"id", run.id},
              {"status", SmokeRunStatusName(run.status)},
              {"ok", run.ok},
              {"request", SmokeRequestToJson(run.request)},
              {"apiVersion", run.api_version},
              {"results", std::move(results)},
              {"createdAt", run.created_at},
              {"updatedAt", run.updated_at}};
  PutOptional(out, "finishedAt", run.finished_at);
  return out;
}

std::optional<ProviderSmokeResult> ProviderSmokeResultFromJson(const json& in) {
  if (!in.is_object() || !in.contains("provider")) return std::nullopt;
  ProviderSmokeResult r;
  r.provider = Get<std::string>(in, "provider", "");
  r.ok = Get<bool>(in, "ok", false);
  r.phase = ParseSmokePhase(Get<std::string>(in, "phase", "")).value_or(SmokePhase::kQueued);
  r.sandbox_id = Get<std::string>(in, "sandboxId", "");
  r.agent_id = Get<std::string>(in, "agentId", "");
  r.task_id = GetOptional<std::string>(in, "taskId");
  r.task_status = GetOptional<std::string>(in, "taskStatus");
  r.failure_reason = GetOptional<std::string>(in, "failureReason");
  r.session_id = GetOptional<std::string>(in, "sessionId");
  r.output = GetOptional<std::string>(in, "output");
  r.cost_usd = GetOptional<double>(in, "costUsd");
  r.log_lines = Get<int64_t>(in, "logLines", 0);
  r.finished_via = GetOptional<std::string>(in, "finishedVia");
  r.cli_version = GetOptional<std::string>(in, "cliVersion");
  r.worker_version = GetOptional<std::string>(in, "workerVersion");
  r.sandbox_killed = Get<bool>(in, "sandboxKilled", false);
  if (auto it = in.find("timings"); it != in.end() && it->is_object()) {
    r.timings.sandbox_created_ms = GetOptional<int64_t>(*it, "sandboxCreatedMs");
    r.timings.worker_registered_ms = GetOptional<int64_t>(*it, "workerRegisteredMs");
    r.timings.task_done_ms = GetOptional<int64_t>(*it, "taskDoneMs");
    r.timings.total_ms = GetOptional<int64_t>(*it, "totalMs");
    r.timings.cli_ms = GetOptional<int64_t>(*it, "cliMs");
  }
  return r;
}

std::optional<SmokeRun> SmokeRunFromJson(const json& in) {
  if (!in.is_object() || !in.contains("id") || !in.contains("status")) return std::nullopt;
  SmokeRun run;
  run.id = Get<std::string>(in, "id", "");
  auto status = ParseSmokeRunStatus(Get<std::string>(in, "status", ""));
  if (!status) return std::nullopt;
  run.status = *status;
  run.ok = Get<bool>(in, "ok", false);
  if (auto it = in.find("request"); it != in.end()) run.request = SmokeRequestFromJson(*it);
  run.api_version = Get<std::string>(in, "apiVersion", "");
  if (auto it = in.find("results"); it != in.end() && it->is_array()) {
    for (const auto& r : *it) {
      if (auto result = ProviderSmokeResultFromJson(r)) run.results.push_back(std::move(*result));
    }
  }
  run.created_at = Get<std::string>(in, "createdAt", "");
  run.updated_at = Get<std::string>(in, "updatedAt", "");
  run.finished_at = GetOptional<std::string>(in, "finishedAt");
  return run;
}

}  // namespace swarm
