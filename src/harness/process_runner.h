// The child-process seam. The worker runs harness CLIs through a ProcessRunner; tests may run
// any program through the same one. The real runner (posix_process_runner.h) ends every
// process a run started — also those that left its process group or session — on cancel,
// timeout, the CLI's exit, and the worker's death.
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

#include <sys/types.h>

#include "core/error.h"

namespace swarm::harness {

// An unprivileged user to run the child as (setgroups/setgid/setuid before exec): a worker
// running as root keeps the CLI, and the commands its model runs, out of its own memory,
// environment and files.
struct RunAs {
  std::string name;  // for messages
  uid_t uid = 0;
  gid_t gid = 0;
};

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
  std::optional<RunAs> run_as;                 // nullopt: our own user
};

struct ProcessOutcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, or 0
  bool timed_out = false;
  bool cancelled = false;
  int cut_lines = 0;        // stdout lines longer than the runner's limit, delivered cut short
  std::string stderr_tail;  // the last few KiB of stderr, for failure reasons
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion. `on_line` gets each stdout line (without the newline) as it arrives,
  // on the calling thread. When `*cancel` becomes true every process of the run is terminated
  // (SIGTERM, then SIGKILL after a grace period). Errors are for failures to start.
  virtual Result<ProcessOutcome> Run(const ProcessSpec& spec,
                                     const std::function<void(std::string_view line)>& on_line,
                                     const std::atomic<bool>* cancel) = 0;
};

}  // namespace swarm::harness
