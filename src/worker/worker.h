// `agent-swarm worker`: waits for the API, registers, long-polls for tasks whenever it has a
// free slot, runs each task on a thread of its own (TaskExecution), heartbeats and watches
// for cancellations on a monitor thread, and on Stop lets running tasks finish within the
// shutdown timeout, hands the rest back (supersede: a resume child waits for this agent), and
// closes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/error.h"
#include "worker/task_execution.h"
#include "worker/task_runner.h"
#include "worker/worker_config.h"

namespace swarm::worker {

// Finds the harness CLI's version (cli_version.h); `cancel` set means stop trying.
using CliVersionProbe = std::function<Result<std::string>(const std::atomic<bool>* cancel)>;

class Worker {
 public:
  // `probe`, when given, runs on a thread of its own from the start of Run: the worker
  // registers without waiting for it (a CLI's --version may take seconds of node start-up on a
  // busy machine) and registers again with the version once it is known.
  Worker(WorkerConfig config, TaskRunner runner, CliVersionProbe probe = {});
  ~Worker();  // joins the task threads (bounded: Run has already cancelled them)
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs until Stop. An error only when the worker cannot start: the API did not become
  // healthy within the ready timeout, or it refused the registration (a 401: wrong key).
  // A Stop before registration returns at once, without error.
  Result<void> Run();

  // Thread-safe, callable from a signal-watching thread. The first call stops polling and
  // starts the shutdown grace period; a second one ends the grace period at once.
  void Stop();

 private:
  struct Slot {
    std::shared_ptr<TaskExecution> execution;
    std::thread thread;
  };

  Result<void> WaitForApi();
  Result<void> Register();
  // PUT /api/agents/{id}/credential-status; a failure is logged, never fatal.
  void ReportCredentials();
  // POST /api/active-sessions/cleanup at boot: sessions a previous process of this AGENT_ID
  // left behind go. Best effort.
  void CleanUpActiveSessions();
  void ProbeCliVersion();
  // The registration body with the CLI version, when known.
  nlohmann::json RegistrationBody();
  void PollLoop();
  void StartTask(ClaimedTask task);
  void FailUnstarted(const ClaimedTask& task, const std::string& reason);
  void Shutdown();
  void MonitorLoop();
  // Returns when to check this task again: its interval, or longer while the checks fail.
  std::chrono::milliseconds CheckCancelled(TaskExecution& execution);
  // Joins the threads of tasks that have ended; returns how many are still running.
  // Caller holds context_->mu.
  std::size_t ReapLocked();
  std::vector<std::shared_ptr<TaskExecution>> RunningTasks();

  std::shared_ptr<WorkerContext> context_;
  const WorkerConfig& config_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> hurry_{false};
  std::atomic<int64_t> stop_requested_at_ns_{0};  // steady clock, set by the first Stop
  std::map<std::string, Slot> tasks_;             // guarded by context_->mu
  std::thread monitor_;
  std::atomic<bool> monitor_stop_{false};
  CliVersionProbe probe_;
  std::thread probe_thread_;
  std::mutex version_mu_;
  std::optional<std::string> cli_version_;  // guarded by version_mu_
  bool registered_ = false;                 // guarded by version_mu_
};

}  // namespace swarm::worker
