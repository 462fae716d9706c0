// Test helpers for the smoke-run service and routes (header only, used by *_test.cc): a Store
// that forwards to a real in-memory SqliteStore and counts (or fails) the smoke-run writes, a
// gate a fake executor waits on, and a bounded wait.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "store/sqlite_store.h"
#include "store/store.h"

namespace swarm::smoke_testing {

// Polls `condition` every 5 ms until it holds or `limit` passes.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Opened once; fake executors wait for it (bounded, so a broken test cannot hang).
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // True when opened within `limit`; `stop`, when given and set, also ends the wait (false).
  bool Wait(const std::atomic<bool>* stop = nullptr,
            std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!open_) {
      if (stop && *stop) return false;
      if (cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                      std::chrono::milliseconds(5))) ==
              std::cv_status::timeout &&
          std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
    }
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A real store (SQLite in memory) behind a wrapper that counts smoke-run writes and can fail
// CreateSmokeRun.
class CountingStore final : public Store {
 public:
  CountingStore() {
    auto opened = SqliteStore::Open(":memory:");
    if (opened) inner_ = std::move(*opened);
  }
  bool ok() const { return inner_ != nullptr; }

  std::atomic<int> creates{0};
  std::atomic<int> updates{0};
  std::atomic<bool> fail_create{false};

