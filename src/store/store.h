// The persistence seam. Every method is one atomic unit: the store decides nothing about the
// contract (that is the API service's job) but guarantees that each state change it is asked
// for happens completely or not at all, and that conditional changes (claims, terminal writes)
// are decided inside the same transaction that writes them.
//
// Implementations are thread-safe: the API calls them from several threads at once.
// Timestamps come in from the caller (ISO 8601 text, see FormatIsoTime) so the store never
// reads a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/agent.h"
#include "core/error.h"
#include "core/records.h"
#include "core/smoke_run.h"
#include "core/task.h"

namespace swarm {

// What PruneLogs removed.
struct PruneCounts {
  int64_t agent_logs = 0;
  int64_t session_logs = 0;
};

struct NewTask {
  std::string id;
  std::optional<std::string> agent_id;  // set: status pending; empty: unassigned (the pool)
  std::optional<std::string> creator_agent_id;
  std::string task;
  std::string source = "api";
  std::optional<std::string> task_type;
  std::vector<std::string> tags;
  int priority = 50;
  std::optional<std::string> output_schema;
  std::optional<std::string> model;
  std::optional<std::string> parent_task_id;
  std::string now;
};

struct TaskFilter {
  std::vector<TaskStatus> statuses;  // empty: any
  std::optional<std::string> agent_id;
  std::vector<std::string> sources;  // empty: any
  int limit = 25;
  int offset = 0;
  // The page stops early once its tasks hold this many bytes of text (always at least one
  // task), so a page of large tasks cannot exhaust memory.
  std::size_t max_bytes = 8 << 20;
};

struct TaskPage {
  std::vector<Task> tasks;  // newest lastUpdatedAt first, each with total_cost_usd
  int64_t total = 0;        // matches before limit/offset
  bool truncated = false;   // stopped by max_bytes before `limit`: more follow at offset+size
};

// A terminal write. Applied only while the task is not terminal, and, when `required_status`
// is set, only while the task is in that status.
struct TerminalUpdate {
  TaskStatus status = TaskStatus::kCompleted;  // completed, failed or cancelled
  std::optional<std::string> output;
  std::optional<std::string> failure_reason;
  std::optional<TaskStatus> required_status;
  std::optional<std::string> actor_agent_id;  // recorded in the lifecycle log
  std::string now;
  // Which path wrote the result ("finish", "mcp", "cancel"): the status change's log carries it
  // as metadata {"via": …}, so a task shows where its result came from.
  std::string via = "finish";
};

struct TerminalResult {
  Task task;             // the task after the call
  bool applied = false;  // false: the condition did not hold, nothing was written
};

// A task as GET /api/tasks/{id} shows it, read from one snapshot.
struct TaskDetail {
  Task task;                   // total_cost_usd: the sum of its session costs, if any
  std::vector<AgentLog> logs;  // newest first
};

struct CostFilter {
  std::optional<std::string> task_id;
  std::optional<std::string> agent_id;
  int limit = 100;
};

// Upstream's HEARTBEAT_MAX_RESUME_GENERATIONS default: a task handed back more often than this
// is failed, so a task that kills its worker cannot loop forever.
inline constexpr int kMaxResumeGenerations = 3;

// POST /api/tasks/{id}/supersede, and the dead-worker sweep's crash recovery: the in_progress
// task becomes superseded and a "resume" child carries its work on.
struct SupersedeRequest {
  std::string task_id;
  std::optional<std::string> agent_id;  // the caller: another agent's task is kForbidden
  std::string reason;  // graceful_shutdown | context_limits | manual_supersede | crash_recovery
  std::string resume_task_id;  // the child's id
  // A task already resumed this many times is failed instead of superseded again.
  int max_generations = 3;
  std::string now;
};

enum class SupersedeKind {
  kResumed,          // superseded; `resume` is the child
  kAlreadyFinished,  // terminal before the call: nothing changed
  kFailed,           // past the resume-generation limit: failed, no child
};

struct SupersedeResult {
  SupersedeKind kind = SupersedeKind::kResumed;
  Task task;                   // the original, after the call
  std::optional<Task> resume;  // the child, for kResumed
};

// What the dead-worker sweep did with a lost worker's in_progress tasks.
struct LostWorkerRecovery {
  std::vector<Task> failed;  // no active session (or past the generation limit)
  // Had an active session: resumed (in the pool for a lost worker, whose agent is offline).
  std::vector<SupersedeResult> superseded;
};

struct UpsertedAgent {
  Agent agent;
  bool created = false;  // false: an existing agent registered again
  // The in_progress tasks of the agent's previous runtime instance, failed by this call: those
  // without an active session (or past the resume-generation limit).
  std::vector<Task> restarted_tasks;
  // Those with an active session, superseded (crash_recovery) by this call instead; each
  // resume child pending for this agent (or in the pool when it has no free slot).
  std::vector<SupersedeResult> resumed_tasks;
};

struct SmokeRunPage {
  std::vector<SmokeRun> runs;  // newest created_at first
  int64_t total = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- agents ---
  // Creates the agent (status idle, max_tasks default 1) or updates a known one: an offline
  // agent becomes idle; max_tasks, provider, harness_provider, role, description,
  // capabilities and runtime_instance_id are replaced when given; the name is kept. When the
  // registration names a runtime instance other than the stored one (the worker restarted),
  // the agent's in_progress tasks with an active session are superseded (crash_recovery, the
  // resume child pending for this agent) and the others failed with "worker restarted: …",
  // and the agent's active sessions deleted, all in the same transaction.
  virtual Result<UpsertedAgent> UpsertAgent(const AgentRegistration& reg,
                                            const std::string& now) = 0;
  virtual Result<Agent> GetAgent(const std::string& id) = 0;  // kNotFound
  virtual Result<std::vector<Agent>> ListAgents() = 0;        // by created_at
  virtual Result<Agent> SetAgentStatus(const std::string& id, AgentStatus status,
                                       const std::string& now) = 0;
  // Records activity (last_activity_at); an offline agent comes back as idle, or busy when it
  // holds in_progress tasks. kNotFound for an unknown agent.
  virtual Result<Agent> TouchAgent(const std::string& id, const std::string& now) = 0;

