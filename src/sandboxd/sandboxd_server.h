// The `agent-swarm sandboxd` process: a local E2B-compatible server. Both planes (control
// plane and every sandbox's envd) on one port, keyed by an API key; logs
// {"msg":"listening","port":N}; on SIGTERM/SIGINT kills every sandbox (nothing outlives it)
// and stops.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace swarm::sandboxd {

struct SandboxdOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 49982;
  std::string root;     // state directory; empty: $TMPDIR/agent-swarm-sandboxd
  std::string api_key;  // secret; required
  int threads = 4;
  std::size_t max_sandboxes = 32;
  std::chrono::milliseconds shutdown_grace{3'000};
  bool access_log = true;
};

// Runs until SIGTERM or SIGINT. Returns the process exit status.
int RunSandboxd(SandboxdOptions options);

}  // namespace swarm::sandboxd
