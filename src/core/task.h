// A task: one unit of work handed to a worker, with its lifecycle and its result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swarm {

// kSuperseded (terminal): handed back by its worker (shutdown, crash recovery) with a "resume"
// child carrying the work on. kPaused (not terminal): upstream's legacy hand-back.
enum class TaskStatus {
  kUnassigned,
  kPending,
  kInProgress,
  kCompleted,
  kFailed,
  kCancelled,
  kSuperseded,
  kPaused,
};

const char* TaskStatusName(TaskStatus status);
std::optional<TaskStatus> ParseTaskStatus(std::string_view name);
// Completed, failed, cancelled and superseded are final: the first terminal write wins.
bool IsTerminal(TaskStatus status);

struct Task {
  std::string id;
  std::optional<std::string> agent_id;
  std::optional<std::string> creator_agent_id;
  std::string task;
  TaskStatus status = TaskStatus::kUnassigned;
  std::string source = "api";
  std::optional<std::string> task_type;
  std::vector<std::string> tags;
  int priority = 50;
  std::optional<std::string> output_schema;  // JSON text, already checked to be a valid schema
  std::optional<std::string> output;         // raw text as the worker sent it
  std::optional<std::string> failure_reason;
  std::optional<std::string> progress;
  std::optional<std::string> session_id;  // the provider's session id ("claudeSessionId")
  std::optional<std::string> provider;
  std::optional<std::string> model;
  // The task this one continues (a "resume" child of a superseded task), if any.
  std::optional<std::string> parent_task_id;
  std::string created_at;  // ISO 8601 UTC, see FormatIsoTime
  std::string last_updated_at;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::optional<double> total_cost_usd;  // sum of session costs; filled by list and get
};

}  // namespace swarm
