#include "cli/sandboxd_command.h"

#include <cstdlib>
#include <memory>

#include <CLI/CLI.hpp>

#include "core/log.h"
#include "core/process_setup.h"
#include "sandboxd/sandboxd_server.h"

namespace swarm {

void AddSandboxdCommand(CLI::App& root) {
  auto options = std::make_shared<sandboxd::SandboxdOptions>();
  auto* cmd = root.add_subcommand(
      "sandboxd", "run a local E2B-compatible sandbox server (control plane and envd)");
  cmd->add_option("--host", options->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", options->port, "port to listen on (0: any free port, logged)")
      ->capture_default_str();
  cmd->add_option("--root", options->root,
                  "state directory: sandbox directories and records "
                  "(default: $TMPDIR/agent-swarm-sandboxd)");
  cmd->add_option("--max-sandboxes", options->max_sandboxes, "sandboxes running at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->footer(
      "The API key comes from SANDBOXD_API_KEY, else E2B_API_KEY (never a flag: argv is "
      "public).\nPoint E2B clients at it with E2B_API_URL=http://HOST:PORT and "
      "E2B_SANDBOX_URL=http://HOST:PORT.");
  cmd->callback([options] {
    IgnoreSigpipe();
    log::Init();
    const char* key = std::getenv("SANDBOXD_API_KEY");
    if (!key || !*key) key = std::getenv("E2B_API_KEY");
    options->api_key = key ? key : "";
    const int status = sandboxd::RunSandboxd(*options);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace swarm
