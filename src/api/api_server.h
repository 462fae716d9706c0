// The `agent-swarm api` process: the store, the services, the HTTP server, the dead-worker
// monitor, and a graceful stop on SIGTERM/SIGINT (stop accepting, end long-polls with a null
// trigger, let in-flight requests finish, close the store).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace swarm {

// Provider smoke runs (POST /api/smoke-runs).
struct SmokeApiOptions {
  std::string backend = "auto";  // auto | e2b | local | off
  // Dotenv of provider credentials (mode 0600 or stricter), over the API's environment.
  std::string secrets_file;
  std::string template_id = "agent-swarm-worker";
  std::string public_url;               // the API's URL as workers reach it; empty: derived
  std::vector<std::string> worker_env;  // KEY=VALUE, non-secret, for every smoke sandbox
  int max_runs = 4;
  std::chrono::milliseconds sweep_interval{300'000};
};

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3013;
  std::string db_path = "agent-swarm-db.sqlite";
  std::string api_key;  // required, never empty
  int threads = 0;      // 0: one per core, at least 2
  std::size_t body_limit = 1 << 20;
  std::chrono::milliseconds worker_timeout{60'000};
  // Connection limits (http::ServerOptions): connections over the cap get 503 and close;
  // requests over the body-waiter cap get 503; headers, body and keep-alive idling each have
  // their own timeout.
  std::size_t max_connections = 4096;
  std::size_t max_body_waiters = 256;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  // Lifecycle and session log lines of finished tasks older than this are deleted (hourly).
  // Zero keeps them forever.
  std::chrono::minutes log_retention{60 * 24 * 30};
  bool access_log = true;
  SmokeApiOptions smoke;
  // The MCP server on /mcp: open sessions at most (all agents together), and how long one
  // may idle before it ends.
  std::size_t mcp_max_sessions = 1024;
  std::chrono::milliseconds mcp_session_idle{std::chrono::hours(2)};
};

// Runs until SIGTERM or SIGINT. Returns the process exit status.
int RunApiServer(const ApiServerOptions& options);

}  // namespace swarm
