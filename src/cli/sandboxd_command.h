// `agent-swarm sandboxd`: a local E2B-compatible sandbox server.
#pragma once

#include <CLI/App.hpp>

namespace swarm {

void AddSandboxdCommand(CLI::App& root);

}  // namespace swarm
