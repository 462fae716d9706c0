// The `agent-swarm api` process: the store, the services, the HTTP server, the dead-worker
// monitor, and a graceful stop on SIGTERM/SIGINT (stop accepting, end long-polls with a null
// trigger, let in-flight requests finish, close the store).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace swarm {

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3013;
  std::string db_path = "agent-swarm-db.sqlite";
  std::string api_key;  // required, never empty
  int threads = 0;      // 0: one per core, at least 2
  std::size_t body_limit = 1 << 20;
  std::chrono::milliseconds worker_timeout{60'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  bool access_log = true;
};

// Runs until SIGTERM or SIGINT. Returns the process exit status.
int RunApiServer(const ApiServerOptions& options);

}  // namespace swarm
