#include "worker/task_report.h"

#include <cstdint>

#include "core/version.h"

namespace swarm::worker {
namespace {

using nlohmann::json;

constexpr char kNoOutput[] = "Process completed successfully (no output captured)";
constexpr std::size_t kMaxReasonBytes = 4096;

std::optional<std::string> OptionalString(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A failure reason as sent: valid UTF-8, at most kMaxReasonBytes of the text, "…" when cut.
std::string Reason(const std::string& text) {
  std::string reason = SanitizeUtf8(text.substr(0, kMaxReasonBytes));
  if (text.size() > kMaxReasonBytes) reason += "…";
  return reason;
}

}  // namespace

Result<std::optional<ClaimedTask>> ParsePollReply(const json& reply) {
  if (!reply.is_object() || !reply.contains("trigger")) {
    return Internal("poll reply without a trigger field");
  }
  const json& trigger = reply["trigger"];
  if (trigger.is_null()) return std::nullopt;
  if (!trigger.is_object()) return Internal("poll reply: trigger is not an object");
  const auto type = OptionalString(trigger, "type");
  if (type != "task_assigned") {
    return Internal("poll reply: unknown trigger type \"" + type.value_or("") + "\"");
  }
  const json* task =
      trigger.contains("task") && trigger["task"].is_object() ? &trigger["task"] : nullptr;
  auto id = OptionalString(trigger, "taskId");
  if (!id && task) id = OptionalString(*task, "id");
  if (!id || id->empty() || !task) return Internal("poll reply: task_assigned without a task");
  ClaimedTask claimed;
  claimed.id = *id;
  claimed.text = OptionalString(*task, "task").value_or("");
  if (auto it = task->find("outputSchema"); it != task->end() && !it->is_null()) {
    claimed.output_schema = it->dump();
  }
  claimed.model = OptionalString(*task, "model");
  return claimed;
}

json ActiveSessionBody(const std::string& agent_id, const ClaimedTask& task,
                       const std::string& runtime_instance_id) {
  return {{"agentId", agent_id},
          {"taskId", task.id},
          {"triggerType", "task_assigned"},
          // A character is at most 4 bytes: sanitize only what can be kept.
          {"taskDescription",
           std::string(Utf8PrefixChars(SanitizeUtf8(std::string_view(task.text).substr(
                                           0, 4 * kActiveSessionDescriptionChars)),
                                       kActiveSessionDescriptionChars))},
          {"runtimeInstanceId", runtime_instance_id}};
}

json RegisterBody(const WorkerConfig& config, const std::string& runtime_instance_id) {
  json body = {{"name", config.agent_name},
               {"role", config.role},
               {"isLead", config.is_lead},
               {"maxTasks", config.max_tasks},
               {"provider", config.provider_name},
               {"harness_provider", config.provider_name},
               {"runtimeInstanceId", runtime_instance_id}};
  if (!config.capabilities.empty()) body["capabilities"] = config.capabilities;
  // What the smoke runner checks against the API's own version (the seed's version alignment)
  // and shows beside it.
  body["version"] = BuildVersion();
  if (config.cli_version && !config.cli_version->empty()) body["cliVersion"] = *config.cli_version;
  return body;
}

json SessionBody(const std::string& session_id, const std::string& provider,
                 const std::optional<std::string>& model) {
  json body = {{"claudeSessionId", SanitizeUtf8(session_id)}, {"provider", provider}};
  if (model) body["model"] = SanitizeUtf8(*model);
  return body;
}

json SessionLogsBody(const std::string& runner_session_id, const std::string& task_id,
                     const std::string& cli, std::vector<std::string> lines) {
  for (auto& line : lines) line = SanitizeUtf8(line);
  return {{"sessionId", runner_session_id},
          {"taskId", task_id},
          {"iteration", 1},
          {"cli", cli},
          {"lines", std::move(lines)}};
}

std::optional<json> SessionCostBody(const harness::RunResult& r,
                                    const std::string& runner_session_id,
                                    const std::string& task_id, const std::string& agent_id,
                                    const std::string& provider) {
  const harness::Usage& u = r.usage;
  const bool any_tokens = u.input_tokens || u.output_tokens || u.cache_read_tokens ||
                          u.cache_write_tokens || u.reasoning_tokens;
  if (!r.session_id && !r.cost_usd && !any_tokens) return std::nullopt;
  json body = {{"sessionId", runner_session_id},
               {"taskId", task_id},
               {"agentId", agent_id},
               {"provider", provider},
               // The API requires a figure; without one the source says it is not a price.
               {"totalCostUsd", r.cost_usd.value_or(0.0)},
               {"costSource", r.cost_usd ? r.cost_source : std::string("unpriced")},
               {"inputTokens", u.input_tokens},
               {"outputTokens", u.output_tokens},
               {"cacheReadTokens", u.cache_read_tokens},
               {"cacheWriteTokens", u.cache_write_tokens},
               {"reasoningOutputTokens", u.reasoning_tokens},
               {"durationMs", r.duration_ms},
               {"isError", !r.ok}};
  if (r.model) body["model"] = SanitizeUtf8(*r.model);
  if (r.num_turns) body["numTurns"] = *r.num_turns;
  return body;
}

json FinishBody(const harness::RunResult& r, bool has_schema, bool shutting_down) {
  if (shutting_down && r.cancelled) {
    return {{"status", "failed"}, {"failureReason", kShutdownReason}};
  }
  if (!r.ok) {
    std::string reason = r.failure_reason.value_or("");
    if (reason.empty()) reason = r.cancelled ? "cancelled" : "harness run failed";
    return {{"status", "failed"}, {"failureReason", Reason(reason)}};
  }
  std::string output;
  if (has_schema) {
    // Without an extracted value the final text goes as is: the server names the mismatch.
    output = r.output.value_or(r.final_text);
  } else {
    output = r.final_text.empty() ? kNoOutput : r.final_text;
  }
  return {{"status", "completed"}, {"output", SanitizeUtf8(output)}};
}

}  // namespace swarm::worker
