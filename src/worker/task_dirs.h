// Per-task directories: <root>/<task id>/work is the CLI's cwd (the task's files stay there
// afterwards), <root>/<task id>/home its fresh HOME and config dirs (removed after the run:
// the adapter may have written the model key into a config file there).
#pragma once

#include <filesystem>
#include <string>

#include "core/error.h"

namespace swarm::worker {

struct TaskDirs {
  std::filesystem::path work;
  std::filesystem::path home;
};

// Creates both, empty: leftovers of an earlier run of the same task id are removed first.
Result<TaskDirs> PrepareTaskDirs(const std::filesystem::path& root, const std::string& task_id);

// Removes the home dir; failures are logged, not fatal (the task's result is what matters).
void RemoveTaskHome(const TaskDirs& dirs);

}  // namespace swarm::worker
