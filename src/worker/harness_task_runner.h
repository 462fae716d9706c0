// The production TaskRunner: the provider's adapter and the POSIX process runner through
// harness::RunHarness. Kept apart from the loop so the loop builds and is tested without the
// harness layer.
//
// Making it also readies this process to run CLIs, once, at worker start: HardenProcess (no
// same-user process reads the worker's memory or environ, the swarm key among them) and
// SweepOrphanedRuns (CLIs a previous, killed worker left running are ended).
#pragma once

#include "harness/adapter.h"
#include "worker/task_runner.h"

namespace swarm::worker {

TaskRunner MakeHarnessTaskRunner(harness::Provider provider, harness::ModelEndpoint endpoint);

}  // namespace swarm::worker
