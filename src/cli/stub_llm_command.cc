#include "cli/stub_llm_command.h"

#include <memory>

#include <CLI/CLI.hpp>

#include "core/log.h"
#include "core/process_setup.h"
#include "stub_llm/stub_server.h"

namespace swarm {

void AddStubLlmCommand(CLI::App& root) {
  auto options = std::make_shared<stub_llm::StubServerOptions>();
  auto* cmd = root.add_subcommand(
      "stub-llm", "run a scripted model server (Anthropic Messages, OpenAI Responses, Chat)");
  cmd->add_option("--host", options->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", options->port, "port to listen on (0: any free port, logged)")
      ->capture_default_str();
  cmd->add_option("--reply", options->reply, "the default reply text")->capture_default_str();
  cmd->add_option("--script", options->script_path,
                  "JSON script file: {\"reply\":…, \"rules\":[{\"match\":…, \"shell\"|\"tool\"|"
                  "\"status\"|\"reply\"|\"delayMs\":…}]}")
      ->check(CLI::ExistingFile);
  cmd->footer(
      "Prompt markers script one turn without a file: REPLY: <text>, RUN_SHELL: <command>, "
      "CALL_TOOL: <name> <json>, HTTP_ERROR: <status> [message], DELAY_MS: <n>.\n"
      "Base URLs: ANTHROPIC_BASE_URL=http://HOST:PORT (Claude Code adds /v1/messages); "
      "OpenAI-style clients (Codex, opencode, pi) take http://HOST:PORT/v1.");
  cmd->callback([options] {
    IgnoreSigpipe();
    log::Init();
    const int status = stub_llm::RunStubLlm(*options);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace swarm
