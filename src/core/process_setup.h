// Process-wide settings a server applies once at start, before it starts threads.
#pragma once

#include <cstdint>

#include "core/error.h"

namespace swarm {

// SIGPIPE ignored: a write to a socket or pipe whose reader left fails with EPIPE instead of
// killing the process. The disposition survives exec, so a process that spawns children
// (the worker) must restore SIG_DFL in the child before exec.
void IgnoreSigpipe();

// Raises the soft RLIMIT_NOFILE to the hard limit (a server holding thousands of
// connections needs more than the usual 1024) and returns the new soft limit.
Result<uint64_t> RaiseOpenFileLimit();

}  // namespace swarm
