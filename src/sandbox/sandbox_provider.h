// The seam between what needs sandboxes (the `e2b` commands, the smoke runner) and where they
// run. One implementation, E2bSandboxProvider, speaks E2B's control plane and envd; pointed at
// E2B's cloud or at our sandboxd, it is the same client. Tests of callers may fake it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace swarm::sandbox {

using StringMap = std::map<std::string, std::string>;

struct SandboxSpec {
  std::string template_id = "base";   // a template id, name, or name:tag
  std::chrono::seconds timeout{300};  // TTL from creation; E2B kills it then
  StringMap env_vars;                 // the sandbox's environment (secrets: never logged)
  StringMap metadata;                 // tags, filterable in List
  bool secure = true;                 // envd requires the access token it returns
  std::optional<int> cpu_count;       // sandboxd only; E2B takes them from the template
  std::optional<int> memory_mb;
};

// What envd calls need to reach one sandbox.
struct SandboxHandle {
  std::string sandbox_id;
  std::string envd_access_token;  // secret; empty when the sandbox is not secure
  std::string domain;             // from the create/connect reply; empty: the configured one
};

struct SandboxInfo {
  SandboxHandle handle;
  std::string template_id;
  std::string envd_version;
  std::string state;       // "running" | "paused"
  std::string started_at;  // RFC 3339, as the server sent it
  std::string end_at;      // RFC 3339; empty when unknown (create replies carry none)
  int cpu_count = 0;
  int memory_mb = 0;
  StringMap metadata;
  const std::string& id() const { return handle.sandbox_id; }
};

struct CommandSpec {
  std::string cmd;   // run as /bin/bash -l -c <cmd>, as the E2B SDKs do
  StringMap envs;    // over the sandbox's env_vars
  std::string cwd;   // empty: the user's home
  std::string user;  // empty: the sandbox's default user
  std::string tag;   // optional, to find it again with Connect
  // envd turns it into the process's deadline; 0: none (background workers need 0).
  std::chrono::milliseconds timeout{60'000};
};

struct CommandOutput {
  std::string stdout_text;
  std::string stderr_text;
};

struct CommandResult {
  int pid = 0;
  int exit_code = 0;  // -1 when killed by a signal
  bool exited = false;
  std::string status;  // envd's words: "exit status 3", "signal: killed"
  std::string error;
  CommandOutput output;
};

struct ProcessInfo {
  int pid = 0;
  std::string cmd;
  std::vector<std::string> args;
  std::string cwd;
  std::string tag;
};

enum class Signal { kTerm, kKill };

// Output as it arrives, for callers that show it live; nullptr to only collect it.
struct OutputCallbacks {
  std::function<void(std::string_view)> on_stdout;
  std::function<void(std::string_view)> on_stderr;
};

class SandboxProvider {
 public:
  virtual ~SandboxProvider() = default;

  // Control plane.
  virtual Result<SandboxInfo> Create(const SandboxSpec& spec) = 0;
  virtual Result<SandboxInfo> Get(std::string_view sandbox_id) = 0;
  // Running sandboxes whose metadata holds every pair of `metadata_filter`.
  virtual Result<std::vector<SandboxInfo>> List(const StringMap& metadata_filter) = 0;
  // True when killed now, false when it was already gone.
  virtual Result<bool> Kill(std::string_view sandbox_id) = 0;
  // The TTL counted from now, replacing the old one.
  virtual Result<void> SetTimeout(std::string_view sandbox_id, std::chrono::seconds timeout) = 0;
  virtual Result<SandboxInfo> Connect(std::string_view sandbox_id,
                                      std::chrono::seconds timeout) = 0;

  // envd. A command that runs and exits non-zero is a CommandResult, not an error.
  virtual Result<CommandResult> Run(const SandboxHandle& sandbox, const CommandSpec& command,
                                    const OutputCallbacks& callbacks = {}) = 0;
  // Returns the pid once the process has started; it lives on after this call.
  virtual Result<int> StartBackground(const SandboxHandle& sandbox, const CommandSpec& command) = 0;
  virtual Result<std::vector<ProcessInfo>> ListProcesses(const SandboxHandle& sandbox) = 0;
  // False when no such process.
  virtual Result<bool> SendSignal(const SandboxHandle& sandbox, int pid, Signal signal) = 0;
  virtual Result<std::string> ReadFile(const SandboxHandle& sandbox, std::string_view path) = 0;
  virtual Result<void> WriteFile(const SandboxHandle& sandbox, std::string_view path,
                                 std::string_view content) = 0;
};

}  // namespace swarm::sandbox
