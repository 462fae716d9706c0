// The per-run supervisor: a small process forked by PosixProcessRunner for every run, which
// forks and execs the CLI and stays its parent. It is a child subreaper
// (PR_SET_CHILD_SUBREAPER), so every descendant of the CLI that is orphaned — a `setsid`, a
// double fork, a daemon — re-parents to it instead of to init: the set of processes below the
// supervisor is exactly the run's, wherever they moved to in sessions and process groups.
// Ending the run kills that whole subtree; the supervisor exits once it is empty.
//
// It has PR_SET_PDEATHSIG: when the runner's thread dies (the worker is SIGKILLed), it gets
// SIGTERM and kills the subtree; the CLI itself has PR_SET_PDEATHSIG(SIGKILL) on the supervisor.
// (A SIGKILL of the supervisor itself leaves grandchildren to the sweep of orphan_sweep.h.)
//
// The supervisor is forked from a multithreaded process and never execs, so everything it
// runs is async-signal-safe: raw system calls, no allocation; all it needs is prepared before
// the fork. Internal to the harness layer.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace swarm::harness::supervisor {

// Runner → supervisor, one byte on the command pipe. EOF (the runner closed it or died) means
// kKill as well, and then exit.
inline constexpr char kTerminate = 'T';  // SIGTERM to every process of the run, once
inline constexpr char kKill = 'K';       // SIGKILL to every process of the run, until none is left

// Supervisor → runner, fixed-size records on the status pipe.
struct Event {
  enum Kind : int32_t { kLeaderExited = 1, kTreeEmpty = 2 };
  int32_t kind = 0;
  int32_t code = 0;    // kLeaderExited: siginfo si_code (CLD_EXITED, CLD_KILLED, CLD_DUMPED)
  int32_t status = 0;  // kLeaderExited: exit status or signal
};

// Why the CLI could not be started: written to the exec-error pipe by the supervisor or the
// CLI's process before exec; nothing is written when exec succeeds (the pipe is O_CLOEXEC).
struct StartError {
  enum Stage : int32_t { kFork = 1, kStdin, kRunAs, kChdir, kExec, kParentGone };
  int32_t stage = 0;
  int32_t error = 0;  // errno
};
const char* StageName(int32_t stage);

struct Plan {
  const char* program = nullptr;  // absolute or relative path, already resolved
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;  // nullptr: stay where we are
  int stdin_fd = -1;          // -1: /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  int command_fd = -1;  // read end
  int status_fd = -1;   // write end
  int start_error_fd = -1;
  bool run_as = false;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t runner_pid = 0;  // the process that forked us, to notice it died before PDEATHSIG
};

// The supervisor's body; never returns.
[[noreturn]] void Run(const Plan& plan);

// Sends `sig` to every descendant of `root` (not `root` itself), found by walking /proc.
// Returns how many were signalled. Async-signal-safe.
int SignalDescendants(pid_t root, int sig);

}  // namespace swarm::harness::supervisor
