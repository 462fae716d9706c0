#include "worker/harness_task_runner.h"

#include <memory>

#include "harness/posix_process_runner.h"

namespace swarm::worker {

TaskRunner MakeHarnessTaskRunner(harness::Provider provider, harness::ModelEndpoint endpoint) {
  std::shared_ptr<const harness::Adapter> adapter = harness::MakeAdapter(provider);
  return [adapter, endpoint = std::move(endpoint)](
             const harness::TaskRun& run, const std::optional<std::string>& model,
             const harness::RunCallbacks& callbacks,
             const std::atomic<bool>* cancel) -> harness::RunResult {
    harness::ModelEndpoint task_endpoint = endpoint;
    if (model) task_endpoint.model = model;
    // One runner per run: tasks run concurrently, and a runner is cheap.
    harness::PosixProcessRunner runner;
    return harness::RunHarness(*adapter, runner, run, task_endpoint, callbacks, cancel);
  };
}

}  // namespace swarm::worker
