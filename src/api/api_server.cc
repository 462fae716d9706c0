#include "api/api_server.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/agent_service.h"
#include "api/create_batcher.h"
#include "api/heartbeats.h"
#include "api/mcp_tools.h"
#include "api/poll_hub.h"
#include "api/routes.h"
#include "api/smoke_backend.h"
#include "api/smoke_service.h"
#include "api/store_executors.h"
#include "api/task_service.h"
#include "api/worker_monitor.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/role_process.h"
#include "core/version.h"
#include "http/access_log.h"
#include "http/server.h"
#include "mcp/endpoint.h"
#include "sandbox/e2b_config.h"
#include "smoke/smoke_runner.h"
#include "store/sqlite_store.h"

namespace swarm {
namespace {

namespace asio = boost::asio;

// What the smoke runs are given, worked out before the server starts.
struct SmokeSetup {
  SmokeExecutor executor;  // empty when smoke runs are off
  std::shared_ptr<SmokeBackend> backend;
  SmokeServiceOptions service;
  smoke::SmokeRequestDefaults defaults;
};

// Everything the running server shares between its threads.
struct Runtime {
  Runtime(Store& store, const ApiServerOptions& options, SmokeSetup& setup)
      : batcher(store),
        agents(store, clock, heartbeats, &hub),
        tasks(store, clock, hub, &batcher),
        monitor(store, clock, heartbeats, hub, options.worker_timeout),
        sessions(store, clock, agents, hub),
        smoke(store, clock, setup.executor, setup.backend ? &setup.backend->sandboxes() : nullptr,
              setup.service),
        mcp_tools(tasks, agents),
        mcp(mcp_tools, RegisteredAgentCheck(agents), clock, McpOptions(options)),
        routes(RoutesOptions{.api_key = options.api_key, .smoke_defaults = setup.defaults}, agents,
               tasks, hub, executors, &smoke, &sessions, &mcp) {}

  static mcp::EndpointOptions McpOptions(const ApiServerOptions& options) {
    mcp::EndpointOptions o;
    o.server_version = BuildVersion();
    o.max_sessions_total = options.mcp_max_sessions;
    o.idle_timeout = options.mcp_session_idle;
    o.max_body_bytes = options.body_limit;
    return o;
  }

