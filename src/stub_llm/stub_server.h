// The `agent-swarm stub-llm` process: loads the script, serves StubService over the project's
// HTTP server on a small thread pool, logs {"msg":"listening","port":N}, and stops on
// SIGTERM/SIGINT (stop accepting, let in-flight requests finish within a grace period).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace swarm::stub_llm {

struct StubServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8765;
  std::string reply = "pong";  // the default reply; a script's "reply" replaces it
  std::string script_path;     // empty: no script file, markers and the reply only
  int threads = 2;
  std::chrono::milliseconds shutdown_grace{5'000};
};

// Runs until SIGTERM or SIGINT. Returns the process exit status (2 for a bad script).
int RunStubLlm(const StubServerOptions& options);

}  // namespace swarm::stub_llm