  Result<UpsertedAgent> UpsertAgent(const AgentRegistration& reg, const std::string& now) override {
    return inner_->UpsertAgent(reg, now);
  }
  Result<Agent> GetAgent(const std::string& id) override { return inner_->GetAgent(id); }
  Result<std::vector<Agent>> ListAgents() override { return inner_->ListAgents(); }
  Result<Agent> SetAgentStatus(const std::string& id, AgentStatus status,
                               const std::string& now) override {
    return inner_->SetAgentStatus(id, status, now);
  }
  Result<Agent> TouchAgent(const std::string& id, const std::string& now) override {
    return inner_->TouchAgent(id, now);
  }
  Result<Task> CreateTask(const NewTask& task) override { return inner_->CreateTask(task); }
  Result<std::vector<Task>> CreateTasks(const std::vector<NewTask>& tasks) override {
    return inner_->CreateTasks(tasks);
  }
  Result<Task> GetTask(const std::string& id) override { return inner_->GetTask(id); }
  Result<TaskDetail> GetTaskDetail(const std::string& id, int logs_limit) override {
    return inner_->GetTaskDetail(id, logs_limit);
  }
  Result<TaskPage> ListTasks(const TaskFilter& filter) override {
    return inner_->ListTasks(filter);
  }
  Result<std::optional<Task>> ClaimTask(const std::string& agent_id, bool include_pool,
                                        const std::string& now) override {
    return inner_->ClaimTask(agent_id, include_pool, now);
  }
  Result<Task> SetTaskSession(const std::string& task_id, const std::string& session_id,
                              const std::optional<std::string>& provider,
                              const std::optional<std::string>& model, const std::string& now,
                              const std::optional<std::string>& agent_id) override {
    return inner_->SetTaskSession(task_id, session_id, provider, model, now, agent_id);
  }
  Result<Task> SetTaskProgress(const std::string& task_id, const std::string& progress,
                               const std::optional<std::string>& agent_id,
                               const std::string& now) override {
    return inner_->SetTaskProgress(task_id, progress, agent_id, now);
  }
  Result<TerminalResult> FinishTask(const std::string& task_id,
                                    const TerminalUpdate& update) override {
    return inner_->FinishTask(task_id, update);
  }
  Result<std::vector<Task>> FailAgentTasks(const std::string& agent_id, const std::string& reason,
                                           const std::string& now) override {
    return inner_->FailAgentTasks(agent_id, reason, now);
  }
  Result<bool> ReleaseClaim(const std::string& task_id, const std::string& agent_id,
                            const std::string& now) override {
    return inner_->ReleaseClaim(task_id, agent_id, now);
  }
  Result<std::vector<std::string>> AgentsWithActiveTasks() override {
    return inner_->AgentsWithActiveTasks();
  }
  Result<std::vector<Task>> ListCancelledTasks(const std::string& agent_id,
                                               const std::string& since) override {
    return inner_->ListCancelledTasks(agent_id, since);
  }
  Result<Agent> SetAgentCredentials(const CredentialReport& report,
                                    const std::string& now) override {
    return inner_->SetAgentCredentials(report, now);
  }
  Result<SupersedeResult> SupersedeTask(const SupersedeRequest& request) override {
    return inner_->SupersedeTask(request);
  }
  Result<Task> PauseTask(const std::string& task_id, const std::optional<std::string>& agent_id,
                         const std::string& now) override {
    return inner_->PauseTask(task_id, agent_id, now);
  }
  Result<Task> ResumeTask(const std::string& task_id, const std::optional<std::string>& agent_id,
                          const std::string& now) override {
    return inner_->ResumeTask(task_id, agent_id, now);
  }
  Result<LostWorkerRecovery> RecoverLostWorker(const std::string& agent_id,
                                               const std::string& reason, int max_generations,
                                               const std::string& now) override {
    return inner_->RecoverLostWorker(agent_id, reason, max_generations, now);
  }
  Result<ActiveSession> CreateActiveSession(const ActiveSession& session,
                                            int max_per_agent) override {
    return inner_->CreateActiveSession(session, max_per_agent);
  }
  Result<std::vector<std::string>> HeartbeatActiveSession(const std::string& task_id,
                                                          const std::string& now) override {
    return inner_->HeartbeatActiveSession(task_id, now);
  }
  Result<int> DeleteActiveSessionsByTask(const std::string& task_id) override {
    return inner_->DeleteActiveSessionsByTask(task_id);
  }
  Result<int> DeleteAgentActiveSessions(const std::string& agent_id) override {
    return inner_->DeleteAgentActiveSessions(agent_id);
  }
  Result<std::vector<ActiveSession>> ListActiveSessions(const std::optional<std::string>& agent_id,
                                                        int limit) override {
    return inner_->ListActiveSessions(agent_id, limit);
  }
  Result<std::vector<Task>> RecoverOrphanedTasks(const std::string& agent_id,
                                                 const std::string& cutoff,
                                                 const std::string& now) override {
    return inner_->RecoverOrphanedTasks(agent_id, cutoff, now);
  }
  Result<std::vector<AgentLog>> ListTaskLogs(const std::string& task_id, int limit) override {
    return inner_->ListTaskLogs(task_id, limit);
  }
  Result<int> AppendSessionLogs(const SessionLogBatch& batch) override {
    return inner_->AppendSessionLogs(batch);
  }
  Result<std::vector<SessionLog>> ListSessionLogs(const std::string& task_id, int limit,
                                                  std::size_t max_bytes) override {
    return inner_->ListSessionLogs(task_id, limit, max_bytes);
  }
  Result<SessionCost> AddSessionCost(const SessionCost& cost) override {
    return inner_->AddSessionCost(cost);
  }
  Result<std::vector<SessionCost>> ListSessionCosts(const CostFilter& filter) override {
    return inner_->ListSessionCosts(filter);
  }
  Result<PruneCounts> PruneLogs(const std::string& before, int max_rows) override {
    return inner_->PruneLogs(before, max_rows);
  }
  Result<SmokeRun> CreateSmokeRun(const SmokeRun& run) override {
    ++creates;
    if (fail_create) return Unavailable("database is locked (injected)");
    return inner_->CreateSmokeRun(run);
  }
  Result<SmokeRun> UpdateSmokeRun(const SmokeRun& run) override {
    ++updates;
    return inner_->UpdateSmokeRun(run);
  }
  Result<SmokeRun> GetSmokeRun(const std::string& id) override { return inner_->GetSmokeRun(id); }
  Result<SmokeRunPage> ListSmokeRuns(int limit, int offset) override {
    return inner_->ListSmokeRuns(limit, offset);
  }
  Result<std::vector<SmokeRun>> InterruptSmokeRuns(const std::vector<std::string>& live_ids,
                                                   const std::string& reason,
                                                   const std::string& now) override {
    return inner_->InterruptSmokeRuns(live_ids, reason, now);
  }

 private:
  std::unique_ptr<SqliteStore> inner_;
};

}  // namespace swarm::smoke_testing
