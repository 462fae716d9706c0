// The production TaskRunner: the provider's adapter and the POSIX process runner through
// harness::RunHarness. Kept apart from the loop so the loop builds and is tested without the
// harness layer.
#pragma once

#include "harness/adapter.h"
#include "worker/task_runner.h"

namespace swarm::worker {

TaskRunner MakeHarnessTaskRunner(harness::Provider provider, harness::ModelEndpoint endpoint);

}  // namespace swarm::worker
