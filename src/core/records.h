// Append-only records attached to tasks: lifecycle events, raw harness output, session costs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace swarm {

// A lifecycle event ("task_created", "task_claimed", "task_status_change", "task_progress",
// "task_session"), shown as `logs` on GET /api/tasks/{id}.
struct AgentLog {
  std::string id;
  std::string event_type;
  std::optional<std::string> agent_id;
  std::optional<std::string> task_id;
  std::optional<std::string> old_value;
  std::optional<std::string> new_value;
  std::optional<std::string> metadata;  // JSON text
  std::string created_at;
};

// One raw line of harness output.
struct SessionLog {
  std::string id;
  std::optional<std::string> task_id;
  std::string session_id;
  int iteration = 1;
  std::string cli;
  std::string content;
  int64_t line_number = 0;  // 1-based, in arrival order per (task, session)
  std::string created_at;
};

struct SessionLogBatch {
  std::optional<std::string> task_id;
  std::string session_id;
  int iteration = 1;
  std::string cli = "claude";
  std::vector<std::string> lines;
  std::string created_at;
};

struct SessionCost {
  std::string id;
  std::string session_id;
  std::optional<std::string> task_id;
  std::string agent_id;
  double total_cost_usd = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t reasoning_output_tokens = 0;
  std::optional<int64_t> duration_ms;
  std::optional<int64_t> num_turns;
  std::optional<std::string> model;
  std::optional<std::string> provider;
  bool is_error = false;
  std::string cost_source = "harness";  // harness | pricing-table | unpriced
  std::string created_at;
};

// A harness session a worker runs (upstream's active_sessions row): POST /api/active-sessions
// opens it, PUT …/heartbeat/{taskId} keeps it (and its agent) alive, the worker deletes it when
// the task ends.
struct ActiveSession {
  std::string id;
  std::string agent_id;
  std::optional<std::string> task_id;
  std::string trigger_type;
  std::optional<std::string> task_description;
  std::optional<std::string> runner_session_id;
  std::string started_at;
  std::string last_heartbeat_at;
};

}  // namespace swarm
