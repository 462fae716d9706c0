// The real ProcessRunner: posix_spawn with a new session (so the child leads its own process
// group and has no controlling terminal), pipes for stdout/stderr (and stdin when given data),
// and one poll loop on the calling thread, so no thread is ever started or leaked.
//
// Ending a run: on cancel or timeout the whole group gets SIGTERM, then SIGKILL after the grace
// period. When the leader ends by itself, whatever it left running in its group (a tool's
// background job) is terminated the same way, so no process of a task outlives its run. The
// leader stays unreaped (a zombie) until its group is empty, which keeps its pid — the group id
// — from being reused while we still signal the group.
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
    // A stdout line longer than this is delivered in pieces rather than buffered without bound.
    size_t max_line_bytes = 64 << 20;
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
