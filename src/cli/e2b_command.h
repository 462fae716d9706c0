// `agent-swarm e2b …`: worker sandboxes on E2B (or on a local sandboxd speaking its protocol)
// from the command line, with the seed's subcommands, flags, defaults, env precedence and
// redaction (see the seed notes §5). Exit status 0 ok, 1 failure, 2 bad usage.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/App.hpp>

#include "core/error.h"
#include "sandbox/sandbox_provider.h"
#include "sandbox/worker_launch.h"

namespace swarm {

inline constexpr int kE2bFailure = 1;
inline constexpr int kE2bUsage = 2;

// What `build-template --source image` asks of E2B's template build API.
struct TemplateBuildRequest {
  std::string name;
  std::string image;
  int cpu_count = 4;
  int memory_mb = 8192;
  bool no_cache = false;
  // The seed's: the sandbox is kept alive by the start command, the entrypoint is started
  // later by start-worker.
  std::string start_cmd = "sleep infinity";
  std::string ready_cmd = "sleep 0";
  // Local files placed in the template (--copy LOCAL:DEST), with the local file's mode. The
  // seed's images carry everything; a template over a bare base (sandboxd runs templates over
  // the host's root) needs at least /docker-entrypoint.sh put there.
  struct File {
    std::string local_path;
    std::string dest_path;
    int mode = 0644;
  };
  std::vector<File> files;
  // Environment baked into the template (--env KEY=VALUE), as an image's ENV: not secret.
  std::map<std::string, std::string> env;
};

// The template operations the commands use; the E2B implementation adapts
// sandbox::TemplateService (src/sandbox/template_client.h), tests fake it.
class TemplateOps {
 public:
  virtual ~TemplateOps() = default;
  // Builds and waits until ready or failed, passing each build log line to `log`.
  virtual Result<void> Build(const TemplateBuildRequest& request,
                             const std::function<void(std::string_view)>& log) = 0;
  virtual Result<void> SetPublic(std::string_view name, bool is_public) = 0;
  // False when there was no such template.
  virtual Result<bool> Delete(std::string_view name) = 0;
};

// Everything the commands take from outside the command line, so tests can replace it.
struct E2bEnvironment {
  // Built from the controller's E2B settings: E2B_API_KEY, E2B_API_URL, E2B_DOMAIN,
  // E2B_SANDBOX_URL, resolved from the flags, the environment and .env files.
  std::function<Result<std::unique_ptr<sandbox::SandboxProvider>>(const sandbox::StringMap&)>
      make_provider;
  std::function<Result<std::unique_ptr<TemplateOps>>(const sandbox::StringMap&)> make_templates;
  std::function<sandbox::RegistrationProbe()> make_probe;
  std::function<void(std::chrono::milliseconds)> sleep;  // empty: really sleep
  sandbox::StringMap process_env;
  std::string cwd;  // where .env and .env.e2b are looked for (and at the repository root)
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::function<bool()> stdin_is_terminal;  // empty: never (no confirmation prompts)
  // Called before a command runs: JSON log lines on stderr, the E2B client's requests among
  // them with --verbose, else warnings and errors only. Empty: leave logging alone.
  std::function<void(bool verbose)> init_logging;
};

void AddE2bCommand(CLI::App& root, std::shared_ptr<E2bEnvironment> env);

// The exit status for a parse error of `app`: a usage error under `e2b` or `smoke` is 2
// (kE2bUsage), the rest as CLI11 has them. Prints the error as CLI11 does.
int ExitStatusForParseError(CLI::App& app, const CLI::ParseError& error);

// Parses `agent-swarm <args>` against an app holding only what `add_commands` registers, and
// runs it; the exit status (ExitStatusForParseError on a parse error). For tests.
int RunCommandLine(std::vector<std::string> args,
                   const std::function<void(CLI::App&)>& add_commands);

// Runs `agent-swarm <args>` with only the e2b command registered; the exit status (tests).
int RunE2bCommandLine(std::vector<std::string> args, std::shared_ptr<E2bEnvironment> env);

// "KEY=VALUE" from a repeatable flag: the key must be a variable name (for --secret) or
// non-empty (for --metadata); a clear error naming the flag otherwise, never echoing the value.
Result<std::pair<std::string, std::string>> ParseAssignment(std::string_view flag,
                                                            std::string_view text,
                                                            bool key_is_env_name);

}  // namespace swarm
