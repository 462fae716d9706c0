#include "core/task.h"

#include <array>
#include <utility>

namespace swarm {
namespace {

constexpr std::array<std::pair<TaskStatus, std::string_view>, 8> kNames = {{
    {TaskStatus::kUnassigned, "unassigned"},
    {TaskStatus::kPending, "pending"},
    {TaskStatus::kInProgress, "in_progress"},
    {TaskStatus::kCompleted, "completed"},
    {TaskStatus::kFailed, "failed"},
    {TaskStatus::kCancelled, "cancelled"},
    {TaskStatus::kSuperseded, "superseded"},
    {TaskStatus::kPaused, "paused"},
}};

}  // namespace

const char* TaskStatusName(TaskStatus status) {
  for (const auto& [s, name] : kNames) {
    if (s == status) return name.data();
  }
  return "unknown";
}

std::optional<TaskStatus> ParseTaskStatus(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool IsTerminal(TaskStatus status) {
  return status == TaskStatus::kCompleted || status == TaskStatus::kFailed ||
         status == TaskStatus::kCancelled || status == TaskStatus::kSuperseded;
}

}  // namespace swarm
