// Leftovers of a worker that died. Every CLI the runner starts carries, in its environment,
// the identity of the worker process that started it (AGENT_SWARM_WORKER_RUN=<pid>:<start
// time>:<PID namespace>), and so does everything the CLI starts unless it scrubs its
// environment. A worker that is SIGKILLed cannot end its runs' processes itself (its per-run
// supervisors kill theirs on its death, unless they were killed too); the next worker on the
// machine sweeps at start: every process whose marker names a worker process that no longer
// exists is killed. A worker in another PID namespace (one in a local sandbox, seen by a worker
// on the host) is left alone: its pid cannot be looked up from here.
#pragma once

#include <string>

namespace swarm::harness {

inline constexpr char kWorkerRunEnv[] = "AGENT_SWARM_WORKER_RUN";

// This process's marker value: "<pid>:<start time in clock ticks since boot>:<inode of its PID
// namespace>".
std::string WorkerRunMarker();

// SIGKILLs every process carrying a marker of a worker that is gone (its pid ended, or now
// belongs to a process started at another time). Returns how many it killed. Processes of
// live workers, this one's included, are left alone.
int SweepOrphanedRuns();

}  // namespace swarm::harness
