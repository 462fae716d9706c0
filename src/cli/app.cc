#include "cli/app.h"

#include <CLI/CLI.hpp>

#include "cli/api_command.h"
#include "cli/client_commands.h"
#include "cli/e2b_backends.h"
#include "cli/e2b_command.h"
#include "cli/sandboxd_command.h"
#include "cli/smoke_command.h"
#include "cli/stub_llm_command.h"
#include "cli/worker_command.h"

namespace swarm {

int RunCli(int argc, char** argv) {
  CLI::App app{"agent-swarm: a swarm API, its workers, and provider smoke tests"};
  app.set_version_flag("--version", SWARM_VERSION);
  app.require_subcommand(1);
  AddApiCommand(app);
  AddClientCommands(app);
  AddE2bCommand(app, ProcessE2bEnvironment());
  AddStubLlmCommand(app);
  AddSandboxdCommand(app);
  AddSmokeCommand(app, ProcessSmokeEnvironment());
  AddWorkerCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ExitStatusForParseError(app, e);
  }
  return 0;
}

}  // namespace swarm
