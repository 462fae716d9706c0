// The seam between the worker loop and the harness. Production runs the task's CLI through
// harness::RunHarness (harness_task_runner.h); tests give the loop a function that plays a
// harness, so the loop, the API and the reporting run for real without any CLI installed.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "harness/adapter.h"

namespace swarm::worker {

// Runs one task to its end. `model` is the task's own model, else MODEL_OVERRIDE, else none.
// Must call callbacks.on_session once the provider session id is known and on_line for every
// raw output line, and must return soon after `*cancel` becomes true (result.cancelled).
// Called on the task's own thread; several calls run at once when MAX_CONCURRENT_TASKS > 1.
using TaskRunner = std::function<harness::RunResult(
    const harness::TaskRun& run, const std::optional<std::string>& model,
    const harness::RunCallbacks& callbacks, const std::atomic<bool>* cancel)>;

}  // namespace swarm::worker
