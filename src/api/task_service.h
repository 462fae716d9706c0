// Tasks: the contract's rules over the store. Creation checks the outputSchema and wakes the
// long-polls that could claim the task; finishing judges the output against the schema on the
// server; every terminal write is conditional, so the first one wins.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "api/create_batcher.h"
#include "api/poll_hub.h"
#include "api/requests.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/records.h"
#include "core/task.h"
#include "store/store.h"

namespace swarm {

enum class FinishOutcome {
  kApplied,          // this call's result was written
  kAlreadyFinished,  // terminal before; the same result was sent again: no-op
  kConflict,         // terminal before with a different result: the first one stands
  kRejected,         // judged without writing (FinishOptions::reject_mismatch): not applied
};

struct FinishOptions {
  // MCP store-progress: a completed output that fails the outputSchema is refused and nothing
  // is written, so the agent can fix it in the same session. /finish (false) writes such a
  // result as failed: it is the last word on the task.
  bool reject_mismatch = false;
  std::string via = "finish";  // recorded with the status change (TerminalUpdate::via)
};

struct ClaimAttempt {
  std::optional<Task> task;  // the task claimed, if any
  // Whether the agent could take a pool task (not a lead, a free slot): a poll that waits
  // registers for pool wake-ups only then.
  bool can_take_pool = false;
};

struct FinishResult {
  FinishOutcome outcome = FinishOutcome::kApplied;
  Task task;
  // kRejected: why the output does not match, e.g. `reply: Failed to match … (got "ping")`.
  std::string violation;
};

class TaskService {
 public:
  // With a batcher, creations share commits; without one, each commits on its own.
  TaskService(Store& store, const Clock& clock, PollHub& hub, CreateBatcher* batcher = nullptr)
      : store_(store), clock_(clock), hub_(hub), batcher_(batcher) {}

  boost::asio::awaitable<Result<Task>> Create(CreateTaskRequest request);
  // The same without the batcher, for callers already on a store thread (MCP send-task).
  Result<Task> CreateNow(CreateTaskRequest request);
  Result<Task> GetTask(const std::string& id) { return store_.GetTask(id); }
  Result<TaskDetail> Get(const std::string& id, int logs_limit);
  Result<TaskPage> List(const TaskFilter& filter);
  // kBadRequest when the task is already terminal. `actor` (who cancels) and `via` go to the
  // status change's log.
  Result<Task> Cancel(const std::string& id, const std::optional<std::string>& reason,
                      const std::optional<std::string>& actor = std::nullopt,
                      std::string via = "cancel");

  // One claim attempt for GET /api/poll. kNotFound for an unregistered agent; a lead takes
  // only its own pending tasks, never the pool.
  Result<ClaimAttempt> Claim(const std::string& agent_id);
  // The poll that claimed `task` could not deliver it (its client hung up, the write failed):
  // unless the worker already acted on it, the task goes back to its agent's pending tasks
  // or to the pool, and a waiting poll is woken for it.
  void ReleaseClaim(const Task& task);

  // Both are kConflict on a terminal task, and on another agent's task when `agent_id` is set.
  Result<Task> SetSession(const std::string& id, const SessionRequest& session,
                          const std::optional<std::string>& agent_id);
  Result<Task> SetProgress(const std::string& id, const std::string& progress,
                           const std::optional<std::string>& agent_id);
  // kNotFound, kForbidden (the task belongs to another agent), kConflict (not in progress).
  // A completed result whose output fails the task's outputSchema is written as failed with
  // a reason naming the mismatch, keeping the raw output (unless options.reject_mismatch).
  Result<FinishResult> Finish(const std::string& id, const std::string& agent_id,
                              const FinishRequest& request, const FinishOptions& options = {});
  // Whether a task-scoped MCP token (core/mcp_token.h) of `agent_id` for `task_id` is still
  // good: the agent holds the task and it is in progress, or finished less than `grace` ago
  // (the agent may still read its result back). kNotFound counts as not good.
  Result<bool> AcceptsTaskToken(const std::string& task_id, const std::string& agent_id,
                                std::chrono::milliseconds grace = std::chrono::minutes(10));
  // Tasks of the agent cancelled in the last five minutes, or the one named (if cancelled).
  Result<std::vector<Task>> CancelledTasks(const std::string& agent_id,
                                           const std::optional<std::string>& task_id);

  Result<int> AppendSessionLogs(SessionLogBatch batch);
  Result<std::vector<SessionLog>> SessionLogs(const std::string& task_id, int limit);
  Result<SessionCost> AddSessionCost(SessionCost cost);
  // Retention: deletes up to `max_rows` of each kind of log line of finished tasks created
  // before `before`.
  Result<PruneCounts> PruneLogs(const std::string& before, int max_rows) {
    return store_.PruneLogs(before, max_rows);
  }
  Result<std::vector<SessionCost>> SessionCosts(const CostFilter& filter);

  // POST /api/tasks/{id}/supersede by `agent_id`: the task becomes superseded and its "resume"
  // child pending for the agent (or in the pool), past kMaxResumeGenerations failed instead
  // (Store::SupersedeTask). Wakes whoever can claim the child.
  Result<SupersedeResult> Supersede(const std::string& id, const std::string& agent_id,
                                    const std::string& reason);
  // Upstream's legacy hand-back: in_progress → paused; resumed, in_progress again when its
  // holder resumes it (the caller runs it), else pending for its agent (Store::ResumeTask).
  Result<Task> Pause(const std::string& id, const std::optional<std::string>& agent_id);
  Result<Task> Resume(const std::string& id, const std::optional<std::string>& agent_id);

 private:
  std::string Now() const { return FormatIsoTime(clock_.Now()); }
  // The status and reason a finish request turns into once the output is judged.
  TerminalUpdate Judge(const Task& task, const FinishRequest& request, const std::string& agent,
                       std::string* violation);
  void WakeClaimers(const Task& task);

  Store& store_;
  const Clock& clock_;
  PollHub& hub_;
  CreateBatcher* batcher_;
};

}  // namespace swarm
