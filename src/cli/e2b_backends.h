// The real E2bEnvironment for `agent-swarm e2b`: this process's environment, directory and
// streams, and the E2B clients of src/sandbox.
#pragma once

#include <memory>

#include "cli/e2b_command.h"

namespace swarm {

std::shared_ptr<E2bEnvironment> ProcessE2bEnvironment();

}  // namespace swarm
