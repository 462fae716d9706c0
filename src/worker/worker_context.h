// What the loop, the monitor and every task thread share. Held by shared_ptr so a task thread
// that outlives the worker (a runner that ignored its cancel flag past every bound) still
// touches live objects; the process then exits around it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "client/swarm_client.h"
#include "core/ids.h"
#include "http/client.h"
#include "worker/task_runner.h"
#include "worker/worker_config.h"

namespace swarm::worker {

struct WorkerContext {
  WorkerContext(WorkerConfig config_in, TaskRunner runner_in)
      : config(std::move(config_in)),
        client(http, SwarmClientOptions{config.api_url, config.api_key, config.agent_id}),
        runner(std::move(runner_in)) {}

  const WorkerConfig config;
  http::CurlHttpClient http;
  SwarmClient client;  // thread-safe: Call only reads its options
  const TaskRunner runner;
  // This process's registration, sent as runtimeInstanceId: the API fails the running tasks
  // of an earlier process registered under the same AGENT_ID (it was restarted).
  const std::string runtime_instance_id = NewUuid();
  // config.mcp_auth once resolved against the API's /health (WaitForApi); off until then.
  std::atomic<McpAuth> mcp_auth{McpAuth::kOff};

  // When the shutdown grace period ends, once the worker is stopping (steady clock).
  std::optional<std::chrono::steady_clock::time_point> stop_deadline() const {
    const int64_t ns = stop_deadline_ns.load();
    if (ns == 0) return std::nullopt;
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns));
  }
  void set_stop_deadline(std::chrono::steady_clock::time_point at) {
    stop_deadline_ns = std::max<int64_t>(at.time_since_epoch().count(), 1);
  }

  // Signalled when a task ends or the worker is told to stop.
  std::mutex mu;
  std::condition_variable cv;

 private:
  std::atomic<int64_t> stop_deadline_ns{0};  // 0: not stopping
};

}  // namespace swarm::worker