  // --- tasks ---
  // Inserts the task and its "task_created" lifecycle log.
  virtual Result<Task> CreateTask(const NewTask& task) = 0;
  // Inserts all the tasks and their "task_created" logs in one transaction (group commit:
  // N creations pay for one commit). All or nothing.
  virtual Result<std::vector<Task>> CreateTasks(const std::vector<NewTask>& tasks) = 0;
  virtual Result<Task> GetTask(const std::string& id) = 0;  // kNotFound
  // The task, its newest `logs_limit` lifecycle logs and its cost, in one read.
  virtual Result<TaskDetail> GetTaskDetail(const std::string& id, int logs_limit) = 0;
  virtual Result<TaskPage> ListTasks(const TaskFilter& filter) = 0;
  // The atomic claim behind GET /api/poll. If the agent is registered and holds fewer
  // in_progress tasks than its max_tasks, moves the best claimable task to in_progress for
  // it and marks the agent busy: first its own pending tasks, then (when include_pool)
  // unassigned ones; best = priority DESC, then created_at ASC. Writes "task_claimed" and
  // "task_status_change" logs. nullopt when nothing is claimable. A task is claimed by
  // exactly one caller however many call at once.
  virtual Result<std::optional<Task>> ClaimTask(const std::string& agent_id, bool include_pool,
                                                const std::string& now) = 0;
  // Session and progress land only while the task is not terminal and, when `agent_id` is
  // given, held by that agent; otherwise kConflict (kNotFound for an unknown task). One
  // exception: a terminal task without a session id takes its holder's first one (the agent
  // finished it through MCP before the worker reported the session).
  virtual Result<Task> SetTaskSession(const std::string& task_id, const std::string& session_id,
                                      const std::optional<std::string>& provider,
                                      const std::optional<std::string>& model,
                                      const std::string& now,
                                      const std::optional<std::string>& agent_id) = 0;
  virtual Result<Task> SetTaskProgress(const std::string& task_id, const std::string& progress,
                                       const std::optional<std::string>& agent_id,
                                       const std::string& now) = 0;
  // Writes a terminal status if the task is not terminal yet (see TerminalUpdate), logs the
  // status change, and sets the task's agent idle when it holds no other in_progress task.
  // kNotFound for an unknown task.
  virtual Result<TerminalResult> FinishTask(const std::string& task_id,
                                            const TerminalUpdate& update) = 0;
  // Dead-worker recovery: every in_progress task of the agent becomes failed with `reason`,
  // and the agent offline, in one transaction. Returns the tasks it failed.
  virtual Result<std::vector<Task>> FailAgentTasks(const std::string& agent_id,
                                                   const std::string& reason,
                                                   const std::string& now) = 0;
  // Gives back a claim whose delivery failed (the poll's response could not be written): an
  // in_progress task held by `agent_id` that has no session yet returns to where the claim
  // took it from, pending for that agent or unassigned in the pool. False when the task was
  // not in that state (the worker already reported on it), so nothing changed.
  virtual Result<bool> ReleaseClaim(const std::string& task_id, const std::string& agent_id,
                                    const std::string& now) = 0;
  // Ids of agents holding at least one in_progress task.
  virtual Result<std::vector<std::string>> AgentsWithActiveTasks() = 0;
  // The agent's tasks cancelled at or after `since`.
  virtual Result<std::vector<Task>> ListCancelledTasks(const std::string& agent_id,
                                                       const std::string& since) = 0;

