// The `agent-swarm` command line: one binary, one subcommand per role.
#pragma once

namespace swarm {

int RunCli(int argc, char** argv);

}  // namespace swarm
