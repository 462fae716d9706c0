// Test support: runs a program as a child process with its own environment, output going to
// files, and bounded waits. Secrets go in through `env`, never argv.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace swarm::testing_support {

struct ChildSpec {
  std::vector<std::string> argv;           // argv[0] is the program path
  std::map<std::string, std::string> env;  // added to (and overriding) a minimal environment
  std::string stdout_path = "/dev/null";
  std::string stderr_path = "/dev/null";
};

class ChildProcess {
 public:
  explicit ChildProcess(const ChildSpec& spec);  // throws std::runtime_error if spawn fails
  ~ChildProcess();                               // SIGKILLs a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // The exit status (or 128+signal), or nullopt if still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion (bounded), capturing stdout and stderr.
struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The pids /proc lists now.
std::vector<pid_t> LiveProcesses();

// A process's command line, its arguments joined by spaces; empty once it is gone.
std::string ProcessCommandLine(pid_t pid);

// Every live process's command line (the non-empty ones): what a secret must never be in.
std::vector<std::string> AllCommandLines();

// The ids of the sandboxes a sandboxd log (one JSON line per event) says were created.
std::vector<std::string> SandboxdCreatedSandboxes(const std::string& log);

// Host pids of the live processes carrying E2B_SANDBOX_ID=<sandbox_id> in their environment:
// sandboxd gives it to every process it starts in a sandbox (and its bwrap init), and what
// they start inherits it.
std::vector<pid_t> SandboxProcesses(const std::string& sandbox_id);

// A fresh directory under the test temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);

// Polls `pred` every `interval` until it holds or `timeout` passes; the verdict of a last look.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(20));

// Waits (at most 10 s) for a server child to log {"msg":"listening","port":N} to `log_path`
// and returns N. Throws std::runtime_error with the log if it exits or never says so.
uint16_t WaitListening(ChildProcess& child, const std::string& log_path, const std::string& what);

}  // namespace swarm::testing_support
