// Per-task directories: <root>/<task id>-XXXXXX/work is the CLI's cwd, .../home its fresh HOME
// and config dirs. The random suffix (mkdtemp) makes each run's directory its own: two tasks,
// a task retried, or two workers restarted on the same root never share or clear each other's.
// The whole directory is removed after the task (WORKER_KEEP_TASK_DIRS=1 keeps it to debug).
#pragma once

#include <filesystem>
#include <string>

#include "core/error.h"

namespace swarm::worker {

struct TaskDirs {
  std::filesystem::path base;  // <root>/<task id>-XXXXXX
  std::filesystem::path work;
  std::filesystem::path home;
};

// Creates a fresh, empty base with work and home (0700) in it. The base is 0711: an
// unprivileged CLI user (harness::RunAs) who is handed work and home can reach them, while
// nobody else can list or enter the task's files.
Result<TaskDirs> PrepareTaskDirs(const std::filesystem::path& root, const std::string& task_id);

// Removes the task's whole directory; failures are logged, not fatal (the task's result is
// what matters).
void RemoveTaskDirs(const TaskDirs& dirs);

// Removes only the home dir (the CLI's config and state), keeping the work.
void RemoveTaskHome(const TaskDirs& dirs);

}  // namespace swarm::worker
