// The real ProcessRunner. Each run forks a small supervisor process (run_supervisor.h) that
// forks and execs the CLI in a new session (its own process group, no terminal), optionally as
// another user (ProcessSpec::run_as), with pipes for stdout/stderr (and stdin when given data).
// One poll loop on the calling thread services the pipes, so no thread is started or leaked.
//
// Why a supervisor: it is a child subreaper, so whatever the CLI starts stays below it even
// after a `setsid` or a double fork, and "every process of the run" is exactly its subtree
// (process groups and sessions can be left; cgroups are not available everywhere, e.g. not in
// sandboxes with cgroup v1 or without delegation). Ending a run: on cancel or timeout every
// process of it gets SIGTERM, then SIGKILL after the grace period. When the CLI ends by itself,
// whatever it left running (a tool's background job, a daemon) is ended the same way, so no
// process of a task outlives its run. The worker's death ends the run too: the supervisor has a
// parent-death signal and kills the subtree, the CLI has PR_SET_PDEATHSIG(SIGKILL); every
// process carries AGENT_SWARM_WORKER_RUN in its environment for SweepOrphanedRuns
// (orphan_sweep.h), the backstop when the supervisor itself was SIGKILLed.
#pragma once

#include <chrono>

#include "harness/process_runner.h"

namespace swarm::harness {

class PosixProcessRunner final : public ProcessRunner {
 public:
  struct Options {
    // SIGTERM → SIGKILL delay, and how long leftovers of a finished leader get to end.
    std::chrono::milliseconds kill_grace{2000};
    // After the leader exits, how long to keep reading output that a descendant still holds
    // the pipes open for, before that descendant is terminated.
    std::chrono::milliseconds drain{1000};
    size_t stderr_tail_bytes = 8192;
    // A stdout line longer than this is delivered cut to it (the rest of the line is dropped
    // and ProcessOutcome::cut_lines counts it) rather than buffered without bound.
    size_t max_line_bytes = 1 << 20;
  };

  PosixProcessRunner() = default;
  explicit PosixProcessRunner(Options options) : options_(options) {}

  Result<ProcessOutcome> Run(const ProcessSpec& spec,
                             const std::function<void(std::string_view line)>& on_line,
                             const std::atomic<bool>* cancel) override;

 private:
  Options options_;
};

// The executable `name` resolves to, searched in `path_var` (a PATH value) when it has no
// slash, as execvp would but with the child's PATH rather than ours.
std::optional<std::string> ResolveExecutable(const std::string& name, std::string_view path_var);

}  // namespace swarm::harness
