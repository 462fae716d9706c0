// The child-process seam. The worker runs harness CLIs through a ProcessRunner; tests may run
// any program through the same one. The real runner puts every child in a process group of its
// own, so a timeout or a cancellation kills the CLI and everything it started.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace swarm::harness {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in env's PATH
  // The child's whole environment: nothing of the parent's leaks in unless copied here.
  // Secrets go here, never into argv.
  std::map<std::string, std::string> env;
  std::filesystem::path cwd;
  // Written to the child's stdin, which is then closed; without it stdin is /dev/null (an
  // open pipe makes codex, opencode and pi hang).
  std::optional<std::string> stdin_data;
  std::chrono::milliseconds timeout{600'000};  // hard limit; then the group is killed
};

struct ProcessOutcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, or 0
  bool timed_out = false;
  bool cancelled = false;
  std::string stderr_tail;  // the last few KiB of stderr, for failure reasons
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion. `on_line` gets each stdout line (without the newline) as it arrives,
  // on the calling thread. When `*cancel` becomes true the process group is terminated
  // (SIGTERM, then SIGKILL after a grace period). Errors are for failures to start.
  virtual Result<ProcessOutcome> Run(const ProcessSpec& spec,
                                     const std::function<void(std::string_view line)>& on_line,
                                     const std::atomic<bool>* cancel) = 0;
};

}  // namespace swarm::harness
