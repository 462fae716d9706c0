#include "worker/harness_task_runner.h"

#include <memory>

#include "core/log.h"
#include "harness/orphan_sweep.h"
#include "harness/posix_process_runner.h"
#include "harness/process_hardening.h"

namespace swarm::worker {

TaskRunner MakeHarnessTaskRunner(harness::Provider provider, harness::ModelEndpoint endpoint) {
  if (auto hardened = harness::HardenProcess(); !hardened) {
    log::Warn("cannot harden the worker process", {{"error", hardened.error().message}});
  }
  if (const int swept = harness::SweepOrphanedRuns(); swept > 0) {
    log::Info("ended processes left by a previous worker", {{"processes", swept}});
  }
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
