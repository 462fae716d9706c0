// `agent-swarm api`: flags and environment for the API server.
#pragma once

#include <CLI/App.hpp>

namespace swarm {

void AddApiCommand(CLI::App& root);

}  // namespace swarm