  SystemClock clock;
  StoreExecutors executors{2, 1};
  PollHub hub;
  CreateBatcher batcher;
  Heartbeats heartbeats;
  AgentService agents;
  TaskService tasks;
  WorkerMonitor monitor;
  ActiveSessionService sessions;
  SmokeService smoke;
  McpTools mcp_tools;
  mcp::Endpoint mcp;
  ApiRoutes routes;
  std::atomic<bool> stopping{false};
};

asio::awaitable<http::HttpResponse> Dispatch(Runtime* rt, http::HttpRequest request) {
  co_return co_await rt->routes.Dispatch(std::move(request));
}

// Ends MCP sessions that idled past their timeout. In memory only: runs on the I/O thread.
asio::awaitable<void> McpExpiryLoop(Runtime* rt, asio::steady_timer* timer,
                                    std::chrono::milliseconds idle) {
  const auto every = std::clamp<std::chrono::milliseconds>(idle / 4, std::chrono::seconds(1),
                                                           std::chrono::minutes(1));
  while (!rt->stopping) {
    rt->mcp.ExpireIdle();  // logs what it ended
    timer->expires_after(every);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> MonitorLoop(Runtime* rt, asio::steady_timer* timer) {
  while (!rt->stopping) {
    auto sweep = [rt] { return rt->monitor.Sweep(); };
    auto failed = co_await RunOn(rt->executors.writes(), sweep);
    if (!failed) {
      log::Warn("dead-worker sweep failed", {{"error", failed.error().message}});
    } else {
      for (const auto& task : *failed) {
        log::Warn("worker lost", {{"taskId", task.id},
                                  {"agentId", task.agent_id.value_or("")},
                                  {"status", TaskStatusName(task.status)},
                                  {"reason", task.failure_reason.value_or("")}});
      }
    }
    timer->expires_after(rt->monitor.sweep_interval());
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Deletes old log lines in chunks, each its own short write transaction, so retention never
// holds the database lock for long.
asio::awaitable<void> PruneLoop(Runtime* rt, asio::steady_timer* timer,
                                std::chrono::minutes retention) {
  constexpr int kChunk = 5000;
  constexpr auto kEvery = std::chrono::hours(1);
  while (!rt->stopping) {
    const std::string before = FormatIsoTime(rt->clock.Now() - retention);
    PruneCounts total;
    for (bool more = true; more && !rt->stopping;) {
      auto prune = [rt, &before] { return rt->tasks.PruneLogs(before, kChunk); };
      auto pruned = co_await RunOn(rt->executors.writes(), prune);
      if (!pruned) {
        log::Warn("log retention failed", {{"error", pruned.error().message}});
        break;
      }
      total.agent_logs += pruned->agent_logs;
      total.session_logs += pruned->session_logs;
      more = pruned->agent_logs == kChunk || pruned->session_logs == kChunk;
    }
    if (total.agent_logs + total.session_logs > 0) {
      log::Info("log retention", {{"before", before},
                                  {"agentLogs", total.agent_logs},
                                  {"sessionLogs", total.session_logs}});
    }
    timer->expires_after(kEvery);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::string EnvValue(const sandbox::StringMap& env, const char* key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

// The deployment sha agent ids carry when a request names none: the image's commit when
// stamped (AGENT_SWARM_BUILD_SHA), else "local".
std::string DefaultDeploymentSha(const sandbox::StringMap& env) {
  const std::string sha = EnvValue(env, "AGENT_SWARM_BUILD_SHA");
  const bool plain =
      !sha.empty() && sha.size() <= 40 && std::all_of(sha.begin(), sha.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  return plain ? sha : "local";
}

// Works out the smoke runs' backend, credentials and defaults. An error is a reason not to
// start at all (a bad flag, a secrets file open to others, an explicitly chosen backend that
// cannot be had); with --smoke-backend auto a backend that fails to come up only turns smoke
// runs off, with the reason logged and given to every POST /api/smoke-runs.
Result<SmokeSetup> PrepareSmoke(const ApiServerOptions& options) {
  const SmokeApiOptions& o = options.smoke;
  SmokeSetup setup;
  setup.service.max_runs = o.max_runs;
  setup.service.api_version = BuildVersion();
  setup.service.owner = NewUuid();
  const auto env = sandbox::ProcessEnvironment();

  auto requested = ParseSmokeBackendKind(o.backend);
  if (!requested) {
    return BadRequest("--smoke-backend must be one of auto, e2b, local, off; got " + o.backend);
  }
  if (*requested == SmokeBackendKind::kOff) {
    setup.service.disabled_reason =
        "smoke runs are off: the API was started with --smoke-backend off";
    log::Info("smoke runs off (--smoke-backend off)");
    return setup;
  }
  sandbox::StringMap secrets;
  if (!o.secrets_file.empty()) {
    auto read = ReadSmokeSecretsFile(o.secrets_file);
    if (!read) return tl::unexpected(read.error());
    secrets = std::move(*read);
  }
  auto worker_env = ParseWorkerEnv(o.worker_env);
  if (!worker_env) return tl::unexpected(worker_env.error());
  smoke::SmokeEnvironment smoke_env;
  smoke_env.api_version = BuildVersion();
  smoke_env.credentials = SmokeCredentials(env, secrets);
  for (const auto& value : SmokeSecretValues(smoke_env.credentials)) RegisterSecret(value);
  if (auto key = EnvValue(env, "E2B_API_KEY"); !key.empty()) RegisterSecret(key);

  const SmokeBackendKind kind = ResolveSmokeBackendKind(*requested, env);
  auto self = SelfExecutable();
  if (!self) return tl::unexpected(self.error());
  SmokeBackendConfig config;
  config.kind = kind;
  config.template_id = o.template_id;
  config.db_path = options.db_path;
  auto backend = SmokeBackend::Open(config, env, *self);
  if (!backend) {
    if (*requested != SmokeBackendKind::kAuto) return tl::unexpected(backend.error());
    log::Error("smoke runs off: their sandbox backend did not come up",
               {{"backend", SmokeBackendKindName(kind)}, {"error", backend.error().message}});
    setup.service.disabled_reason = fmt::format(
        "smoke runs are unavailable: the {} sandbox backend did not come up (see the API's log; "
        "--smoke-backend chooses another)",
        SmokeBackendKindName(kind));
    return setup;
  }
  setup.backend = std::move(*backend);

  // Names only: which credentials runs can use, for the operator.
  std::vector<std::string> credential_names;
  for (const auto& [name, value] : smoke_env.credentials) credential_names.push_back(name);
  if (kind == SmokeBackendKind::kLocal) smoke_env.worker_env = LocalWorkerEnv(env, *self);
  for (const auto& [key, value] : *worker_env) smoke_env.worker_env[key] = value;
  auto runner = std::make_shared<smoke::SmokeRunner>(setup.backend->sandboxes(),
                                                     setup.backend->http(), std::move(smoke_env));
  // Shared ownership: a run that outlives the shutdown grace keeps what it uses alive.
  setup.executor = [runner, backend = setup.backend](
                       const SmokeRequest& request, const std::string& run_id,
                       const smoke::SmokeProgress& progress, const std::atomic<bool>& stop) {
    return runner->Run(request, run_id, progress, stop);
  };
  setup.defaults.template_id = o.template_id;
  setup.defaults.deployment_sha = DefaultDeploymentSha(env);
  setup.defaults.api_key = options.api_key;
  log::Info("smoke runs ready", {{"backend", SmokeBackendKindName(kind)},
                                 {"sandboxes", setup.backend->endpoint()},
                                 {"template", o.template_id},
                                 {"maxRuns", o.max_runs},
                                 {"credentials", credential_names}});
  return setup;
}

}  // namespace

int RunApiServer(const ApiServerOptions& options) {
  auto store = SqliteStore::Open(options.db_path);
  if (!store) {
    log::Error("cannot open the database",
               {{"path", options.db_path}, {"error", store.error().message}});
    return 1;
  }
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  auto smoke_setup = PrepareSmoke(options);
  if (!smoke_setup) {
    log::Error("cannot set up smoke runs", {{"error", smoke_setup.error().message}});
    return 1;
  }
  Runtime rt(**store, options, *smoke_setup);
  // Before anything is served: a run its predecessor left unfinished reads interrupted at once.
  rt.smoke.InterruptStaleRuns();
  // Declared after `rt`: destroying the io_context destroys suspended coroutines (a long-poll's
  // waiter unregisters from rt.hub), so it must go first.
  asio::io_context io(threads);

  http::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.body_limit = options.body_limit;
  server_options.read_timeout = options.read_timeout;
  server_options.idle_timeout = options.idle_timeout;
  server_options.max_connections = options.max_connections;
  server_options.max_body_waiters = options.max_body_waiters;
  server_options.header_timeout = options.header_timeout;
  // The key is checked on the headers: an unauthenticated body is never read.
  server_options.head_hook = [&rt](const http::HttpRequest& head) {
    return rt.routes.CheckHead(head);
  };
  http::HttpServer server(
      io, server_options,
      [&rt](http::HttpRequest request) { return Dispatch(&rt, std::move(request)); },
      options.access_log ? http::AccessLogger(http::WriteAccessLog) : nullptr);
  http::StopSignals stop_signals(io);  // before "listening": see StopSignals
  auto port = server.Listen();
  if (!port) {
    log::Error("cannot listen",
               {{"host", options.host}, {"port", options.port}, {"error", port.error().message}});
    return 1;
  }
  log::Info("listening", {{"host", options.host},
                          {"port", *port},
                          {"db", options.db_path},
                          {"threads", threads},
                          {"workerTimeoutMs", options.worker_timeout.count()}});
  smoke::SmokeRequestDefaults smoke_defaults = smoke_setup->defaults;
  smoke_defaults.api_url = options.smoke.public_url.empty() ? DefaultPublicUrl(options.host, *port)
                                                            : options.smoke.public_url;
  rt.routes.SetSmokeDefaults(smoke_defaults);
  if (smoke_setup->backend) {
    // Sandboxes in E2B's cloud cannot reach this machine's loopback; a sandboxd on this
    // machine (E2B_API_URL on loopback) can.
    auto is_loopback = [](const std::string& url) {
      return url.find("://127.") != std::string::npos ||
             url.find("://localhost") != std::string::npos ||
             url.find("://[::1]") != std::string::npos;
    };
    if (smoke_setup->backend->kind() == SmokeBackendKind::kE2b &&
        is_loopback(smoke_defaults.api_url) && !is_loopback(smoke_setup->backend->endpoint())) {
      log::Warn("smoke workers in E2B cannot reach a loopback URL: set --public-url",
                {{"publicUrl", smoke_defaults.api_url}});
    }
  }
  rt.smoke.StartSweeper(options.smoke.sweep_interval);

  asio::steady_timer monitor_timer(io);
  asio::co_spawn(io, MonitorLoop(&rt, &monitor_timer), asio::detached);
  asio::steady_timer prune_timer(io);
  if (options.log_retention.count() > 0) {
    asio::co_spawn(io, PruneLoop(&rt, &prune_timer, options.log_retention), asio::detached);
  }

  asio::steady_timer mcp_timer(io);
  asio::co_spawn(io, McpExpiryLoop(&rt, &mcp_timer, options.mcp_session_idle), asio::detached);

  std::chrono::steady_clock::time_point smoke_deadline{};
  http::RunUntilStopped(io, server, stop_signals, threads, options.shutdown_grace, [&] {
    rt.stopping = true;
    // The runs start their cleanup now, beside the connections' drain; both share the grace.
    rt.smoke.RequestStop();
    smoke_deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
    rt.hub.Shutdown();  // open long-polls answer {"trigger":null} now
    rt.mcp.CloseAll();  // open GET /mcp streams end within a second
    monitor_timer.cancel();
    prune_timer.cancel();
    mcp_timer.cancel();
  });
  rt.smoke.Shutdown(std::max(std::chrono::milliseconds(0),
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 smoke_deadline - std::chrono::steady_clock::now())));
  if (smoke_setup->backend)
    smoke_setup->backend->Stop();  // the embedded sandboxd, its sandboxes with it
  rt.executors.Join();             // before the io_context goes: they post completions there
  rt.batcher.Stop();               // likewise
  store->reset();                  // closes the database before we say so
  log::Info("stopped");            // flushes the buffered access lines too
  return 0;
}

}  // namespace swarm
