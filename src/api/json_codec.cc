#include "api/json_codec.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// A stored JSON document (outputSchema) goes out as JSON, not as a string of JSON.
json EmbeddedJson(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? json(*text) : value;
}

}  // namespace

json ToJson(const Task& t) {
  json j = {
      {"id", t.id},
      {"agentId", OrNull(t.agent_id)},
      {"creatorAgentId", OrNull(t.creator_agent_id)},
      {"task", t.task},
      {"status", TaskStatusName(t.status)},
      {"source", t.source},
      {"taskType", OrNull(t.task_type)},
      {"tags", t.tags},
      {"priority", t.priority},
      {"outputSchema", EmbeddedJson(t.output_schema)},
      {"output", OrNull(t.output)},
      {"failureReason", OrNull(t.failure_reason)},
      {"progress", OrNull(t.progress)},
      {"claudeSessionId", OrNull(t.session_id)},
      {"provider", OrNull(t.provider)},
      {"model", OrNull(t.model)},
      {"createdAt", t.created_at},
      {"lastUpdatedAt", t.last_updated_at},
      {"startedAt", OrNull(t.started_at)},
      {"finishedAt", OrNull(t.finished_at)},
  };
  if (t.total_cost_usd) j["totalCostUsd"] = *t.total_cost_usd;
  return j;
}

json ToJson(const Agent& a) {
  const int available = std::max(0, a.max_tasks - a.active_tasks);
  return {
      {"id", a.id},
      {"name", a.name},
      {"isLead", a.is_lead},
      {"status", AgentStatusName(a.status)},
      {"description", OrNull(a.description)},
      {"role", OrNull(a.role)},
      {"capabilities", a.capabilities},
      {"maxTasks", a.max_tasks},
      {"provider", OrNull(a.provider)},
      {"harnessProvider", OrNull(a.harness_provider)},
      {"lastActivityAt", OrNull(a.last_activity_at)},
      {"createdAt", a.created_at},
      {"lastUpdatedAt", a.last_updated_at},
      {"capacity", {{"current", a.active_tasks}, {"max", a.max_tasks}, {"available", available}}},
  };
}

json ToJson(const AgentLog& l) {
  return {
      {"id", l.id},
      {"eventType", l.event_type},
      {"agentId", OrNull(l.agent_id)},
      {"taskId", OrNull(l.task_id)},
      {"oldValue", OrNull(l.old_value)},
      {"newValue", OrNull(l.new_value)},
      {"metadata", OrNull(l.metadata)},
      {"createdAt", l.created_at},
  };
}

json ToJson(const SessionLog& l) {
  return {
      {"id", l.id},
      {"taskId", OrNull(l.task_id)},
      {"sessionId", l.session_id},
      {"iteration", l.iteration},
      {"cli", l.cli},
      {"content", l.content},
      {"lineNumber", l.line_number},
      {"createdAt", l.created_at},
  };
}

json ToJson(const SessionCost& c) {
  return {
      {"id", c.id},
      {"sessionId", c.session_id},
      {"taskId", OrNull(c.task_id)},
      {"agentId", c.agent_id},
      {"totalCostUsd", c.total_cost_usd},
      {"inputTokens", c.input_tokens},
      {"outputTokens", c.output_tokens},
      {"cacheReadTokens", c.cache_read_tokens},
      {"cacheWriteTokens", c.cache_write_tokens},
      {"reasoningOutputTokens", c.reasoning_output_tokens},
      {"durationMs", OrNull(c.duration_ms)},
      {"numTurns", OrNull(c.num_turns)},
      {"model", OrNull(c.model)},
      {"provider", OrNull(c.provider)},
      {"isError", c.is_error},
      {"costSource", c.cost_source},
      {"createdAt", c.created_at},
  };
}

}  // namespace swarm
