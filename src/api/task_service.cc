#include "api/task_service.h"

#include <chrono>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/ids.h"

namespace swarm {
namespace {

constexpr char kDefaultCompletedOutput[] = "Completed by runner wrapper (no explicit output)";
constexpr char kDefaultFailureReason[] = "Process exited without explicit completion";
constexpr char kDefaultCancelReason[] = "Cancelled by user";
constexpr auto kRecentCancellations = std::chrono::minutes(5);
// How OutputSchema::JudgeText's reasons for a mismatching output begin.
constexpr std::string_view kMismatchLeadIn = "output does not match outputSchema: ";
// What one list response may carry; the rest is a later page.
constexpr std::size_t kMaxResponseBytes = 8 << 20;

// Whether a repeated finish asks for exactly what is already recorded.
bool SameResult(const Task& task, const FinishRequest& request) {
  if (task.status != request.status) return false;
  if (request.status == TaskStatus::kCompleted) {
    return !request.output || request.output == task.output;
  }
  return !request.failure_reason || request.failure_reason == task.failure_reason;
}

}  // namespace

boost::asio::awaitable<Result<Task>> TaskService::Create(CreateTaskRequest request) {
  NewTask& t = request.task;
  t.id = NewUuid();
  t.now = Now();
  Result<Task> task = Internal("task not created");
  if (batcher_) {
    task = co_await batcher_->Create(std::move(t));
  } else {
    task = store_.CreateTask(t);
  }
  if (task) WakeClaimers(*task);
  co_return task;
}

Result<Task> TaskService::CreateNow(CreateTaskRequest request) {
  NewTask& t = request.task;
  t.id = NewUuid();
  t.now = Now();
  auto task = store_.CreateTask(t);
  if (task) WakeClaimers(*task);
  return task;
}

void TaskService::WakeClaimers(const Task& task) {
  if (task.agent_id) {
    hub_.NotifyAgent(*task.agent_id);
  } else {
    hub_.NotifyPool();
  }
}

Result<TaskDetail> TaskService::Get(const std::string& id, int logs_limit) {
  return store_.GetTaskDetail(id, logs_limit);
}

Result<TaskPage> TaskService::List(const TaskFilter& filter) { return store_.ListTasks(filter); }

Result<Task> TaskService::Cancel(const std::string& id, const std::optional<std::string>& reason,
                                 const std::optional<std::string>& actor, std::string via) {
  TerminalUpdate update;
  update.status = TaskStatus::kCancelled;
  update.failure_reason = reason.value_or(kDefaultCancelReason);
  update.actor_agent_id = actor;
  update.now = Now();
  update.via = std::move(via);
  auto result = store_.FinishTask(id, update);
  if (!result) return tl::unexpected(result.error());
  if (!result->applied) {
    return BadRequest(fmt::format("task {} is already {} and cannot be cancelled", id,
                                  TaskStatusName(result->task.status)));
  }
  // The agent's capacity is free again: it may have pending tasks waiting.
  if (result->task.agent_id) hub_.NotifyAgent(*result->task.agent_id);
  return std::move(result->task);
}

Result<ClaimAttempt> TaskService::Claim(const std::string& agent_id) {
  auto agent = store_.GetAgent(agent_id);
  if (!agent) return tl::unexpected(agent.error());
  // Upstream's dispatch skips an agent blocked on credentials: it could not run the task.
  if (agent->status == AgentStatus::kWaitingForCredentials) return ClaimAttempt{};
  auto claimed = store_.ClaimTask(agent_id, /*include_pool=*/!agent->is_lead, Now());
  if (!claimed) return tl::unexpected(claimed.error());
  ClaimAttempt attempt;
  attempt.task = std::move(*claimed);
  attempt.can_take_pool = !agent->is_lead && agent->active_tasks < agent->max_tasks;
  return attempt;
}

void TaskService::ReleaseClaim(const Task& task) {
  if (!task.agent_id) return;
  auto released = store_.ReleaseClaim(task.id, *task.agent_id, Now());
  if (!released || !*released) return;
  // Back where it came from: wake whoever can take it now.
  auto back = store_.GetTask(task.id);
  if (back) WakeClaimers(*back);
}

Result<Task> TaskService::SetSession(const std::string& id, const SessionRequest& session,
                                     const std::optional<std::string>& agent_id) {
  return store_.SetTaskSession(id, session.session_id, session.provider, session.model, Now(),
                               agent_id);
}

Result<Task> TaskService::SetProgress(const std::string& id, const std::string& progress,
                                      const std::optional<std::string>& agent_id) {
  return store_.SetTaskProgress(id, progress, agent_id, Now());
}

TerminalUpdate TaskService::Judge(const Task& task, const FinishRequest& request,
                                  const std::string& agent, std::string* violation) {
  TerminalUpdate update;
  update.status = request.status;
  update.required_status = TaskStatus::kInProgress;
  update.actor_agent_id = agent;
  update.now = Now();
  if (request.status == TaskStatus::kFailed) {
    update.output = request.output;
    update.failure_reason = request.failure_reason.value_or(kDefaultFailureReason);
    return update;
  }
  update.output = request.output;
  if (!task.output_schema) {
    if (!update.output) update.output = kDefaultCompletedOutput;
    return update;
  }
  auto fail = [&update, violation](std::string reason) {
    update.status = TaskStatus::kFailed;
    update.failure_reason = std::move(reason);
    // The mismatch itself, without the judge's lead-in, for a caller that shows it on its own.
    std::string_view why = *update.failure_reason;
    if (why.starts_with(kMismatchLeadIn)) why.remove_prefix(kMismatchLeadIn.size());
    *violation = why;
  };
  if (!request.output) {
    fail(std::string(kMismatchLeadIn) + "no output was sent");
    return update;
  }
  // Bounded in size, depth and work, and never throws: a hostile output fails the task
  // instead of crashing the API or leaving the task in_progress.
  if (auto reason = OutputSchema::JudgeText(*task.output_schema, *request.output)) {
    fail(std::move(*reason));
  }
  return update;
}

Result<FinishResult> TaskService::Finish(const std::string& id, const std::string& agent_id,
                                         const FinishRequest& request,
                                         const FinishOptions& options) {
  auto task = store_.GetTask(id);
  if (!task) return tl::unexpected(task.error());
  if (task->agent_id != agent_id) {
    return Forbidden(fmt::format("task {} is assigned to {}, not to agent {}", id,
                                 task->agent_id ? "agent " + *task->agent_id : "no agent",
                                 agent_id));
  }
  if (IsTerminal(task->status)) {
    return FinishResult{
        SameResult(*task, request) ? FinishOutcome::kAlreadyFinished : FinishOutcome::kConflict,
        std::move(*task),
        {}};
  }
  if (task->status != TaskStatus::kInProgress) {
    return Conflict(
        fmt::format("task {} is {}, not in_progress: claim it with GET /api/poll "
                    "before finishing it",
                    id, TaskStatusName(task->status)));
  }
  std::string violation;
  TerminalUpdate update = Judge(*task, request, agent_id, &violation);
  if (!violation.empty() && options.reject_mismatch) {
    return FinishResult{FinishOutcome::kRejected, std::move(*task), std::move(violation)};
  }
  update.via = options.via;
  auto result = store_.FinishTask(id, update);
  if (!result) return tl::unexpected(result.error());
  if (!result->applied) {
    // Another terminal write (a cancel, the dead-worker monitor) landed first.
    return FinishResult{SameResult(result->task, request) ? FinishOutcome::kAlreadyFinished
                                                          : FinishOutcome::kConflict,
                        std::move(result->task),
                        {}};
  }
  hub_.NotifyAgent(agent_id);
  return FinishResult{FinishOutcome::kApplied, std::move(result->task), {}};
}

Result<bool> TaskService::AcceptsTaskToken(const std::string& task_id, const std::string& agent_id,
                                           std::chrono::milliseconds grace) {
  auto task = store_.GetTask(task_id);
  if (!task) {
    if (task.error().code == ErrorCode::kNotFound) return false;
    return tl::unexpected(task.error());
  }
  if (task->agent_id != agent_id) return false;
  if (task->status == TaskStatus::kInProgress) return true;
  if (!IsTerminal(task->status) || !task->finished_at) return false;
  // Both are FormatIsoTime text of one fixed shape: they compare as the times do.
  return *task->finished_at > FormatIsoTime(clock_.Now() - grace);
}

Result<std::vector<Task>> TaskService::CancelledTasks(const std::string& agent_id,
                                                      const std::optional<std::string>& task_id) {
  if (task_id) {
    auto task = store_.GetTask(*task_id);
    if (!task) return tl::unexpected(task.error());
    std::vector<Task> out;
    if (task->status == TaskStatus::kCancelled) out.push_back(std::move(*task));
    return out;
  }
  return store_.ListCancelledTasks(agent_id, FormatIsoTime(clock_.Now() - kRecentCancellations));
}

Result<int> TaskService::AppendSessionLogs(SessionLogBatch batch) {
  if (batch.task_id) {
    auto task = store_.GetTask(*batch.task_id);
    if (!task) return tl::unexpected(task.error());
  }
  batch.created_at = Now();
  return store_.AppendSessionLogs(batch);
}

Result<std::vector<SessionLog>> TaskService::SessionLogs(const std::string& task_id, int limit) {
  auto task = store_.GetTask(task_id);
  if (!task) return tl::unexpected(task.error());
  return store_.ListSessionLogs(task_id, limit, kMaxResponseBytes);
}

Result<SessionCost> TaskService::AddSessionCost(SessionCost cost) {
  if (cost.task_id) {
    auto task = store_.GetTask(*cost.task_id);
    if (!task) return tl::unexpected(task.error());
  }
  cost.created_at = Now();
  return store_.AddSessionCost(cost);
}

Result<std::vector<SessionCost>> TaskService::SessionCosts(const CostFilter& filter) {
  return store_.ListSessionCosts(filter);
}

Result<SupersedeResult> TaskService::Supersede(const std::string& id, const std::string& agent_id,
                                               const std::string& reason) {
  SupersedeRequest request;
  request.task_id = id;
  request.agent_id = agent_id;
  request.reason = reason;
  request.resume_task_id = NewUuid();
  request.max_generations = kMaxResumeGenerations;
  request.now = Now();
  auto result = store_.SupersedeTask(request);
  if (!result) return result;
  if (result->resume) WakeClaimers(*result->resume);
  if (result->kind != SupersedeKind::kAlreadyFinished) hub_.NotifyAgent(agent_id);
  return result;
}

Result<Task> TaskService::Pause(const std::string& id, const std::optional<std::string>& agent_id) {
  auto task = store_.PauseTask(id, agent_id, Now());
  if (task && task->agent_id) hub_.NotifyAgent(*task->agent_id);  // a slot is free again
  return task;
}

Result<Task> TaskService::Resume(const std::string& id,
                                 const std::optional<std::string>& agent_id) {
  auto task = store_.ResumeTask(id, agent_id, Now());
  if (task) WakeClaimers(*task);
  return task;
}

}  // namespace swarm