  // --- upstream worker compatibility ---
  // Stores a worker's credential report: ready false → waiting_for_credentials (the agent
  // claims nothing), ready true → idle, or busy while it holds in_progress tasks. Missing is
  // kept only while not ready. Absent fields keep the stored value. kNotFound if unknown.
  virtual Result<Agent> SetAgentCredentials(const CredentialReport& report,
                                            const std::string& now) = 0;
  // Supersedes an in_progress task and creates its "resume" child in one transaction: same
  // text, outputSchema, priority, creator and source; tags + "auto-resume", "reason:<r>",
  // "resume-generation:<n>"; parent_task_id set; pending for the same agent when it is not
  // offline and has a free slot, else unassigned (the pool). Past max_generations the task is
  // failed instead. Logs task_status_change and task_superseded ({reason, resumeTaskId}).
  // kNotFound, kForbidden (another agent's task), kConflict (neither in_progress nor
  // terminal); a terminal task gives kAlreadyFinished.
  virtual Result<SupersedeResult> SupersedeTask(const SupersedeRequest& request) = 0;
  // in_progress → paused (upstream's legacy hand-back). Resume: paused → in_progress when its
  // holder (`agent_id`) resumes it, as upstream's worker runs it at once; paused → pending (or
  // unassigned) for its agent when an operator does.
  // kNotFound, kForbidden (`agent_id` given and not the holder), kConflict (wrong status).
  virtual Result<Task> PauseTask(const std::string& task_id,
                                 const std::optional<std::string>& agent_id,
                                 const std::string& now) = 0;
  virtual Result<Task> ResumeTask(const std::string& task_id,
                                  const std::optional<std::string>& agent_id,
                                  const std::string& now) = 0;
  // Dead-worker recovery with sessions: the agent goes offline; each in_progress task with an
  // active session is superseded (crash_recovery) with its child in the pool (within
  // max_generations), the others fail with `reason`; the agent's active sessions go. One
  // transaction.
  virtual Result<LostWorkerRecovery> RecoverLostWorker(const std::string& agent_id,
                                                       const std::string& reason,
                                                       int max_generations,
                                                       const std::string& now) = 0;

  // --- active sessions ---
  // Inserts the session (id, started_at and last_heartbeat_at filled by the caller). kConflict
  // when the agent already holds `max_per_agent` sessions.
  virtual Result<ActiveSession> CreateActiveSession(const ActiveSession& session,
                                                    int max_per_agent) = 0;
  // Renews the sessions of the task; returns their agents' ids (empty: no such session).
  virtual Result<std::vector<std::string>> HeartbeatActiveSession(const std::string& task_id,
                                                                  const std::string& now) = 0;
  virtual Result<int> DeleteActiveSessionsByTask(const std::string& task_id) = 0;
  virtual Result<int> DeleteAgentActiveSessions(const std::string& agent_id) = 0;
  // Newest first, at most `limit`.
  virtual Result<std::vector<ActiveSession>> ListActiveSessions(
      const std::optional<std::string>& agent_id, int limit) = 0;
  // Upstream's worker-side orphan recovery: the agent's in_progress tasks with no active
  // session, no provider session id and no update since `cutoff` go back to pending for it.
  virtual Result<std::vector<Task>> RecoverOrphanedTasks(const std::string& agent_id,
                                                         const std::string& cutoff,
                                                         const std::string& now) = 0;

  // --- logs and costs ---
  virtual Result<std::vector<AgentLog>> ListTaskLogs(const std::string& task_id,
                                                     int limit) = 0;  // newest first
  // Appends the lines with line numbers continuing per (task, session). Returns the count.
  virtual Result<int> AppendSessionLogs(const SessionLogBatch& batch) = 0;
  // Oldest first; stops early once the lines hold `max_bytes` (always at least one line).
  virtual Result<std::vector<SessionLog>> ListSessionLogs(const std::string& task_id, int limit,
                                                          std::size_t max_bytes) = 0;
  virtual Result<SessionCost> AddSessionCost(const SessionCost& cost) = 0;  // id filled in
  virtual Result<std::vector<SessionCost>> ListSessionCosts(const CostFilter& filter) = 0;

  // --- retention ---
  // Deletes lifecycle and session log lines created before `before` whose task is terminal
  // (or gone), at most `max_rows` of each kind per call, so one prune never holds the write
  // lock for long.
  virtual Result<PruneCounts> PruneLogs(const std::string& before, int max_rows) = 0;

  // --- smoke runs ---
  // The run is stored with its request redacted (RedactedSmokeRequest) whatever it holds.
  // kConflict when the id exists.
  virtual Result<SmokeRun> CreateSmokeRun(const SmokeRun& run) = 0;
  // Replaces status, ok, results, updated_at and finished_at, only while the stored run is
  // running: a run already interrupted (or finished) stays as it is and the call is a
  // kConflict. kNotFound for an unknown id.
  virtual Result<SmokeRun> UpdateSmokeRun(const SmokeRun& run) = 0;
  virtual Result<SmokeRun> GetSmokeRun(const std::string& id) = 0;  // kNotFound
  virtual Result<SmokeRunPage> ListSmokeRuns(int limit, int offset) = 0;
  // Every running run whose id is not in `live_ids` becomes interrupted: finished_at = now,
  // ok false, and each result not done yet gets phase done and `reason` as its failure
  // reason. Returns the runs it changed.
  virtual Result<std::vector<SmokeRun>> InterruptSmokeRuns(const std::vector<std::string>& live_ids,
                                                           const std::string& reason,
                                                           const std::string& now) = 0;
};

}  // namespace swarm
