// Tasks: the contract's rules over the store. Creation checks the outputSchema and wakes the
// long-polls that could claim the task; finishing judges the output against the schema on the
// server; every terminal write is conditional, so the first one wins.
#pragma once

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
};

struct FinishResult {
  FinishOutcome outcome = FinishOutcome::kApplied;
  Task task;
};

class TaskService {
 public:
  // With a batcher, creations share commits; without one, each commits on its own.
  TaskService(Store& store, const Clock& clock, PollHub& hub, CreateBatcher* batcher = nullptr)
      : store_(store), clock_(clock), hub_(hub), batcher_(batcher) {}

  boost::asio::awaitable<Result<Task>> Create(CreateTaskRequest request);
  Result<TaskDetail> Get(const std::string& id, int logs_limit);
  Result<TaskPage> List(const TaskFilter& filter);
  // kBadRequest when the task is already terminal.
  Result<Task> Cancel(const std::string& id, const std::optional<std::string>& reason);

  // One claim attempt for GET /api/poll. kNotFound for an unregistered agent; a lead takes
  // only its own pending tasks, never the pool.
  Result<std::optional<Task>> Claim(const std::string& agent_id);

  Result<Task> SetSession(const std::string& id, const SessionRequest& session);
  Result<Task> SetProgress(const std::string& id, const std::string& progress,
                           const std::optional<std::string>& agent_id);
  // kNotFound, kForbidden (the task belongs to another agent), kConflict (not in progress).
  // A completed result whose output fails the task's outputSchema is written as failed with
  // a reason naming the mismatch, keeping the raw output.
  Result<FinishResult> Finish(const std::string& id, const std::string& agent_id,
                              const FinishRequest& request);
  // Tasks of the agent cancelled in the last five minutes, or the one named (if cancelled).
  Result<std::vector<Task>> CancelledTasks(const std::string& agent_id,
                                           const std::optional<std::string>& task_id);

  Result<int> AppendSessionLogs(SessionLogBatch batch);
  Result<std::vector<SessionLog>> SessionLogs(const std::string& task_id, int limit);
  Result<SessionCost> AddSessionCost(SessionCost cost);
  Result<std::vector<SessionCost>> SessionCosts(const CostFilter& filter);

 private:
  std::string Now() const { return FormatIsoTime(clock_.Now()); }
  // The status and reason a finish request turns into once the output is judged.
  TerminalUpdate Judge(const Task& task, const FinishRequest& request, const std::string& agent);
  void WakeClaimers(const Task& task);

  Store& store_;
  const Clock& clock_;
  PollHub& hub_;
  CreateBatcher* batcher_;
};

}  // namespace swarm
