#include "cli/api_command.h"

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "api/api_server.h"
#include "cli/api_key.h"
#include "core/log.h"
#include "core/process_setup.h"
#include "core/redact.h"

namespace swarm {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

struct ApiFlags {
  ApiServerOptions options;
  double worker_timeout_s = 60;
  double header_timeout_s = 10;
  double read_timeout_s = 30;
  double idle_timeout_s = 60;
  double shutdown_grace_s = 10;
  double log_retention_days = 30;
  double smoke_sweep_interval_s = 300;
  double mcp_session_idle_s = 7200;
  std::string api_key_file;
  bool no_access_log = false;
};

// Each connection is a descriptor: lift the soft limit (often 1024) to the hard one, and say
// so when even that leaves too few for --max-connections (accepts would fail past it).
void WarnIfFewDescriptors(std::size_t max_connections) {
  constexpr uint64_t kSpareDescriptors = 64;  // database, logs, listeners
  auto limit = RaiseOpenFileLimit();
  if (!limit) {
    log::Warn("cannot raise the open-file limit", {{"error", limit.error().message}});
  } else if (*limit < max_connections + kSpareDescriptors) {
    log::Warn("the open-file limit is below --max-connections",
              {{"openFileLimit", *limit}, {"maxConnections", max_connections}});
  }
}

}  // namespace

void AddApiCommand(CLI::App& root) {
  auto flags = std::make_shared<ApiFlags>();
  auto* cmd = root.add_subcommand("api", "run the swarm API server");
  ApiServerOptions& o = flags->options;
  o.db_path = EnvOr("DATABASE_PATH", o.db_path);
  cmd->add_option("--host", o.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", o.port, "port to listen on (0: any free port)")
      ->envname("PORT")
      ->capture_default_str();
  cmd->add_option("--db", o.db_path, "SQLite database file ($DATABASE_PATH)")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "I/O threads (0: one per core, at least 2)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--body-limit", o.body_limit, "largest request body in bytes")
      ->check(CLI::Range(1024, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--worker-timeout", flags->worker_timeout_s,
                  "seconds of silence after which a worker's in_progress tasks fail")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd->add_option("--max-connections", o.max_connections,
                  "open connections; more are answered 503 and closed")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--max-body-waiters", o.max_body_waiters,
                  "requests waiting for their body at once; more are answered 503")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--header-timeout", flags->header_timeout_s,
                  "seconds to receive a request's line and headers")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--read-timeout", flags->read_timeout_s,
                  "seconds to receive a request's body (and to write a response)")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--idle-timeout", flags->idle_timeout_s, "seconds a keep-alive may idle")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--shutdown-grace", flags->shutdown_grace_s,
                  "seconds in-flight requests get after SIGTERM")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--log-retention-days", flags->log_retention_days,
                  "days to keep lifecycle and session logs of finished tasks (0: forever)")
      ->check(CLI::Range(0.0, 36500.0))
      ->capture_default_str();
  cmd->add_option("--mcp-max-sessions", o.mcp_max_sessions,
                  "open MCP sessions on /mcp at most, all agents together; more are refused")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--mcp-session-idle-s", flags->mcp_session_idle_s,
                  "seconds an MCP session may idle before it ends")
      ->check(CLI::Range(1.0, 7.0 * 86400))
      ->capture_default_str();
  cmd->add_flag("--no-access-log", flags->no_access_log, "do not log each request");
  cmd->add_option("--api-key-file", flags->api_key_file,
                  "read the API key from the first line of this file");
  SmokeApiOptions& smoke = o.smoke;
  cmd->add_option("--smoke-backend", smoke.backend,
                  "where smoke runs get sandboxes: auto (E2B when E2B_API_KEY or E2B_API_URL is "
                  "set, else an embedded sandboxd), e2b, local, off")
      ->check(CLI::IsMember({"auto", "e2b", "local", "off"}))
      ->capture_default_str();
  cmd->add_option("--smoke-secrets", smoke.secrets_file,
                  "dotenv file of provider credentials for smoke runs (mode 600 or stricter)");
  cmd->add_option("--smoke-template", smoke.template_id, "the worker template smoke runs use")
      ->capture_default_str();
  cmd->add_option("--public-url", smoke.public_url,
                  "the API's URL as smoke workers reach it (default: http://127.0.0.1:<port> "
                  "when listening on loopback or 0.0.0.0)");
  cmd->add_option("--smoke-worker-env", smoke.worker_env,
                  "KEY=VALUE for every smoke sandbox's env (repeatable; not for secrets)");
  cmd->add_option("--smoke-max-runs", smoke.max_runs, "smoke runs at once; more get 503")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--smoke-sweep-interval", flags->smoke_sweep_interval_s,
                  "seconds between sweeps for interrupted smoke runs and their sandboxes")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd->footer(
      "The API key comes from --api-key-file, else $AGENT_SWARM_API_KEY, else $API_KEY; the "
      "server refuses to start without one.\nSmoke runs take provider credentials from this "
      "environment (ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENROUTER_API_KEY and their *_BASE_URL) "
      "and --smoke-secrets.");
  cmd->callback([flags] {
    using std::chrono::milliseconds;
    auto to_ms = [](double s) { return milliseconds(static_cast<int64_t>(s * 1000)); };
    ApiServerOptions options = flags->options;
    options.worker_timeout = to_ms(flags->worker_timeout_s);
    options.header_timeout = to_ms(flags->header_timeout_s);
    options.read_timeout = to_ms(flags->read_timeout_s);
    options.idle_timeout = to_ms(flags->idle_timeout_s);
    options.shutdown_grace = to_ms(flags->shutdown_grace_s);
    options.access_log = !flags->no_access_log;
    options.smoke.sweep_interval = to_ms(flags->smoke_sweep_interval_s);
    options.mcp_session_idle = to_ms(flags->mcp_session_idle_s);
    options.log_retention =
        std::chrono::minutes(static_cast<int64_t>(std::ceil(flags->log_retention_days * 24 * 60)));
    IgnoreSigpipe();
    log::Init();
    WarnIfFewDescriptors(options.max_connections);
    auto key = ResolveApiKeyFromEnvironment(flags->api_key_file, /*key_flag=*/"");
    if (!key) {
      log::Error("no usable API key: set AGENT_SWARM_API_KEY (or API_KEY) or pass --api-key-file",
                 {{"error", key.error().message}});
      throw CLI::RuntimeError(2);
    }
    options.api_key = *key;
    RegisterSecret(options.api_key);
    const int status = RunApiServer(options);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace swarm
