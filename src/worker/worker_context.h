// What the loop, the monitor and every task thread share. Held by shared_ptr so a task thread
// that outlives the worker (a runner that ignored its cancel flag past every bound) still
// touches live objects; the process then exits around it.
#pragma once

#include <condition_variable>
#include <mutex>

#include "client/swarm_client.h"
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

  // Signalled when a task ends or the worker is told to stop.
  std::mutex mu;
  std::condition_variable cv;
};

}  // namespace swarm::worker
