// One claimed task, run on its own thread: fresh directories, the harness through the
// TaskRunner, and the reports upstream's runner makes (session id as soon as it appears, raw
// lines in batches, cost after the run, finish as the last word). The worker's monitor
// thread flushes its logs and flips its cancel flag; everything else happens in Run.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "harness/adapter.h"
#include "worker/log_batcher.h"
#include "worker/retry.h"
#include "worker/task_report.h"
#include "worker/worker_context.h"

namespace swarm::worker {

// While the API fails them, heartbeats, cancellation checks and log uploads back off up to
// this (or their own interval, if longer): well under the API's default 60 s worker timeout.
inline constexpr std::chrono::milliseconds kMonitorBackoffMax{10'000};

class TaskExecution {
 public:
  TaskExecution(std::shared_ptr<WorkerContext> context, ClaimedTask task);

  // Runs the task to its end and reports it. Never throws.
  void Run();
  // Set by the worker once Run has returned (under its lock, so a waiter that sees it can
  // join the thread at once).
  void MarkDone() { done_ = true; }

  // The API says the task was cancelled: stop the run, do not finish it (it is terminal).
  void CancelByServer();
  // The worker is stopping: stop the run and hand the task back (HandBackTask).
  void CancelForShutdown();

  // Monitor, every tick: sends the session id once it is known and the log batches that are
  // due. Network I/O stays off the thread reading the CLI's output.
  void Report(LogBatcher::Clock::time_point now);

  // The task's active session (POST /api/active-sessions), opened by Run before the CLI starts:
  // while it exists the API resumes the task rather than failing it if this worker dies.
  bool active_session_open() const { return active_session_open_.load(); }
  // Monitor, at the heartbeat cadence: renews the active session. Returns when to renew it
  // next: the heartbeat interval, or longer while renewals fail.
  std::chrono::milliseconds RenewActiveSession();
  // DELETE /api/active-sessions/by-task/{id}, best effort; once (later calls do nothing). Run
  // calls it when the task has ended; the worker for a task that would not stop.
  void EndActiveSession();

  const std::string& id() const { return task_.id; }
  bool done() const { return done_.load(); }
  bool cancel_requested() const { return cancel_.load(); }

 private:
  void OpenActiveSession();
  harness::RunResult RunHarness(const harness::TaskRun& run);
  // "mcp server connected", or a warning that it was not, as far as the CLI told.
  void LogMcpConnection(const harness::RunResult& result);
  // Sends the session id if one is known and not yet sent. Either thread; the lock keeps it
  // to one PUT, finished before the task's finish.
  void ReportSession();
  // False when the API did not take them (they stay buffered, and uploads pause a while).
  bool SendLogs(const std::vector<std::string>& lines);
  void ReportCost(const harness::RunResult& result);
  void ReportFinish(const harness::RunResult& result);

  std::shared_ptr<WorkerContext> context_;
  const ClaimedTask task_;
  const Steady::time_point claimed_at_ = Steady::now();  // the finish's deadline counts from it
  const std::string runner_session_id_;                  // ours, for logs and costs (as upstream)
  LogBatcher logs_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> cancelled_by_server_{false};
  std::atomic<bool> cancelled_for_shutdown_{false};
  std::atomic<bool> done_{false};

  std::mutex logs_pause_mu_;  // guards the two below; never held across I/O
  Backoff logs_backoff_;
  Steady::time_point logs_paused_until_{};

  std::atomic<bool> active_session_open_{false};
  // Held across a renewal's PUT and the end's DELETE: no renewal reaches the API after the
  // session was ended (the end waits for one in flight; a renewal skips while the end runs).
  std::mutex active_session_mu_;
  Backoff session_renew_backoff_;       // monitor only
  bool session_renew_failing_ = false;  // monitor only: warn once per streak of failures

  std::mutex session_send_mu_;     // held while reporting: one PUT, done before the finish
  bool session_reported_ = false;  // guarded by session_send_mu_
  std::mutex session_mu_;          // guards the two below; never held across I/O
  std::optional<std::string> session_id_;
  std::optional<std::string> session_model_;

 public:
  // When the monitor should next ask the API whether this task was cancelled, and how long
  // it waits after a failed check. Monitor only. (Declared after the context it is made from.)
  LogBatcher::Clock::time_point next_cancel_check{};
  Backoff cancel_check_backoff;
  // When the monitor should next renew the active session. Monitor only.
  LogBatcher::Clock::time_point next_session_renewal{};
};

}  // namespace swarm::worker
