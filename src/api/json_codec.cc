#include "api/json_codec.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace swarm {
namespace {

// The stored snapshot (JSON text written by the API itself), with the model telemetry the
// worker reported on its own shown as its latestModel, as upstream merges them.
void WriteCredStatus(JsonWriter& w, const std::optional<std::string>& cred_status,
                     const std::optional<std::string>& latest_model) {
  if (!latest_model) {
    if (cred_status) {
      w.Raw(*cred_status);
    } else {
      w.Null();
    }
    return;
  }
  nlohmann::json merged = nlohmann::json::object();
  if (cred_status) {
    merged = nlohmann::json::parse(*cred_status, nullptr, /*allow_exceptions=*/false);
    if (!merged.is_object()) merged = nlohmann::json::object();
  }
  merged["latestModel"] = nlohmann::json::parse(*latest_model, nullptr, false);
  w.Raw(merged.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void OptionalInt(JsonWriter& w, std::string_view key, const std::optional<int64_t>& v) {
  w.Key(key);
  if (v) {
    w.Int(*v);
  } else {
    w.Null();
  }
}

}  // namespace

void WriteTaskFields(JsonWriter& w, const Task& t) {
  w.Field("id", t.id)
      .Field("agentId", t.agent_id)
      .Field("creatorAgentId", t.creator_agent_id)
      .Field("task", t.task)
      .Field("status", TaskStatusName(t.status))
      .Field("source", t.source)
      .Field("taskType", t.task_type);
  w.Key("tags").BeginArray();
  for (const auto& tag : t.tags) w.String(tag);
  w.EndArray();
  w.Field("priority", int64_t{t.priority});
  // Stored as the JSON text it arrived as (checked to be a valid schema): goes out as JSON.
  w.Key("outputSchema");
  if (t.output_schema) {
    w.Raw(*t.output_schema);
  } else {
    w.Null();
  }
  w.Field("output", t.output)
      .Field("failureReason", t.failure_reason)
      .Field("progress", t.progress)
      .Field("claudeSessionId", t.session_id)
      .Field("provider", t.provider)
      .Field("model", t.model)
      .Field("createdAt", t.created_at)
      .Field("lastUpdatedAt", t.last_updated_at)
      .Field("startedAt", t.started_at)
      .Field("finishedAt", t.finished_at)
      .Field("parentTaskId", t.parent_task_id);
  if (t.total_cost_usd) w.Key("totalCostUsd").Double(*t.total_cost_usd);
}

void WriteTask(JsonWriter& w, const Task& task) {
  w.BeginObject();
  WriteTaskFields(w, task);
  w.EndObject();
}

void WriteAgent(JsonWriter& w, const Agent& a) {
  const int available = std::max(0, a.max_tasks - a.active_tasks);
  w.BeginObject()
      .Field("id", a.id)
      .Field("name", a.name)
      .Field("isLead", a.is_lead)
      .Field("status", AgentStatusName(a.status))
      .Field("description", a.description)
      .Field("role", a.role);
  w.Key("capabilities").BeginArray();
  for (const auto& c : a.capabilities) w.String(c);
  w.EndArray();
  w.Field("maxTasks", int64_t{a.max_tasks})
      .Field("provider", a.provider)
      .Field("harnessProvider", a.harness_provider)
      .Field("lastActivityAt", a.last_activity_at)
      .Field("runtimeInstanceId", a.runtime_instance_id)
      .Field("createdAt", a.created_at)
      .Field("lastUpdatedAt", a.last_updated_at);
  // Omitted, not null, when the worker never said: workers from before versions were reported.
  if (a.version) w.Field("version", *a.version);
  if (a.cli_version) w.Field("cliVersion", *a.cli_version);
  // The worker's credential report, as upstream names it; null until one came.
  w.Key("credentialMissing");
  if (a.credential_missing) {
    w.BeginArray();
    for (const auto& name : *a.credential_missing) w.String(name);
    w.EndArray();
  } else {
    w.Null();
  }
  w.Key("credStatus");
  WriteCredStatus(w, a.cred_status, a.latest_model);
  w.Key("capacity")
      .BeginObject()
      .Field("current", int64_t{a.active_tasks})
      .Field("max", int64_t{a.max_tasks})
      .Field("available", int64_t{available})
      .EndObject();
  w.EndObject();
}

void WriteActiveSession(JsonWriter& w, const ActiveSession& s) {
  w.BeginObject()
      .Field("id", s.id)
      .Field("agentId", s.agent_id)
      .Field("taskId", s.task_id)
      .Field("triggerType", s.trigger_type)
      .Field("taskDescription", s.task_description)
      .Field("runnerSessionId", s.runner_session_id)
      .Field("startedAt", s.started_at)
      .Field("lastHeartbeatAt", s.last_heartbeat_at)
      .EndObject();
}

void WriteAgentLog(JsonWriter& w, const AgentLog& l) {
  w.BeginObject()
      .Field("id", l.id)
      .Field("eventType", l.event_type)
      .Field("agentId", l.agent_id)
      .Field("taskId", l.task_id)
      .Field("oldValue", l.old_value)
      .Field("newValue", l.new_value)
      .Field("metadata", l.metadata)
      .Field("createdAt", l.created_at)
      .EndObject();
}

void WriteSessionLog(JsonWriter& w, const SessionLog& l) {
  w.BeginObject()
      .Field("id", l.id)
      .Field("taskId", l.task_id)
      .Field("sessionId", l.session_id)
      .Field("iteration", int64_t{l.iteration})
      .Field("cli", l.cli)
      .Field("content", l.content)
      .Field("lineNumber", l.line_number)
      .Field("createdAt", l.created_at)
      .EndObject();
}

void WriteSessionCost(JsonWriter& w, const SessionCost& c) {
  w.BeginObject()
      .Field("id", c.id)
      .Field("sessionId", c.session_id)
      .Field("taskId", c.task_id)
      .Field("agentId", c.agent_id);
  w.Key("totalCostUsd").Double(c.total_cost_usd);
  w.Field("inputTokens", c.input_tokens)
      .Field("outputTokens", c.output_tokens)
      .Field("cacheReadTokens", c.cache_read_tokens)
      .Field("cacheWriteTokens", c.cache_write_tokens)
      .Field("reasoningOutputTokens", c.reasoning_output_tokens);
  OptionalInt(w, "durationMs", c.duration_ms);
  OptionalInt(w, "numTurns", c.num_turns);
  w.Field("model", c.model)
      .Field("provider", c.provider)
      .Field("isError", c.is_error)
      .Field("costSource", c.cost_source)
      .Field("createdAt", c.created_at)
      .EndObject();
}

}  // namespace swarm
