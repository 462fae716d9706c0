#include "api/api_server.h"

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/agent_service.h"
#include "api/create_batcher.h"
#include "api/heartbeats.h"
#include "api/poll_hub.h"
#include "api/routes.h"
#include "api/store_executors.h"
#include "api/task_service.h"
#include "api/worker_monitor.h"
#include "core/log.h"
#include "http/access_log.h"
#include "http/server.h"
#include "store/sqlite_store.h"

namespace swarm {
namespace {

namespace asio = boost::asio;

// Everything the running server shares between its threads.
struct Runtime {
  Runtime(Store& store, const ApiServerOptions& options)
      : batcher(store),
        agents(store, clock, heartbeats),
        tasks(store, clock, hub, &batcher),
        monitor(store, clock, heartbeats, hub, options.worker_timeout),
        routes(RoutesOptions{options.api_key}, agents, tasks, hub, executors) {}

  SystemClock clock;
  StoreExecutors executors{2, 1};
  PollHub hub;
  CreateBatcher batcher;
  Heartbeats heartbeats;
  AgentService agents;
  TaskService tasks;
  WorkerMonitor monitor;
  ApiRoutes routes;
  std::atomic<bool> stopping{false};
};

asio::awaitable<http::HttpResponse> Dispatch(Runtime* rt, http::HttpRequest request) {
  co_return co_await rt->routes.Dispatch(std::move(request));
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
  Runtime rt(**store, options);
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

  asio::steady_timer monitor_timer(io);
  asio::co_spawn(io, MonitorLoop(&rt, &monitor_timer), asio::detached);
  asio::steady_timer prune_timer(io);
  if (options.log_retention.count() > 0) {
    asio::co_spawn(io, PruneLoop(&rt, &prune_timer, options.log_retention), asio::detached);
  }

  http::RunUntilStopped(io, server, stop_signals, threads, options.shutdown_grace, [&] {
    rt.stopping = true;
    rt.hub.Shutdown();  // open long-polls answer {"trigger":null} now
    monitor_timer.cancel();
    prune_timer.cancel();
  });
  rt.executors.Join();   // before the io_context goes: they post completions there
  rt.batcher.Stop();     // likewise
  store->reset();        // closes the database before we say so
  log::Info("stopped");  // flushes the buffered access lines too
  return 0;
}

}  // namespace swarm
