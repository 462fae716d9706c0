// The default Store: one SQLite file in WAL mode.
//
// Concurrency model. Every write goes through one writer connection, guarded by a mutex, inside
// a BEGIN IMMEDIATE transaction, so conditional writes (claims, terminal writes) are decided and
// applied atomically, also against other processes using the same file. Read-only methods use a
// small pool of read-only connections, which WAL lets run alongside the writer. A read statement
// is reset as soon as its method returns, so it never pins an old snapshot: a read issued after
// a write returned sees that write. Each connection caches its prepared statements. WAL
// checkpoints (the only fsyncs) run on a background thread with a connection of their own, so
// they never hold up a write transaction.
//
// Thread-safe: any method may be called from any thread. The store must outlive every call.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace swarm {

namespace sqlite_detail {
class Connection;    // one SQLite connection with its statement cache; see sqlite_store.cc
class Checkpointer;  // the background WAL checkpoint thread; see sqlite_store.cc
}  // namespace sqlite_detail

struct SqliteStoreOptions {
  // Most read-only connections open at once; readers beyond that wait for one to be free.
  // Connections are opened on demand.
  int max_readers = 4;
  // WAL size, in pages, past which a background thread checkpoints it back into the database
  // file. 0 leaves checkpoints to SQLite, inside the commit that crosses 1000 pages.
  int checkpoint_pages = 1000;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at `path`, sets the PRAGMAs (WAL, synchronous=NORMAL,
  // busy_timeout, foreign_keys) and applies pending migrations. ":memory:" (or "") gives a
  // private in-memory database; reads then share the writer connection, since every in-memory
  // connection would be a database of its own.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const SqliteStoreOptions& options);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // --- agents ---
  Result<UpsertedAgent> UpsertAgent(const AgentRegistration& reg, const std::string& now) override;
  Result<Agent> GetAgent(const std::string& id) override;
  Result<std::vector<Agent>> ListAgents() override;
  Result<Agent> SetAgentStatus(const std::string& id, AgentStatus status,
                               const std::string& now) override;
  Result<Agent> TouchAgent(const std::string& id, const std::string& now) override;

  // --- tasks ---
  Result<Task> CreateTask(const NewTask& task) override;
  Result<std::vector<Task>> CreateTasks(const std::vector<NewTask>& tasks) override;
  Result<Task> GetTask(const std::string& id) override;
  Result<TaskDetail> GetTaskDetail(const std::string& id, int logs_limit) override;
  Result<TaskPage> ListTasks(const TaskFilter& filter) override;
  Result<std::optional<Task>> ClaimTask(const std::string& agent_id, bool include_pool,
                                        const std::string& now) override;
  Result<Task> SetTaskSession(const std::string& task_id, const std::string& session_id,
                              const std::optional<std::string>& provider,
                              const std::optional<std::string>& model, const std::string& now,
                              const std::optional<std::string>& agent_id) override;
  Result<Task> SetTaskProgress(const std::string& task_id, const std::string& progress,
                               const std::optional<std::string>& agent_id,
                               const std::string& now) override;
  Result<TerminalResult> FinishTask(const std::string& task_id,
                                    const TerminalUpdate& update) override;
  Result<std::vector<Task>> FailAgentTasks(const std::string& agent_id, const std::string& reason,
                                           const std::string& now) override;
  Result<bool> ReleaseClaim(const std::string& task_id, const std::string& agent_id,
                            const std::string& now) override;
  Result<std::vector<std::string>> AgentsWithActiveTasks() override;
  Result<std::vector<Task>> ListCancelledTasks(const std::string& agent_id,
                                               const std::string& since) override;

  // --- upstream worker compatibility ---
  Result<Agent> SetAgentCredentials(const CredentialReport& report,
                                    const std::string& now) override;
  Result<SupersedeResult> SupersedeTask(const SupersedeRequest& request) override;
  Result<Task> PauseTask(const std::string& task_id, const std::optional<std::string>& agent_id,
                         const std::string& now) override;
  Result<Task> ResumeTask(const std::string& task_id, const std::optional<std::string>& agent_id,
                          const std::string& now) override;
  Result<LostWorkerRecovery> RecoverLostWorker(const std::string& agent_id,
                                               const std::string& reason, int max_generations,
                                               const std::string& now) override;
  Result<ActiveSession> CreateActiveSession(const ActiveSession& session,
                                            int max_per_agent) override;
  Result<std::vector<std::string>> HeartbeatActiveSession(const std::string& task_id,
                                                          const std::string& now) override;
  Result<int> DeleteActiveSessionsByTask(const std::string& task_id) override;
  Result<int> DeleteAgentActiveSessions(const std::string& agent_id) override;
  Result<std::vector<ActiveSession>> ListActiveSessions(const std::optional<std::string>& agent_id,
                                                        int limit) override;
  Result<std::vector<Task>> RecoverOrphanedTasks(const std::string& agent_id,
                                                 const std::string& cutoff,
                                                 const std::string& now) override;

  // --- logs and costs ---
  Result<std::vector<AgentLog>> ListTaskLogs(const std::string& task_id, int limit) override;
  Result<int> AppendSessionLogs(const SessionLogBatch& batch) override;
  Result<std::vector<SessionLog>> ListSessionLogs(const std::string& task_id, int limit,
                                                  std::size_t max_bytes) override;
  Result<SessionCost> AddSessionCost(const SessionCost& cost) override;
  Result<std::vector<SessionCost>> ListSessionCosts(const CostFilter& filter) override;

  // --- retention ---
  Result<PruneCounts> PruneLogs(const std::string& before, int max_rows) override;

  Result<SmokeRun> CreateSmokeRun(const SmokeRun& run) override;
  Result<SmokeRun> UpdateSmokeRun(const SmokeRun& run) override;
  Result<SmokeRun> GetSmokeRun(const std::string& id) override;
  Result<SmokeRunPage> ListSmokeRuns(int limit, int offset) override;
  Result<std::vector<SmokeRun>> InterruptSmokeRuns(const std::vector<std::string>& live_ids,
                                                   const std::string& reason,
                                                   const std::string& now) override;

 private:
  using Connection = sqlite_detail::Connection;
  class ReaderLease;

  SqliteStore(std::string path, bool shared_connection, std::unique_ptr<Connection> writer,
              std::unique_ptr<sqlite_detail::Checkpointer> checkpointer,
              const SqliteStoreOptions& options);

  // Runs `body(Connection&)` on the writer connection inside BEGIN IMMEDIATE; commits when it
  // returns a value, rolls back when it returns an error or throws. Maps exceptions to Errors.
  template <typename F>
  auto Write(std::string_view op, F&& body);
  // Runs `body(Connection&)` on a pooled reader connection. Maps exceptions to Errors.
  template <typename F>
  auto Read(std::string_view op, F&& body);

  std::unique_ptr<Connection> OpenReader() const;

  const std::string path_;
  const bool shared_connection_;  // in-memory: readers borrow the writer connection
  const int max_readers_;

  std::mutex writer_mu_;
  std::unique_ptr<Connection> writer_;  // guarded by writer_mu_; the last connection closed
  std::unique_ptr<sqlite_detail::Checkpointer> checkpointer_;  // null for in-memory databases

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by pool_mu_
  int open_readers_ = 0;                                   // guarded by pool_mu_
};

}  // namespace swarm
