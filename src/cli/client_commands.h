// `agent-swarm tasks create|get|list|cancel` and `agent-swarm agents list|get`: small clients
// of a running API. A readable table by default, the raw reply with --json, and on failure the
// server's error on stderr with exit status 1.
#pragma once

#include <CLI/App.hpp>

namespace swarm {

void AddClientCommands(CLI::App& root);

}  // namespace swarm
