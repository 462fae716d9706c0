// `agent-swarm worker`: takes tasks from a swarm API and runs them through a harness CLI.
#pragma once

#include <CLI/App.hpp>

namespace swarm {

void AddWorkerCommand(CLI::App& root);

}  // namespace swarm
