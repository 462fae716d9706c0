#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/bounded_json.h"
#include "core/clock.h"
#include "core/ids.h"
#include "store/migrations.h"
#include "store/migrator.h"

namespace swarm {
namespace {

// ---------------------------------------------------------------------------------------------
// SQL. Column lists are shared between statements so that every row decoder reads one layout.

// A NUL-terminated string built at compile time from string literals.
template <std::size_t N>
struct SqlText {
  std::array<char, N> text{};
  constexpr operator std::string_view() const { return {text.data(), N - 1}; }
};

template <std::size_t... N>
constexpr auto Concat(const char (&... parts)[N]) {
  SqlText<(N + ...) - sizeof...(N) + 1> out;
  std::size_t pos = 0;
  auto append = [&](const char* part, std::size_t size) {
    for (std::size_t i = 0; i + 1 < size; ++i) out.text[pos++] = part[i];
  };
  (append(parts, N), ...);
  out.text[pos] = '\0';
  return out;
}

constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kBeginRead[] = "BEGIN";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kTouchSchema[] = "SELECT COUNT(*) FROM sqlite_master";

// Read in this order by TaskFromRow.
constexpr char kTaskColumns[] =
    "id, agent_id, creator_agent_id, task, status, source, task_type, tags, priority, "
    "output_schema, output, failure_reason, progress, session_id, provider, model, created_at, "
    "last_updated_at, started_at, finished_at, parent_task_id";

// Read in this order by AgentFromRow. active_tasks is derived, never stored.
constexpr char kAgentColumns[] =
    "id, name, is_lead, status, description, role, capabilities, max_tasks, provider, "
    "harness_provider, last_activity_at, runtime_instance_id, version, cli_version, "
    "credential_missing, cred_status, latest_model, created_at, last_updated_at, (SELECT COUNT(*) "
    "FROM tasks WHERE tasks.agent_id = agents.id "
    "AND tasks.status = 'in_progress')";

// Read in this order by CostFromRow.
constexpr char kCostColumns[] =
    "id, session_id, task_id, agent_id, total_cost_usd, input_tokens, output_tokens, "
    "cache_read_tokens, cache_write_tokens, reasoning_output_tokens, duration_ms, num_turns, "
    "model, provider, is_error, cost_source, created_at";

// An agent coming back from offline: busy when it still holds in_progress tasks, else idle.
constexpr char kRevivedStatus[] =
    "CASE WHEN EXISTS (SELECT 1 FROM tasks WHERE tasks.agent_id = agents.id AND "
    "tasks.status = 'in_progress') THEN 'busy' ELSE 'idle' END";

constexpr auto kSelectAgent = Concat("SELECT ", kAgentColumns, " FROM agents WHERE id = ?");
constexpr auto kListAgents =
    Concat("SELECT ", kAgentColumns, " FROM agents ORDER BY created_at, rowid");
constexpr char kInsertAgent[] =
    "INSERT INTO agents (id, name, is_lead, status, description, role, capabilities, max_tasks, "
    "provider, harness_provider, runtime_instance_id, version, cli_version, last_activity_at, "
    "created_at, last_updated_at) "
    "VALUES (?1, ?2, ?3, 'idle', ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?12, ?13, ?10, ?10, ?10)";
constexpr char kAgentInstance[] = "SELECT runtime_instance_id FROM agents WHERE id = ?";
// Optional fields given as NULL keep their stored value.
constexpr auto kReregisterAgent = Concat(
    "UPDATE agents SET status = CASE WHEN status = 'offline' THEN ", kRevivedStatus,
    " ELSE status END, max_tasks = COALESCE(?2, max_tasks), provider = COALESCE(?3, provider), "
    "harness_provider = COALESCE(?4, harness_provider), role = COALESCE(?5, role), "
    "description = COALESCE(?6, description), capabilities = COALESCE(?7, capabilities), "
    "runtime_instance_id = COALESCE(?9, runtime_instance_id), "
    "version = COALESCE(?10, version), cli_version = COALESCE(?11, cli_version), "
    "last_activity_at = ?8, last_updated_at = ?8 "
    "WHERE id = ?1");
constexpr char kSetAgentStatus[] =
    "UPDATE agents SET status = ?2, last_updated_at = ?3 WHERE id = ?1";
// A heartbeat: only a status change counts as an update of the row.
constexpr auto kTouchAgent = Concat(
    "UPDATE agents SET last_activity_at = ?2, "
    "last_updated_at = CASE WHEN status = 'offline' THEN ?2 ELSE last_updated_at END, "
    "status = CASE WHEN status = 'offline' THEN ",
    kRevivedStatus, " ELSE status END WHERE id = ?1");
constexpr char kAgentCapacity[] =
    "SELECT max_tasks, (SELECT COUNT(*) FROM tasks WHERE tasks.agent_id = agents.id "
    "AND tasks.status = 'in_progress') FROM agents WHERE id = ?";
constexpr char kMarkAgentBusy[] =
    "UPDATE agents SET status = 'busy', last_updated_at = ?2 WHERE id = ?1 AND status <> 'busy'";
constexpr char kIdleAgentIfFree[] =
    "UPDATE agents SET status = 'idle', last_updated_at = ?2 "
    "WHERE id = ?1 AND status = 'busy' AND NOT EXISTS (SELECT 1 FROM tasks "
    "WHERE tasks.agent_id = agents.id AND tasks.status = 'in_progress')";
constexpr char kSetAgentOffline[] =
    "UPDATE agents SET status = 'offline', last_updated_at = ?2 WHERE id = ?1";

constexpr auto kInsertTask = Concat(
    "INSERT INTO tasks (id, agent_id, creator_agent_id, task, status, source, task_type, tags, "
    "priority, output_schema, model, created_at, last_updated_at, parent_task_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13) RETURNING ",
    kTaskColumns);
constexpr auto kSelectTask = Concat("SELECT ", kTaskColumns, " FROM tasks WHERE id = ?");
constexpr char kSelectTaskState[] = "SELECT status, agent_id FROM tasks WHERE id = ?";
// Best first; rowid makes ties deterministic. Both use the tasks_claim index.
constexpr char kNextPendingTask[] =
    "SELECT id, status FROM tasks WHERE status = 'pending' AND agent_id = ? "
    "ORDER BY priority DESC, created_at, rowid LIMIT 1";
constexpr char kNextPoolTask[] =
    "SELECT id, status FROM tasks WHERE status = 'unassigned' AND agent_id IS NULL "
    "ORDER BY priority DESC, created_at, rowid LIMIT 1";
constexpr auto kStartTask = Concat(
    "UPDATE tasks SET status = 'in_progress', agent_id = ?2, started_at = ?3, "
    "last_updated_at = ?3 WHERE id = ?1 RETURNING ",
    kTaskColumns);
// Session and progress reports only land on a live task of the reporting agent (any agent's
// when the caller names none).
// A terminal task still takes its holder's first session id (the agent may finish the task
// through MCP before the worker has reported the session the CLI opened): that fills in a
// missing field and changes nothing else, not even last_updated_at.
constexpr auto kSetTaskSession = Concat(
    "UPDATE tasks SET session_id = ?2, provider = COALESCE(?3, provider), "
    "model = COALESCE(?4, model), last_updated_at = CASE WHEN status IN ('completed', 'failed', "
    "'cancelled', 'superseded') THEN last_updated_at ELSE ?5 END WHERE id = ?1 "
    "AND (?6 IS NULL OR agent_id = ?6) "
    "AND (status NOT IN ('completed', 'failed', 'cancelled', 'superseded') "
    "OR (session_id IS NULL AND ?6 IS NOT NULL)) "
    "RETURNING ",
    kTaskColumns);
constexpr auto kSetTaskProgress = Concat(
    "UPDATE tasks SET progress = ?2, last_updated_at = ?3 WHERE id = ?1 "
    "AND status NOT IN ('completed', 'failed', 'cancelled', 'superseded') AND (?4 IS NULL OR "
    "agent_id = ?4) "
    "RETURNING ",
    kTaskColumns);
// The first terminal write wins: the condition is checked by the UPDATE itself.
constexpr char kFinishTask[] =
    "UPDATE tasks SET status = ?2, output = COALESCE(?3, output), "
    "failure_reason = COALESCE(?4, failure_reason), finished_at = ?5, last_updated_at = ?5 "
    "WHERE id = ?1 AND status NOT IN ('completed', 'failed', 'cancelled', 'superseded') "
    "AND (?6 IS NULL OR status = ?6)";
constexpr auto kFailAgentTasks = Concat(
    "UPDATE tasks SET status = 'failed', failure_reason = ?2, finished_at = ?3, "
    "last_updated_at = ?3 WHERE agent_id = ?1 AND status = 'in_progress' RETURNING ",
    kTaskColumns);
// Where the task's latest claim took it from: 'pending' (its agent's) or 'unassigned' (pool).
constexpr char kClaimedFrom[] =
    "SELECT old_value FROM agent_logs WHERE task_id = ? AND event_type = 'task_status_change' "
    "AND new_value = 'in_progress' ORDER BY created_at DESC, rowid DESC LIMIT 1";
// Only a claim nobody has acted on yet: still in progress, same holder, no session.
constexpr char kReleaseClaim[] =
    "UPDATE tasks SET status = ?3, agent_id = CASE WHEN ?3 = 'unassigned' THEN NULL "
    "ELSE agent_id END, started_at = NULL, last_updated_at = ?4 "
    "WHERE id = ?1 AND agent_id = ?2 AND status = 'in_progress' AND session_id IS NULL";
constexpr char kAgentsWithActiveTasks[] =
    "SELECT DISTINCT agent_id FROM tasks WHERE status = 'in_progress' AND agent_id IS NOT NULL "
    "ORDER BY agent_id";
constexpr auto kListCancelledTasks =
    Concat("SELECT ", kTaskColumns,
           " FROM tasks WHERE agent_id = ? AND status = 'cancelled' AND finished_at >= ? "
           "ORDER BY finished_at, rowid");
// ListTasks is assembled from these around a WHERE clause built from the filter.
constexpr auto kListTasksHead =
    Concat("SELECT ", kTaskColumns,
           ", (SELECT SUM(session_costs.total_cost_usd) FROM session_costs "
           "WHERE session_costs.task_id = tasks.id) FROM tasks");
constexpr char kListTasksTail[] =
    " ORDER BY last_updated_at DESC, priority DESC, rowid DESC LIMIT ? OFFSET ?";
constexpr char kCountTasksHead[] = "SELECT COUNT(*) FROM tasks";
constexpr char kSumTaskCosts[] = "SELECT SUM(total_cost_usd) FROM session_costs WHERE task_id = ?";

constexpr char kInsertLog[] =
    "INSERT INTO agent_logs (id, event_type, agent_id, task_id, old_value, new_value, metadata, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kListTaskLogs[] =
    "SELECT id, event_type, agent_id, task_id, old_value, new_value, metadata, created_at "
    "FROM agent_logs WHERE task_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?";

constexpr char kMaxLineNumber[] =
    "SELECT COALESCE(MAX(line_number), 0) FROM session_logs "
    "WHERE task_id IS ? AND session_id = ?";
constexpr char kInsertSessionLog[] =
    "INSERT INTO session_logs (id, task_id, session_id, iteration, cli, content, line_number, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kListSessionLogs[] =
    "SELECT id, task_id, session_id, iteration, cli, content, line_number, created_at "
    "FROM session_logs WHERE task_id = ? ORDER BY line_number, created_at, rowid LIMIT ?";

// Retention: old log lines of tasks that can no longer change.
constexpr char kPruneAgentLogs[] =
    "DELETE FROM agent_logs WHERE rowid IN (SELECT agent_logs.rowid FROM agent_logs "
    "LEFT JOIN tasks ON tasks.id = agent_logs.task_id WHERE agent_logs.created_at < ?1 AND "
    "(tasks.id IS NULL OR tasks.status IN ('completed', 'failed', 'cancelled', 'superseded')) "
    "LIMIT ?2)";
constexpr char kPruneSessionLogs[] =
    "DELETE FROM session_logs WHERE rowid IN (SELECT session_logs.rowid FROM session_logs "
    "LEFT JOIN tasks ON tasks.id = session_logs.task_id WHERE session_logs.created_at < ?1 AND "
    "(tasks.id IS NULL OR tasks.status IN ('completed', 'failed', 'cancelled', 'superseded')) "
    "LIMIT ?2)";

constexpr auto kInsertSessionCost =
    Concat("INSERT INTO session_costs (", kCostColumns,
           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
constexpr auto kListCostsHead = Concat("SELECT ", kCostColumns, " FROM session_costs");
constexpr char kListCostsTail[] = " ORDER BY created_at DESC, rowid DESC LIMIT ?";

// Read in this order by SmokeRunFromRow.
constexpr char kSmokeRunColumns[] =
    "id, status, ok, request_json, results_json, api_version, owner, created_at, updated_at, "
    "finished_at";
constexpr auto kInsertSmokeRun =
    Concat("INSERT INTO smoke_runs (", kSmokeRunColumns,
           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ", kSmokeRunColumns);
// Only a running run changes: the first terminal write (or the sweep's interruption) wins.
constexpr auto kUpdateSmokeRun = Concat(
    "UPDATE smoke_runs SET status = ?2, ok = ?3, results_json = ?4, updated_at = ?5, "
    "finished_at = ?6 WHERE id = ?1 AND status = 'running' RETURNING ",
    kSmokeRunColumns);
constexpr auto kSelectSmokeRun =
    Concat("SELECT ", kSmokeRunColumns, " FROM smoke_runs WHERE id = ?");
constexpr char kSmokeRunStatus[] = "SELECT status FROM smoke_runs WHERE id = ?";
constexpr auto kListSmokeRuns =
    Concat("SELECT ", kSmokeRunColumns,
           " FROM smoke_runs ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?");
constexpr char kCountSmokeRuns[] = "SELECT COUNT(*) FROM smoke_runs";
constexpr auto kRunningSmokeRuns =
    Concat("SELECT ", kSmokeRunColumns,
           " FROM smoke_runs WHERE status = 'running' ORDER BY created_at, rowid");

// Dynamically built statements (ListTasks with IN lists) are cached up to this many per
// connection; past it they are prepared for one use, so odd filters cannot grow memory.
constexpr std::size_t kMaxCachedStatements = 128;
constexpr int kBusyTimeoutMs = 5000;
// A WAL that grew under load is truncated back to this size once a checkpoint lets it restart.
constexpr int64_t kWalSizeLimitBytes = 64 << 20;

// SQLite reads a negative LIMIT as "no limit".
int64_t SqlLimit(int limit) { return limit > 0 ? limit : -1; }

bool IsInMemory(const std::string& path) { return path.empty() || path == ":memory:"; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connections and statements.

namespace sqlite_detail {

// Holds a prepared statement for one use: on destruction it is reset, which ends its implicit
// read transaction so a pooled reader never pins an old WAL snapshot, and its bindings cleared.
class ScopedStatement {
 public:
  explicit ScopedStatement(SQLite::Statement& cached) : stmt_(&cached) {}
  explicit ScopedStatement(std::unique_ptr<SQLite::Statement> once)
      : once_(std::move(once)), stmt_(once_.get()) {}
  ~ScopedStatement() {
    stmt_->tryReset();
    try {
      stmt_->clearBindings();
    } catch (const SQLite::Exception&) {
      // sqlite3_clear_bindings cannot fail; nothing to do.
    }
  }
  ScopedStatement(const ScopedStatement&) = delete;
  ScopedStatement& operator=(const ScopedStatement&) = delete;

  SQLite::Statement& operator*() const { return *stmt_; }
  SQLite::Statement* operator->() const { return stmt_; }

 private:
  std::unique_ptr<SQLite::Statement> once_;
  SQLite::Statement* stmt_;
};

class Connection {
 public:
  Connection(const std::string& path, int flags)
      // NOMUTEX: the store's own locking gives each connection to one thread at a time.
      : db_(path, flags | SQLite::OPEN_NOMUTEX) {}

  SQLite::Database& db() { return db_; }

  // The cached prepared statement for `sql` (compiled on first use).
  ScopedStatement Prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return ScopedStatement(*it->second);
    std::string key(sql);
    auto stmt = std::make_unique<SQLite::Statement>(db_, key);
    if (cache_.size() >= kMaxCachedStatements) return ScopedStatement(std::move(stmt));
    SQLite::Statement& cached = *stmt;
    cache_.emplace(std::move(key), std::move(stmt));
    return ScopedStatement(cached);
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  SQLite::Database db_;  // declared first: statements are finalized before it closes
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>, Hash, std::equal_to<>> cache_;
};

// Copies the WAL back into the database file mostly on its own thread and connection.
// SQLite's automatic checkpoint copies every frame inside the commit that crosses the
// threshold, fsyncs included, while the store's writer lock is held. Here a commit past the
// threshold only signals, and PASSIVE checkpoints run beside the writes and reads that follow.
//
// Under sustained writes that alone never lets the WAL shrink: SQLite rewinds the WAL only
// when a write transaction starts with every frame already copied, and a concurrent writer
// keeps appending. So a commit that finds the WAL at twice the threshold catches up itself,
// on the writer connection: by then the background runs have copied nearly everything, and
// the next transaction rewinds the WAL.
class Checkpointer {
 public:
  Checkpointer(const std::string& path, int threshold_pages)
      : conn_(path, SQLite::OPEN_READWRITE), threshold_pages_(threshold_pages) {
    // A connection learns that the file is in WAL mode only when it first reads it; until
    // then a checkpoint request on it silently does nothing.
    conn_.db().exec(kTouchSchema);
    thread_ = std::thread([this] { Run(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // A sqlite3_wal_hook callback: runs on the writing thread after every commit, with the WAL
  // size in pages. Registering it also turns SQLite's automatic checkpoint off.
  static int OnCommit(void* self, sqlite3* writer, const char* /*schema*/, int wal_pages) {
    auto* checkpointer = static_cast<Checkpointer*>(self);
    if (wal_pages >= 2 * checkpointer->threshold_pages_) {
      // Busy (the background run holds the checkpoint lock) is fine: the next commit retries.
      sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else {
      checkpointer->Request(wal_pages);
    }
    return SQLITE_OK;
  }

 private:
  void Request(int wal_pages) {
    if (wal_pages < threshold_pages_ || requested_.load(std::memory_order_relaxed)) return;
    {
      std::lock_guard lock(mu_);
      requested_ = true;
    }
    cv_.notify_one();
  }

  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return requested_ || stop_; });
      if (stop_) return;
      lock.unlock();
      // PASSIVE never waits for readers or the writer. Frames it cannot copy yet (a reader
      // still needs them) are copied by a later run: the next commit asks again.
      sqlite3_wal_checkpoint_v2(conn_.db().getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
      lock.lock();
      requested_ = false;
    }
  }

  Connection conn_;  // used by thread_ only
  const int threshold_pages_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> requested_{false};  // set under mu_; read without it as a fast path
  bool stop_ = false;                   // guarded by mu_
  std::thread thread_;
};

}  // namespace sqlite_detail

namespace {

using sqlite_detail::Checkpointer;
using sqlite_detail::Connection;
using sqlite_detail::ScopedStatement;

// An explicit transaction on one connection: rolled back unless committed.
class Transaction {
 public:
  Transaction(Connection& conn, std::string_view begin_sql) : conn_(conn) {
    conn_.Prepare(begin_sql)->exec();
  }
  ~Transaction() {
    if (committed_) return;
    // A failed statement may already have ended the transaction.
    if (sqlite3_get_autocommit(conn_.db().getHandle())) return;
    try {
      conn_.Prepare(kRollback)->exec();
    } catch (const SQLite::Exception&) {
      // Nothing more to do: the connection rolls back when it closes.
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void Commit() {
    conn_.Prepare(kCommit)->exec();
    committed_ = true;
  }

 private:
  Connection& conn_;
  bool committed_ = false;
};

// --- binding ---
// Deliberately no bool overload: a string literal would convert to bool before std::string.

void Bind(SQLite::Statement& s, int i, const std::string& v) { s.bind(i, v); }
void Bind(SQLite::Statement& s, int i, const char* v) { s.bind(i, v); }
void Bind(SQLite::Statement& s, int i, int v) { s.bind(i, v); }
void Bind(SQLite::Statement& s, int i, int64_t v) { s.bind(i, v); }
void Bind(SQLite::Statement& s, int i, double v) { s.bind(i, v); }
template <typename T>
void Bind(SQLite::Statement& s, int i, const std::optional<T>& v) {
  if (v) {
    Bind(s, i, *v);
  } else {
    s.bind(i);  // NULL
  }
}

// Binds the arguments to parameters 1, 2, ... in order.
template <typename... Args>
void BindAll(SQLite::Statement& s, const Args&... args) {
  int i = 0;
  (Bind(s, ++i, args), ...);
}

// --- decoding ---

// Reads the columns of the current row left to right.
class Row {
 public:
  explicit Row(const SQLite::Statement& s) : s_(s) {}
  std::string Text() { return s_.getColumn(i_++).getString(); }
  std::optional<std::string> OptText() {
    SQLite::Column c = s_.getColumn(i_++);
    if (c.isNull()) return std::nullopt;
    return c.getString();
  }
  int Int() { return s_.getColumn(i_++).getInt(); }
  int64_t Int64() { return s_.getColumn(i_++).getInt64(); }
  std::optional<int64_t> OptInt64() {
    SQLite::Column c = s_.getColumn(i_++);
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
  }
  double Double() { return s_.getColumn(i_++).getDouble(); }
  std::optional<double> OptDouble() {
    SQLite::Column c = s_.getColumn(i_++);
    if (c.isNull()) return std::nullopt;
    return c.getDouble();
  }

 private:
  const SQLite::Statement& s_;
  int i_ = 0;
};

std::string EncodeStringArray(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump();
}

// Lenient: a value that is not a JSON array of strings reads as empty rather than failing the
// whole read.
std::vector<std::string> DecodeStringArray(const std::string& text) {
  std::vector<std::string> out;
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) return out;
  for (const auto& item : json) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

TaskStatus DecodeTaskStatus(const std::string& text) {
  if (auto status = ParseTaskStatus(text)) return *status;
  throw std::runtime_error("unknown task status '" + text + "' in the database");
}

AgentStatus DecodeAgentStatus(const std::string& text) {
  if (auto status = ParseAgentStatus(text)) return *status;
  throw std::runtime_error("unknown agent status '" + text + "' in the database");
}

// Decodes kTaskColumns; leaves `row` positioned after them.
Task TaskFromRow(Row& row) {
  Task t;
  t.id = row.Text();
  t.agent_id = row.OptText();
  t.creator_agent_id = row.OptText();
  t.task = row.Text();
  t.status = DecodeTaskStatus(row.Text());
  t.source = row.Text();
  t.task_type = row.OptText();
  t.tags = DecodeStringArray(row.Text());
  t.priority = row.Int();
  t.output_schema = row.OptText();
  t.output = row.OptText();
  t.failure_reason = row.OptText();
  t.progress = row.OptText();
  t.session_id = row.OptText();
  t.provider = row.OptText();
  t.model = row.OptText();
  t.created_at = row.Text();
  t.last_updated_at = row.Text();
  t.started_at = row.OptText();
  t.finished_at = row.OptText();
  t.parent_task_id = row.OptText();
  return t;
}

Task TaskFromRow(const SQLite::Statement& s) {
  Row row(s);
  return TaskFromRow(row);
}

Agent AgentFromRow(const SQLite::Statement& s) {
  Row row(s);
  Agent a;
  a.id = row.Text();
  a.name = row.Text();
  a.is_lead = row.Int() != 0;
  a.status = DecodeAgentStatus(row.Text());
  a.description = row.OptText();
  a.role = row.OptText();
  a.capabilities = DecodeStringArray(row.Text());
  a.max_tasks = row.Int();
  a.provider = row.OptText();
  a.harness_provider = row.OptText();
  a.last_activity_at = row.OptText();
  a.runtime_instance_id = row.OptText();
  a.version = row.OptText();
  a.cli_version = row.OptText();
  if (auto missing = row.OptText()) a.credential_missing = DecodeStringArray(*missing);
  a.cred_status = row.OptText();
  a.latest_model = row.OptText();
  a.created_at = row.Text();
  a.last_updated_at = row.Text();
  a.active_tasks = row.Int();
  return a;
}

AgentLog LogFromRow(const SQLite::Statement& s) {
  Row row(s);
  AgentLog log;
  log.id = row.Text();
  log.event_type = row.Text();
  log.agent_id = row.OptText();
  log.task_id = row.OptText();
  log.old_value = row.OptText();
  log.new_value = row.OptText();
  log.metadata = row.OptText();
  log.created_at = row.Text();
  return log;
}

SessionLog SessionLogFromRow(const SQLite::Statement& s) {
  Row row(s);
  SessionLog log;
  log.id = row.Text();
  log.task_id = row.OptText();
  log.session_id = row.Text();
  log.iteration = row.Int();
  log.cli = row.Text();
  log.content = row.Text();
  log.line_number = row.Int64();
  log.created_at = row.Text();
  return log;
}

SessionCost CostFromRow(const SQLite::Statement& s) {
  Row row(s);
  SessionCost c;
  c.id = row.Text();
  c.session_id = row.Text();
  c.task_id = row.OptText();
  c.agent_id = row.Text();
  c.total_cost_usd = row.Double();
  c.input_tokens = row.Int64();
  c.output_tokens = row.Int64();
  c.cache_read_tokens = row.Int64();
  c.cache_write_tokens = row.Int64();
  c.reasoning_output_tokens = row.Int64();
  c.duration_ms = row.OptInt64();
  c.num_turns = row.OptInt64();
  c.model = row.OptText();
  c.provider = row.OptText();
  c.is_error = row.Int() != 0;
  c.cost_source = row.Text();
  c.created_at = row.Text();
  return c;
}

// The text a task carries, for bounding the size of a page of them.
std::size_t TextBytes(const Task& t) {
  auto size = [](const std::optional<std::string>& v) { return v ? v->size() : 0; };
  return t.task.size() + size(t.output_schema) + size(t.output) + size(t.failure_reason) +
         size(t.progress) + 512;  // ids, timestamps, tags and JSON punctuation, roughly
}

// --- error handling ---

// Runs `body`, turning any exception into an Error: nothing thrown by SQLiteCpp, nlohmann or
// the standard library leaves the store.
template <typename R, typename F>
R Guard(std::string_view op, F&& body) {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    return tl::unexpected(ErrorFromSqlite(e, op));
  } catch (const std::exception& e) {
    return Internal(fmt::format("store failure while {}: {}", op, e.what()));
  }
}

tl::unexpected<Error> TaskNotFound(const std::string& id) {
  return NotFound(fmt::format("task {} not found", id));
}
tl::unexpected<Error> AgentNotFound(const std::string& id) {
  return NotFound(fmt::format("agent {} not found", id));
}

// --- statement helpers shared by several methods ---

struct LogEntry {
  const char* event_type;
  std::optional<std::string> agent_id;
  std::optional<std::string> task_id;
  std::optional<std::string> old_value;
  std::optional<std::string> new_value;
  const std::string& now;
  std::optional<std::string> metadata = std::nullopt;  // JSON text
};

void InsertLog(Connection& c, const LogEntry& e) {
  auto s = c.Prepare(kInsertLog);
  BindAll(*s, NewUuid(), e.event_type, e.agent_id, e.task_id, e.old_value, e.new_value, e.metadata,
          e.now);
  s->exec();
}

Result<Agent> SelectAgent(Connection& c, const std::string& id) {
  auto s = c.Prepare(kSelectAgent);
  BindAll(*s, id);
  if (!s->executeStep()) return AgentNotFound(id);
  return AgentFromRow(*s);
}

Result<Task> SelectTask(Connection& c, const std::string& id) {
  auto s = c.Prepare(kSelectTask);
  BindAll(*s, id);
  if (!s->executeStep()) return TaskNotFound(id);
  return TaskFromRow(*s);
}

// Runs an `UPDATE ... RETURNING <task columns>` on one task; kNotFound when no row matched.
template <typename... Args>
Result<Task> UpdateTaskReturning(Connection& c, std::string_view sql, const std::string& id,
                                 const Args&... args) {
  auto s = c.Prepare(sql);
  BindAll(*s, id, args...);
  if (!s->executeStep()) return TaskNotFound(id);
  return TaskFromRow(*s);
}

std::vector<Task> CollectTasks(SQLite::Statement& s) {
  std::vector<Task> tasks;
  while (s.executeStep()) tasks.push_back(TaskFromRow(s));
  return tasks;
}

struct ClaimCandidate {
  std::string id;
  std::string status;  // its status before the claim, for the lifecycle log
};

std::optional<ClaimCandidate> FirstCandidate(Connection& c, std::string_view sql,
                                             const std::optional<std::string>& agent_id) {
  auto s = c.Prepare(sql);
  if (agent_id) BindAll(*s, *agent_id);
  if (!s->executeStep()) return std::nullopt;
  return ClaimCandidate{s->getColumn(0).getString(), s->getColumn(1).getString()};
}

// --- dynamic WHERE clauses ---

std::string Placeholders(std::size_t n) {
  std::string out = "(";
  for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out + ")";
}

// The distinct values, sorted: the SQL text then depends only on how many there are, which
// keeps the statement cache small.
std::vector<std::string> Distinct(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// A filter as SQL: " WHERE a AND b ..." plus the values for its placeholders, in order.
struct WhereClause {
  std::string sql;
  std::vector<std::string> values;

  void Add(std::string_view condition) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += condition;
  }
  void AddIn(std::string_view column, std::vector<std::string> in) {
    if (in.empty()) return;
    Add(fmt::format("{} IN {}", column, Placeholders(in.size())));
    values.insert(values.end(), in.begin(), in.end());
  }
  void AddEquals(std::string_view column, const std::optional<std::string>& value) {
    if (!value) return;
    Add(fmt::format("{} = ?", column));
    values.push_back(*value);
  }
  // Binds the values to parameters 1..n and returns the next free index.
  int Bind(SQLite::Statement& s) const {
    int i = 0;
    for (const std::string& v : values) s.bind(++i, v);
    return i + 1;
  }
};

WhereClause TaskWhere(const TaskFilter& filter) {
  std::vector<std::string> statuses;
  for (TaskStatus status : filter.statuses) statuses.emplace_back(TaskStatusName(status));
  WhereClause where;
  where.AddIn("status", Distinct(std::move(statuses)));
  where.AddEquals("agent_id", filter.agent_id);
  where.AddIn("source", Distinct(filter.sources));
  return where;
}

void ConfigureConnection(SQLite::Database& db) {
  db.exec(fmt::format("PRAGMA busy_timeout = {}", kBusyTimeoutMs));
  db.exec("PRAGMA foreign_keys = ON");
}

// WAL lets readers run beside the writer; synchronous=NORMAL in WAL mode still never loses a
// committed transaction when the process dies (only an OS crash can roll back the last ones).
Result<void> ConfigureWriter(SQLite::Database& db, bool in_memory) {
  ConfigureConnection(db);
  const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal" && !(in_memory && mode == "memory")) {
    return Unavailable(
        fmt::format("cannot put the database in WAL mode (journal_mode is {})", mode));
  }
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(fmt::format("PRAGMA journal_size_limit = {}", kWalSizeLimitBytes));
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Opening, pooling, transactions.

// Borrows a reader connection for one method: a pooled read-only connection, or, for an
// in-memory database, the writer connection under the writer lock.
class SqliteStore::ReaderLease {
 public:
  explicit ReaderLease(SqliteStore& store) : store_(store) {
    if (store_.shared_connection_) {
      writer_lock_ = std::unique_lock(store_.writer_mu_);
      conn_ = store_.writer_.get();
      return;
    }
    std::unique_lock lock(store_.pool_mu_);
    store_.pool_cv_.wait(lock, [this] {
      return !store_.idle_readers_.empty() || store_.open_readers_ < store_.max_readers_;
    });
    if (!store_.idle_readers_.empty()) {
      pooled_ = std::move(store_.idle_readers_.back());
      store_.idle_readers_.pop_back();
    } else {
      ++store_.open_readers_;
      lock.unlock();  // opening a file takes a while; others may use the pool meanwhile
      try {
        pooled_ = store_.OpenReader();
      } catch (...) {
        lock.lock();
        --store_.open_readers_;
        store_.pool_cv_.notify_one();
        throw;
      }
    }
    conn_ = pooled_.get();
  }
  ~ReaderLease() {
    if (!pooled_) return;
    {
      std::lock_guard lock(store_.pool_mu_);
      store_.idle_readers_.push_back(std::move(pooled_));
    }
    store_.pool_cv_.notify_one();
  }
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;

  Connection& conn() const { return *conn_; }

 private:
  SqliteStore& store_;
  std::unique_lock<std::mutex> writer_lock_;
  std::unique_ptr<Connection> pooled_;
  Connection* conn_ = nullptr;
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  return Open(path, SqliteStoreOptions{});
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  const bool in_memory = IsInMemory(path);
  return Guard<Result<std::unique_ptr<SqliteStore>>>(
      fmt::format("opening {}", path), [&]() -> Result<std::unique_ptr<SqliteStore>> {
        auto writer =
            std::make_unique<Connection>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        if (auto configured = ConfigureWriter(writer->db(), in_memory); !configured) {
          return tl::unexpected(configured.error());
        }
        // Migration bookkeeping is the one place the store reads the clock itself.
        const std::string now = FormatIsoTime(std::chrono::system_clock::now());
        if (auto migrated = ApplyMigrations(writer->db(), EmbeddedMigrations(), now); !migrated) {
          return tl::unexpected(migrated.error());
        }
        std::unique_ptr<Checkpointer> checkpointer;
        if (!in_memory && options.checkpoint_pages > 0) {
          checkpointer = std::make_unique<Checkpointer>(path, options.checkpoint_pages);
        }
        return std::unique_ptr<SqliteStore>(
            new SqliteStore(path, in_memory, std::move(writer), std::move(checkpointer), options));
      });
}

SqliteStore::SqliteStore(std::string path, bool shared_connection,
                         std::unique_ptr<Connection> writer,
                         std::unique_ptr<Checkpointer> checkpointer,
                         const SqliteStoreOptions& options)
    : path_(std::move(path)),
      shared_connection_(shared_connection),
      max_readers_(std::max(1, options.max_readers)),
      writer_(std::move(writer)),
      checkpointer_(std::move(checkpointer)) {
  if (checkpointer_) {
    sqlite3_wal_hook(writer_->db().getHandle(), &Checkpointer::OnCommit, checkpointer_.get());
  }
}

SqliteStore::~SqliteStore() {
  // Unhook before the checkpointer goes; the writer, closed last, checkpoints what is left.
  if (checkpointer_) sqlite3_wal_hook(writer_->db().getHandle(), nullptr, nullptr);
  checkpointer_.reset();
}

std::unique_ptr<SqliteStore::Connection> SqliteStore::OpenReader() const {
  auto reader = std::make_unique<Connection>(path_, SQLite::OPEN_READONLY);
  ConfigureConnection(reader->db());
  return reader;
}

template <typename F>
auto SqliteStore::Write(std::string_view op, F&& body) {
  using R = std::invoke_result_t<F&, Connection&>;
  return Guard<R>(op, [&]() -> R {
    std::lock_guard lock(writer_mu_);
    Transaction txn(*writer_, kBeginImmediate);
    R result = body(*writer_);
    if (result) txn.Commit();
    return result;
  });
}

template <typename F>
auto SqliteStore::Read(std::string_view op, F&& body) {
  using R = std::invoke_result_t<F&, Connection&>;
  return Guard<R>(op, [&]() -> R {
    ReaderLease lease(*this);
    return body(lease.conn());
  });
}

// ---------------------------------------------------------------------------------------------
// Agents.

namespace {
Result<LostWorkerRecovery> HandBackInProgressInTxn(
    Connection& c, const std::string& agent_id, const std::string& reason, int max_generations,
    const std::optional<std::string>& supersede_actor, const std::string& now);
}  // namespace

Result<UpsertedAgent> SqliteStore::UpsertAgent(const AgentRegistration& reg,
                                               const std::string& now) {
  // An empty capability list counts as "not given": the registration has no other way to say.
  std::optional<std::string> capabilities;
  if (!reg.capabilities.empty()) capabilities = EncodeStringArray(reg.capabilities);
  return Write("registering an agent", [&](Connection& c) -> Result<UpsertedAgent> {
    UpsertedAgent result;
    std::optional<std::string> previous_instance;
    bool known = false;
    {
      auto instance = c.Prepare(kAgentInstance);
      BindAll(*instance, reg.id);
      if (instance->executeStep()) {
        known = true;
        previous_instance = Row(*instance).OptText();
      }
    }
    const bool restarted = known && reg.runtime_instance_id && previous_instance &&
                           *previous_instance != *reg.runtime_instance_id;
    if (known) {
      auto update = c.Prepare(kReregisterAgent);
      BindAll(*update, reg.id, reg.max_tasks, reg.provider, reg.harness_provider, reg.role,
              reg.description, capabilities, now, reg.runtime_instance_id, reg.version,
              reg.cli_version);
      update->exec();
    } else {
      auto insert = c.Prepare(kInsertAgent);
      BindAll(*insert, reg.id, reg.name, reg.is_lead ? 1 : 0, reg.description, reg.role,
              capabilities.value_or("[]"), reg.max_tasks.value_or(1), reg.provider,
              reg.harness_provider, now, reg.runtime_instance_id, reg.version, reg.cli_version);
      insert->exec();
    }
    if (restarted) {
      // After the row is updated: the agent is online again (not offline) with its new
      // max_tasks, so a resume child is pinned to it.
      const std::string reason =
          fmt::format("worker restarted: agent {} registered again as a new process", reg.id);
      auto handed = HandBackInProgressInTxn(c, reg.id, reason, kMaxResumeGenerations, reg.id, now);
      if (!handed) return tl::unexpected(handed.error());
      result.restarted_tasks = std::move(handed->failed);
      result.resumed_tasks = std::move(handed->superseded);
    }
    auto agent = SelectAgent(c, reg.id);
    if (!agent) return tl::unexpected(agent.error());
    result.agent = std::move(*agent);
    result.created = !known;
    return result;
  });
}

Result<Agent> SqliteStore::GetAgent(const std::string& id) {
  return Read("reading an agent", [&](Connection& c) { return SelectAgent(c, id); });
}

Result<std::vector<Agent>> SqliteStore::ListAgents() {
  return Read("listing agents", [&](Connection& c) -> Result<std::vector<Agent>> {
    auto s = c.Prepare(kListAgents);
    std::vector<Agent> agents;
    while (s->executeStep()) agents.push_back(AgentFromRow(*s));
    return agents;
  });
}

Result<Agent> SqliteStore::SetAgentStatus(const std::string& id, AgentStatus status,
                                          const std::string& now) {
  return Write("setting an agent's status", [&](Connection& c) -> Result<Agent> {
    {
      auto s = c.Prepare(kSetAgentStatus);
      BindAll(*s, id, AgentStatusName(status), now);
      if (s->exec() == 0) return AgentNotFound(id);
    }
    return SelectAgent(c, id);
  });
}

Result<Agent> SqliteStore::TouchAgent(const std::string& id, const std::string& now) {
  return Write("recording agent activity", [&](Connection& c) -> Result<Agent> {
    {
      auto s = c.Prepare(kTouchAgent);
      BindAll(*s, id, now);
      if (s->exec() == 0) return AgentNotFound(id);
    }
    return SelectAgent(c, id);
  });
}

// ---------------------------------------------------------------------------------------------
// Tasks.

namespace {

// Inserts one task and its "task_created" log inside the caller's write transaction.
Result<Task> InsertTask(Connection& c, const NewTask& t) {
  std::optional<std::string> agent_id = t.agent_id;
  if (agent_id && agent_id->empty()) agent_id.reset();
  const char* status = TaskStatusName(agent_id ? TaskStatus::kPending : TaskStatus::kUnassigned);
  Task task;
  {
    auto insert = c.Prepare(kInsertTask);
    BindAll(*insert, t.id, agent_id, t.creator_agent_id, t.task, status, t.source, t.task_type,
            EncodeStringArray(t.tags), t.priority, t.output_schema, t.model, t.now,
            t.parent_task_id);
    try {
      insert->executeStep();
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Conflict(fmt::format("task {} already exists", t.id));
      }
      throw;
    }
    task = TaskFromRow(*insert);
  }
  InsertLog(c, {"task_created", t.creator_agent_id, t.id, std::nullopt, status, t.now});
  return task;
}

}  // namespace

Result<Task> SqliteStore::CreateTask(const NewTask& t) {
  return Write("creating a task", [&](Connection& c) { return InsertTask(c, t); });
}

Result<std::vector<Task>> SqliteStore::CreateTasks(const std::vector<NewTask>& tasks) {
  return Write("creating tasks", [&](Connection& c) -> Result<std::vector<Task>> {
    std::vector<Task> created;
    created.reserve(tasks.size());
    for (const NewTask& t : tasks) {
      auto task = InsertTask(c, t);
      if (!task) return tl::unexpected(task.error());
      created.push_back(std::move(*task));
    }
    return created;
  });
}

Result<Task> SqliteStore::GetTask(const std::string& id) {
  return Read("reading a task", [&](Connection& c) { return SelectTask(c, id); });
}

Result<TaskDetail> SqliteStore::GetTaskDetail(const std::string& id, int logs_limit) {
  return Read("reading a task", [&](Connection& c) -> Result<TaskDetail> {
    // One read transaction instead of three: the task, its logs and its cost agree, and the
    // WAL read lock is taken once.
    Transaction snapshot(c, kBeginRead);
    auto task = SelectTask(c, id);
    if (!task) return tl::unexpected(task.error());
    TaskDetail detail{std::move(*task), {}};
    {
      auto s = c.Prepare(kSumTaskCosts);
      BindAll(*s, id);
      if (s->executeStep()) detail.task.total_cost_usd = Row(*s).OptDouble();
    }
    auto s = c.Prepare(kListTaskLogs);
    BindAll(*s, id, SqlLimit(logs_limit));
    while (s->executeStep()) detail.logs.push_back(LogFromRow(*s));
    return detail;
  });
}

Result<TaskPage> SqliteStore::ListTasks(const TaskFilter& filter) {
  const WhereClause where = TaskWhere(filter);
  const int offset = std::max(0, filter.offset);
  return Read("listing tasks", [&](Connection& c) -> Result<TaskPage> {
    // The page and its total come from one snapshot.
    Transaction snapshot(c, kBeginRead);
    TaskPage page;
    {
      auto s =
          c.Prepare(std::string(std::string_view(kListTasksHead)) + where.sql + kListTasksTail);
      const int next = where.Bind(*s);
      s->bind(next, SqlLimit(filter.limit));
      s->bind(next + 1, offset);
      std::size_t bytes = 0;
      while (s->executeStep()) {
        Row row(*s);
        Task task = TaskFromRow(row);
        task.total_cost_usd = row.OptDouble();
        bytes += TextBytes(task);
        page.tasks.push_back(std::move(task));
        if (bytes >= filter.max_bytes) {
          page.truncated = s->executeStep();  // only if another row would have followed
          break;
        }
      }
    }
    // A short page that is not past the end already tells the total; count only otherwise.
    const bool short_page = !page.truncated && (filter.limit <= 0 ||
                                                static_cast<int>(page.tasks.size()) < filter.limit);
    if (short_page && (offset == 0 || !page.tasks.empty())) {
      page.total = offset + static_cast<int64_t>(page.tasks.size());
    } else {
      auto count = c.Prepare(kCountTasksHead + where.sql);
      where.Bind(*count);
      count->executeStep();
      page.total = count->getColumn(0).getInt64();
    }
    snapshot.Commit();
    return page;
  });
}

Result<std::optional<Task>> SqliteStore::ClaimTask(const std::string& agent_id, bool include_pool,
                                                   const std::string& now) {
  using Claim = std::optional<Task>;
  return Write("claiming a task", [&](Connection& c) -> Result<Claim> {
    {
      auto capacity = c.Prepare(kAgentCapacity);
      BindAll(*capacity, agent_id);
      if (!capacity->executeStep()) return AgentNotFound(agent_id);
      const int max_tasks = capacity->getColumn(0).getInt();
      const int active = capacity->getColumn(1).getInt();
      if (active >= max_tasks) return Claim();
    }
    std::optional<ClaimCandidate> next = FirstCandidate(c, kNextPendingTask, agent_id);
    if (!next && include_pool) next = FirstCandidate(c, kNextPoolTask, std::nullopt);
    if (!next) return Claim();

    auto task = UpdateTaskReturning(c, kStartTask, next->id, agent_id, now);
    if (!task) return tl::unexpected(task.error());
    {
      auto busy = c.Prepare(kMarkAgentBusy);
      BindAll(*busy, agent_id, now);
      busy->exec();
    }
    InsertLog(c, {"task_claimed", agent_id, next->id, std::nullopt, std::nullopt, now});
    InsertLog(c, {"task_status_change", agent_id, next->id, next->status,
                  TaskStatusName(TaskStatus::kInProgress), now});
    return Claim(std::move(*task));
  });
}

namespace {

// Why a guarded report (session, progress) matched no row: kNotFound, or kConflict naming
// the terminal status or the agent that holds the task.
tl::unexpected<Error> ReportRefused(Connection& c, const std::string& task_id,
                                    const std::optional<std::string>& agent_id) {
  auto state = c.Prepare(kSelectTaskState);
  BindAll(*state, task_id);
  if (!state->executeStep()) return TaskNotFound(task_id);
  Row row(*state);
  const std::string status = row.Text();
  const std::optional<std::string> holder = row.OptText();
  if (auto parsed = ParseTaskStatus(status); parsed && IsTerminal(*parsed)) {
    return Conflict(fmt::format("task {} is already {}", task_id, status));
  }
  return Conflict(fmt::format("task {} is {}, not agent {}'s", task_id,
                              holder ? "held by agent " + *holder : "not assigned",
                              agent_id.value_or("")));
}

}  // namespace

Result<Task> SqliteStore::SetTaskSession(const std::string& task_id, const std::string& session_id,
                                         const std::optional<std::string>& provider,
                                         const std::optional<std::string>& model,
                                         const std::string& now,
                                         const std::optional<std::string>& agent_id) {
  return Write("setting a task's session", [&](Connection& c) -> Result<Task> {
    auto task = UpdateTaskReturning(c, kSetTaskSession, task_id, session_id, provider, model, now,
                                    agent_id);
    if (!task) return ReportRefused(c, task_id, agent_id);
    InsertLog(c, {"task_session", task->agent_id, task_id, std::nullopt, session_id, now});
    return task;
  });
}

Result<Task> SqliteStore::SetTaskProgress(const std::string& task_id, const std::string& progress,
                                          const std::optional<std::string>& agent_id,
                                          const std::string& now) {
  return Write("setting a task's progress", [&](Connection& c) -> Result<Task> {
    auto task = UpdateTaskReturning(c, kSetTaskProgress, task_id, progress, now, agent_id);
    if (!task) return ReportRefused(c, task_id, agent_id);
    InsertLog(c, {"task_progress", agent_id, task_id, std::nullopt, progress, now});
    return task;
  });
}

Result<TerminalResult> SqliteStore::FinishTask(const std::string& task_id,
                                               const TerminalUpdate& update) {
  if (!IsTerminal(update.status)) {
    return BadRequest(fmt::format("cannot finish task {} with non-terminal status {}", task_id,
                                  TaskStatusName(update.status)));
  }
  std::optional<std::string> required;
  if (update.required_status) required = TaskStatusName(*update.required_status);
  return Write("finishing a task", [&](Connection& c) -> Result<TerminalResult> {
    std::string old_status;
    std::optional<std::string> holder;
    {
      auto state = c.Prepare(kSelectTaskState);
      BindAll(*state, task_id);
      if (!state->executeStep()) return TaskNotFound(task_id);
      Row row(*state);
      old_status = row.Text();
      holder = row.OptText();
    }
    bool applied = false;
    {
      auto finish = c.Prepare(kFinishTask);
      BindAll(*finish, task_id, TaskStatusName(update.status), update.output, update.failure_reason,
              update.now, required);
      applied = finish->exec() > 0;
    }
    if (applied) {
      InsertLog(c, {"task_status_change", update.actor_agent_id, task_id, old_status,
                    TaskStatusName(update.status), update.now,
                    nlohmann::json{{"via", update.via}}.dump()});
      if (holder) {
        auto idle = c.Prepare(kIdleAgentIfFree);
        BindAll(*idle, *holder, update.now);
        idle->exec();
      }
    }
    auto task = SelectTask(c, task_id);
    if (!task) return tl::unexpected(task.error());
    return TerminalResult{std::move(*task), applied};
  });
}

Result<std::vector<Task>> SqliteStore::FailAgentTasks(const std::string& agent_id,
                                                      const std::string& reason,
                                                      const std::string& now) {
  return Write("failing an agent's tasks", [&](Connection& c) -> Result<std::vector<Task>> {
    std::vector<Task> failed;
    {
      auto s = c.Prepare(kFailAgentTasks);
      BindAll(*s, agent_id, reason, now);
      failed = CollectTasks(*s);
    }
    bool agent_known = false;
    {
      auto offline = c.Prepare(kSetAgentOffline);
      BindAll(*offline, agent_id, now);
      agent_known = offline->exec() > 0;
    }
    // Tasks held under an unregistered id are still failed; only "nothing at all" is an error.
    if (!agent_known && failed.empty()) return AgentNotFound(agent_id);
    // RETURNING gives no order; report the tasks oldest first.
    std::sort(failed.begin(), failed.end(), [](const Task& a, const Task& b) {
      return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
    });
    for (const Task& task : failed) {
      InsertLog(c,
                {"task_status_change", agent_id, task.id, TaskStatusName(TaskStatus::kInProgress),
                 TaskStatusName(TaskStatus::kFailed), now});
    }
    return failed;
  });
}

Result<bool> SqliteStore::ReleaseClaim(const std::string& task_id, const std::string& agent_id,
                                       const std::string& now) {
  return Write("giving back a claim", [&](Connection& c) -> Result<bool> {
    std::string back_to = TaskStatusName(TaskStatus::kPending);
    {
      auto from = c.Prepare(kClaimedFrom);
      BindAll(*from, task_id);
      if (from->executeStep() && Row(*from).OptText() == TaskStatusName(TaskStatus::kUnassigned)) {
        back_to = TaskStatusName(TaskStatus::kUnassigned);
      }
    }
    {
      auto release = c.Prepare(kReleaseClaim);
      BindAll(*release, task_id, agent_id, back_to, now);
      if (release->exec() == 0) return false;
    }
    InsertLog(c, {"task_status_change", agent_id, task_id, TaskStatusName(TaskStatus::kInProgress),
                  back_to, now});
    auto idle = c.Prepare(kIdleAgentIfFree);
    BindAll(*idle, agent_id, now);
    idle->exec();
    return true;
  });
}

Result<std::vector<std::string>> SqliteStore::AgentsWithActiveTasks() {
  return Read("listing busy agents", [&](Connection& c) -> Result<std::vector<std::string>> {
    auto s = c.Prepare(kAgentsWithActiveTasks);
    std::vector<std::string> ids;
    while (s->executeStep()) ids.push_back(s->getColumn(0).getString());
    return ids;
  });
}

Result<std::vector<Task>> SqliteStore::ListCancelledTasks(const std::string& agent_id,
                                                          const std::string& since) {
  return Read("listing cancelled tasks", [&](Connection& c) -> Result<std::vector<Task>> {
    auto s = c.Prepare(kListCancelledTasks);
    BindAll(*s, agent_id, since);
    return CollectTasks(*s);
  });
}

// ---------------------------------------------------------------------------------------------
// Logs and costs.

Result<std::vector<AgentLog>> SqliteStore::ListTaskLogs(const std::string& task_id, int limit) {
  return Read("listing task logs", [&](Connection& c) -> Result<std::vector<AgentLog>> {
    auto s = c.Prepare(kListTaskLogs);
    BindAll(*s, task_id, SqlLimit(limit));
    std::vector<AgentLog> logs;
    while (s->executeStep()) logs.push_back(LogFromRow(*s));
    return logs;
  });
}

Result<int> SqliteStore::AppendSessionLogs(const SessionLogBatch& batch) {
  if (batch.lines.empty()) return 0;
  return Write("appending session logs", [&](Connection& c) -> Result<int> {
    int64_t line_number = 0;
    {
      auto max = c.Prepare(kMaxLineNumber);
      BindAll(*max, batch.task_id, batch.session_id);
      max->executeStep();
      line_number = max->getColumn(0).getInt64();
    }
    auto insert = c.Prepare(kInsertSessionLog);
    for (const std::string& line : batch.lines) {
      BindAll(*insert, NewUuid(), batch.task_id, batch.session_id, batch.iteration, batch.cli, line,
              ++line_number, batch.created_at);
      insert->exec();
      insert->reset();
    }
    return static_cast<int>(batch.lines.size());
  });
}

Result<std::vector<SessionLog>> SqliteStore::ListSessionLogs(const std::string& task_id, int limit,
                                                             std::size_t max_bytes) {
  return Read("listing session logs", [&](Connection& c) -> Result<std::vector<SessionLog>> {
    auto s = c.Prepare(kListSessionLogs);
    BindAll(*s, task_id, SqlLimit(limit));
    std::vector<SessionLog> logs;
    std::size_t bytes = 0;
    while (bytes < max_bytes && s->executeStep()) {
      logs.push_back(SessionLogFromRow(*s));
      bytes += logs.back().content.size();
    }
    return logs;
  });
}

Result<SessionCost> SqliteStore::AddSessionCost(const SessionCost& cost) {
  SessionCost stored = cost;
  if (stored.id.empty()) stored.id = NewUuid();
  return Write("recording a session cost", [&](Connection& c) -> Result<SessionCost> {
    auto s = c.Prepare(kInsertSessionCost);
    BindAll(*s, stored.id, stored.session_id, stored.task_id, stored.agent_id,
            stored.total_cost_usd, stored.input_tokens, stored.output_tokens,
            stored.cache_read_tokens, stored.cache_write_tokens, stored.reasoning_output_tokens,
            stored.duration_ms, stored.num_turns, stored.model, stored.provider,
            stored.is_error ? 1 : 0, stored.cost_source, stored.created_at);
    s->exec();
    return stored;
  });
}

Result<std::vector<SessionCost>> SqliteStore::ListSessionCosts(const CostFilter& filter) {
  WhereClause where;
  where.AddEquals("task_id", filter.task_id);
  where.AddEquals("agent_id", filter.agent_id);
  return Read("listing session costs", [&](Connection& c) -> Result<std::vector<SessionCost>> {
    auto s = c.Prepare(std::string(std::string_view(kListCostsHead)) + where.sql + kListCostsTail);
    s->bind(where.Bind(*s), SqlLimit(filter.limit));
    std::vector<SessionCost> costs;
    while (s->executeStep()) costs.push_back(CostFromRow(*s));
    return costs;
  });
}

Result<PruneCounts> SqliteStore::PruneLogs(const std::string& before, int max_rows) {
  return Write("pruning old logs", [&](Connection& c) -> Result<PruneCounts> {
    PruneCounts counts;
    {
      auto s = c.Prepare(kPruneAgentLogs);
      BindAll(*s, before, max_rows);
      counts.agent_logs = s->exec();
    }
    auto s = c.Prepare(kPruneSessionLogs);
    BindAll(*s, before, max_rows);
    counts.session_logs = s->exec();
    return counts;
  });
}

// ---------------------------------------------------------------------------------------------
// Smoke runs.

namespace {

// The store reads back only JSON it wrote, but through the same bounds as outside input, and
// it refuses to write a document it could not read back.
constexpr JsonLimits kStoredJsonLimits{};

tl::unexpected<Error> SmokeRunNotFound(const std::string& id) {
  return NotFound(fmt::format("smoke run {} not found", id));
}

nlohmann::json ParseStoredJson(const std::string& text, const std::string& run_id,
                               std::string_view column) {
  auto json = ParseBoundedJson(text, kStoredJsonLimits);
  if (!json) {
    throw std::runtime_error(fmt::format("smoke run {} has an unreadable {} in the database: {}",
                                         run_id, column, json.error().message));
  }
  return std::move(*json);
}

Result<std::string> EncodeStoredJson(const nlohmann::json& json, const std::string& run_id,
                                     std::string_view what) {
  // Replacement keeps a worker's stray invalid UTF-8 (in an output, say) from failing the write.
  std::string text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kStoredJsonLimits.max_bytes) {
    return BadRequest(fmt::format("smoke run {}: its {} take {} bytes, over the {}-byte limit",
                                  run_id, what, text.size(), kStoredJsonLimits.max_bytes));
  }
  return text;
}

Result<std::string> EncodeResults(const SmokeRun& run) {
  nlohmann::json results = nlohmann::json::array();
  for (const ProviderSmokeResult& r : run.results) results.push_back(ProviderSmokeResultToJson(r));
  return EncodeStoredJson(results, run.id, "results");
}

SmokeRun SmokeRunFromRow(const SQLite::Statement& s) {
  Row row(s);
  SmokeRun run;
  run.id = row.Text();
  const std::string status = row.Text();
  if (auto parsed = ParseSmokeRunStatus(status)) {
    run.status = *parsed;
  } else {
    throw std::runtime_error(
        fmt::format("smoke run {} has unknown status '{}' in the database", run.id, status));
  }
  run.ok = row.Int() != 0;
  // core/smoke_run.h decodes a request only inside a run document: wrap it in a minimal one.
  const nlohmann::json wrapped = {{"id", run.id},
                                  {"status", status},
                                  {"request", ParseStoredJson(row.Text(), run.id, "request")}};
  if (auto decoded = SmokeRunFromJson(wrapped)) run.request = std::move(decoded->request);
  const nlohmann::json results = ParseStoredJson(row.Text(), run.id, "results");
  if (results.is_array()) {
    for (const nlohmann::json& r : results) {
      if (auto result = ProviderSmokeResultFromJson(r)) run.results.push_back(std::move(*result));
    }
  }
  run.api_version = row.Text();
  run.owner = row.Text();
  run.created_at = row.Text();
  run.updated_at = row.Text();
  run.finished_at = row.OptText();
  return run;
}

Result<SmokeRun> SelectSmokeRun(Connection& c, const std::string& id) {
  auto s = c.Prepare(kSelectSmokeRun);
  BindAll(*s, id);
  if (!s->executeStep()) return SmokeRunNotFound(id);
  return SmokeRunFromRow(*s);
}

// Writes the run's mutable fields while it is still running; the run as stored after the call.
Result<SmokeRun> UpdateRunningSmokeRun(Connection& c, const SmokeRun& run,
                                       const std::string& results_json) {
  auto s = c.Prepare(kUpdateSmokeRun);
  BindAll(*s, run.id, SmokeRunStatusName(run.status), run.ok ? 1 : 0, results_json, run.updated_at,
          run.finished_at);
  if (!s->executeStep()) return SmokeRunNotFound(run.id);
  return SmokeRunFromRow(*s);
}

}  // namespace

Result<SmokeRun> SqliteStore::CreateSmokeRun(const SmokeRun& run) {
  // SmokeRequestToJson redacts on its own too; redacting here as well keeps the guarantee
  // visible where the row is written.
  auto request_json =
      EncodeStoredJson(SmokeRequestToJson(RedactedSmokeRequest(run.request)), run.id, "request");
  if (!request_json) return tl::unexpected(request_json.error());
  auto results_json = EncodeResults(run);
  if (!results_json) return tl::unexpected(results_json.error());
  return Write("creating a smoke run", [&](Connection& c) -> Result<SmokeRun> {
    auto s = c.Prepare(kInsertSmokeRun);
    BindAll(*s, run.id, SmokeRunStatusName(run.status), run.ok ? 1 : 0, *request_json,
            *results_json, run.api_version, run.owner, run.created_at, run.updated_at,
            run.finished_at);
    try {
      s->executeStep();
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Conflict(fmt::format("smoke run {} already exists", run.id));
      }
      throw;
    }
    return SmokeRunFromRow(*s);
  });
}

Result<SmokeRun> SqliteStore::UpdateSmokeRun(const SmokeRun& run) {
  auto results_json = EncodeResults(run);
  if (!results_json) return tl::unexpected(results_json.error());
  return Write("updating a smoke run", [&](Connection& c) -> Result<SmokeRun> {
    if (auto updated = UpdateRunningSmokeRun(c, run, *results_json)) return updated;
    auto state = c.Prepare(kSmokeRunStatus);
    BindAll(*state, run.id);
    if (!state->executeStep()) return SmokeRunNotFound(run.id);
    return Conflict(fmt::format("smoke run {} is already {}", run.id, Row(*state).Text()));
  });
}

Result<SmokeRun> SqliteStore::GetSmokeRun(const std::string& id) {
  return Read("reading a smoke run", [&](Connection& c) { return SelectSmokeRun(c, id); });
}

Result<SmokeRunPage> SqliteStore::ListSmokeRuns(int limit, int offset) {
  return Read("listing smoke runs", [&](Connection& c) -> Result<SmokeRunPage> {
    // The page and its total come from one snapshot.
    Transaction snapshot(c, kBeginRead);
    SmokeRunPage page;
    {
      auto s = c.Prepare(kListSmokeRuns);
      BindAll(*s, SqlLimit(limit), std::max(0, offset));
      while (s->executeStep()) page.runs.push_back(SmokeRunFromRow(*s));
    }
    {
      auto count = c.Prepare(kCountSmokeRuns);
      count->executeStep();
      page.total = count->getColumn(0).getInt64();
    }
    snapshot.Commit();
    return page;
  });
}

Result<std::vector<SmokeRun>> SqliteStore::InterruptSmokeRuns(
    const std::vector<std::string>& live_ids, const std::string& reason, const std::string& now) {
  const std::set<std::string> live(live_ids.begin(), live_ids.end());
  return Write("interrupting smoke runs", [&](Connection& c) -> Result<std::vector<SmokeRun>> {
    std::vector<SmokeRun> orphans;
    {
      auto s = c.Prepare(kRunningSmokeRuns);
      while (s->executeStep()) {
        SmokeRun run = SmokeRunFromRow(*s);
        if (!live.count(run.id)) orphans.push_back(std::move(run));
      }
    }
    std::vector<SmokeRun> interrupted;
    for (SmokeRun& run : orphans) {
      run.status = SmokeRunStatus::kInterrupted;
      run.ok = false;
      run.updated_at = now;
      run.finished_at = now;
      for (ProviderSmokeResult& result : run.results) {
        if (result.phase == SmokePhase::kDone) continue;
        result.phase = SmokePhase::kDone;
        result.ok = false;
        // A reason the check already had (a wrong reply found before the kill, say) stays first.
        result.failure_reason =
            result.failure_reason ? *result.failure_reason + "; " + reason : reason;
      }
      auto results_json = EncodeResults(run);
      if (!results_json) return tl::unexpected(results_json.error());
      auto updated = UpdateRunningSmokeRun(c, run, *results_json);
      if (!updated) return tl::unexpected(updated.error());
      interrupted.push_back(std::move(*updated));
    }
    return interrupted;
  });
}

// ---------------------------------------------------------------------------------------------
// Upstream worker compatibility: credential reports, supersede and pause, active sessions.

namespace {

constexpr char kSelectAgentState[] = "SELECT status FROM agents WHERE id = ?";
constexpr char kAgentWaitsForCredentials[] =
    "UPDATE agents SET status = 'waiting_for_credentials', credential_missing = ?2, "
    "last_updated_at = ?3 WHERE id = ?1";
constexpr auto kAgentCredentialsReady =
    Concat("UPDATE agents SET status = ", kRevivedStatus,
           ", credential_missing = NULL, last_updated_at = ?2 WHERE id = ?1");
constexpr char kAgentCredentialMissing[] =
    "UPDATE agents SET credential_missing = ?2, last_updated_at = ?3 WHERE id = ?1";
constexpr char kAgentCredStatus[] =
    "UPDATE agents SET cred_status = ?2, last_updated_at = ?3 WHERE id = ?1";
constexpr char kAgentLatestModel[] =
    "UPDATE agents SET latest_model = ?2, last_updated_at = ?3 WHERE id = ?1";

// Only an in_progress task is handed back; the condition is checked by the UPDATE itself.
constexpr auto kSupersedeTask = Concat(
    "UPDATE tasks SET status = 'superseded', finished_at = ?2, last_updated_at = ?2 "
    "WHERE id = ?1 AND status = 'in_progress' RETURNING ",
    kTaskColumns);
constexpr auto kFailInProgressTask = Concat(
    "UPDATE tasks SET status = 'failed', failure_reason = ?2, finished_at = ?3, "
    "last_updated_at = ?3 WHERE id = ?1 AND status = 'in_progress' RETURNING ",
    kTaskColumns);
constexpr auto kPauseTask = Concat(
    "UPDATE tasks SET status = 'paused', last_updated_at = ?2 "
    "WHERE id = ?1 AND status = 'in_progress' RETURNING ",
    kTaskColumns);
constexpr auto kResumePausedTask = Concat(
    "UPDATE tasks SET status = CASE WHEN agent_id IS NULL THEN 'unassigned' ELSE 'pending' END, "
    "started_at = NULL, last_updated_at = ?2 WHERE id = ?1 AND status = 'paused' RETURNING ",
    kTaskColumns);
// Resumed by its holder (upstream's worker at boot): the caller runs it at once, as upstream's
// /resume does, so it goes straight back to in_progress instead of waiting to be claimed again.
constexpr auto kResumePausedTaskForHolder = Concat(
    "UPDATE tasks SET status = 'in_progress', started_at = ?2, last_updated_at = ?2 "
    "WHERE id = ?1 AND status = 'paused' RETURNING ",
    kTaskColumns);
constexpr auto kAgentInProgressTasks =
    Concat("SELECT ", kTaskColumns,
           " FROM tasks WHERE agent_id = ? AND status = 'in_progress' ORDER BY created_at, rowid");
constexpr char kTaskHasSession[] = "SELECT 1 FROM active_sessions WHERE task_id = ? LIMIT 1";

constexpr char kActiveSessionColumns[] =
    "id, agent_id, task_id, trigger_type, task_description, runner_session_id, started_at, "
    "last_heartbeat_at";
constexpr auto kInsertActiveSession =
    Concat("INSERT INTO active_sessions (", kActiveSessionColumns,
           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ", kActiveSessionColumns);
constexpr char kCountAgentSessions[] = "SELECT COUNT(*) FROM active_sessions WHERE agent_id = ?";
constexpr char kHeartbeatSessions[] =
    "UPDATE active_sessions SET last_heartbeat_at = ?2 WHERE task_id = ?1 RETURNING agent_id";
constexpr char kDeleteTaskSessions[] = "DELETE FROM active_sessions WHERE task_id = ?";
constexpr char kDeleteAgentSessions[] = "DELETE FROM active_sessions WHERE agent_id = ?";
constexpr auto kListAllSessions =
    Concat("SELECT ", kActiveSessionColumns,
           " FROM active_sessions ORDER BY started_at DESC, rowid DESC LIMIT ?");
constexpr auto kListAgentSessions =
    Concat("SELECT ", kActiveSessionColumns,
           " FROM active_sessions WHERE agent_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?");
// Upstream's resetOrphanedInProgressTasksForAgent: claimed, never started a provider session,
// no runner session either, and quiet since the cutoff.
constexpr auto kRecoverOrphans = Concat(
    "UPDATE tasks SET status = 'pending', started_at = NULL, last_updated_at = ?3 "
    "WHERE agent_id = ?1 AND status = 'in_progress' AND session_id IS NULL "
    "AND finished_at IS NULL AND last_updated_at < ?2 AND NOT EXISTS "
    "(SELECT 1 FROM active_sessions WHERE active_sessions.task_id = tasks.id) RETURNING ",
    kTaskColumns);

constexpr std::string_view kGenerationTag = "resume-generation:";
constexpr std::string_view kReasonTag = "reason:";
constexpr char kAutoResumeTag[] = "auto-resume";

// How many times the task's line was resumed already: its "resume-generation:<n>" tag.
int ResumeGeneration(const std::vector<std::string>& tags) {
  for (const std::string& tag : tags) {
    if (tag.rfind(kGenerationTag, 0) != 0) continue;
    try {
      const int n = std::stoi(tag.substr(kGenerationTag.size()));
      return n > 0 ? n : 0;
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

// The parent's tags without its own resume bookkeeping, then the child's.
std::vector<std::string> ResumeTags(const std::vector<std::string>& parent,
                                    const std::string& reason, int generation) {
  std::vector<std::string> tags;
  for (const std::string& tag : parent) {
    if (tag == kAutoResumeTag || tag.rfind(kGenerationTag, 0) == 0 ||
        tag.rfind(kReasonTag, 0) == 0) {
      continue;
    }
    tags.push_back(tag);
  }
  tags.emplace_back(kAutoResumeTag);
  tags.push_back(std::string(kReasonTag) + reason);
  tags.push_back(fmt::format("{}{}", kGenerationTag, generation));
  return tags;
}

ActiveSession ActiveSessionFromRow(const SQLite::Statement& s) {
  Row row(s);
  ActiveSession a;
  a.id = row.Text();
  a.agent_id = row.Text();
  a.task_id = row.OptText();
  a.trigger_type = row.Text();
  a.task_description = row.OptText();
  a.runner_session_id = row.OptText();
  a.started_at = row.Text();
  a.last_heartbeat_at = row.Text();
  return a;
}

void IdleIfFree(Connection& c, const std::optional<std::string>& agent_id, const std::string& now) {
  if (!agent_id) return;
  auto idle = c.Prepare(kIdleAgentIfFree);
  BindAll(*idle, *agent_id, now);
  idle->exec();
}

// The agent a resume child is pinned to: the parent's, when it is registered, not offline and
// has a free slot; otherwise the pool.
std::optional<std::string> ResumePin(Connection& c, const std::optional<std::string>& agent_id) {
  if (!agent_id) return std::nullopt;
  auto s = c.Prepare(kAgentCapacity);
  BindAll(*s, *agent_id);
  if (!s->executeStep()) return std::nullopt;
  const int max_tasks = s->getColumn(0).getInt();
  const int active = s->getColumn(1).getInt();
  std::string status;
  {
    auto state = c.Prepare(kSelectAgentState);
    BindAll(*state, *agent_id);
    if (state->executeStep()) status = state->getColumn(0).getString();
  }
  if (status == AgentStatusName(AgentStatus::kOffline) || active >= max_tasks) return std::nullopt;
  return agent_id;
}

// Fails an in_progress task inside the caller's transaction; nullopt if it was not in progress.
std::optional<Task> FailInProgress(Connection& c, const Task& task, const std::string& reason,
                                   const std::optional<std::string>& actor,
                                   const std::string& now) {
  auto s = c.Prepare(kFailInProgressTask);
  BindAll(*s, task.id, reason, now);
  if (!s->executeStep()) return std::nullopt;
  Task failed = TaskFromRow(*s);
  InsertLog(c, {"task_status_change", actor, task.id, TaskStatusName(TaskStatus::kInProgress),
                TaskStatusName(TaskStatus::kFailed), now});
  return failed;
}

// Supersedes `parent` (in_progress) and creates its resume child, or fails it past the
// generation limit, inside the caller's write transaction. `failure_context` opens the
// failure reason of the latter.
Result<SupersedeResult> SupersedeInTxn(Connection& c, const Task& parent, const std::string& reason,
                                       const std::string& child_id, int max_generations,
                                       const std::optional<std::string>& actor,
                                       const std::string& failure_context, const std::string& now) {
  const int generation = ResumeGeneration(parent.tags) + 1;
  SupersedeResult result;
  if (generation > max_generations) {
    const std::string why = fmt::format("{}: the task was already resumed {} times, the limit",
                                        failure_context, generation - 1);
    auto failed = FailInProgress(c, parent, why, actor, now);
    if (!failed) return Conflict(fmt::format("task {} is no longer in_progress", parent.id));
    IdleIfFree(c, parent.agent_id, now);
    result.kind = SupersedeKind::kFailed;
    result.task = std::move(*failed);
    return result;
  }
  {
    auto s = c.Prepare(kSupersedeTask);
    BindAll(*s, parent.id, now);
    if (!s->executeStep()) {
      return Conflict(fmt::format("task {} is no longer in_progress", parent.id));
    }
    result.task = TaskFromRow(*s);
  }
  // After the parent left in_progress, so its slot counts as free for its own child.
  NewTask child;
  child.id = child_id;
  child.agent_id = ResumePin(c, parent.agent_id);
  child.creator_agent_id = parent.creator_agent_id;
  child.task = parent.task;
  child.source = parent.source;
  child.task_type = "resume";
  child.tags = ResumeTags(parent.tags, reason, generation);
  child.priority = parent.priority;
  child.output_schema = parent.output_schema;
  child.parent_task_id = parent.id;
  child.now = now;
  auto created = InsertTask(c, child);
  if (!created) return tl::unexpected(created.error());
  InsertLog(c, {"task_status_change", actor, parent.id, TaskStatusName(TaskStatus::kInProgress),
                TaskStatusName(TaskStatus::kSuperseded), now});
  InsertLog(c, {"task_superseded", actor, parent.id, TaskStatusName(TaskStatus::kInProgress),
                TaskStatusName(TaskStatus::kSuperseded), now,
                nlohmann::json{{"reason", reason}, {"resumeTaskId", child_id}}.dump()});
  IdleIfFree(c, parent.agent_id, now);
  result.kind = SupersedeKind::kResumed;
  result.resume = std::move(*created);
  return result;
}

// The in_progress tasks of a worker process that is gone (it registered again as a new
// process, or stopped answering): those with an active session are superseded
// (crash_recovery), each resume child where ResumePin puts it (the agent when it is online with
// a free slot, else the pool); the others fail with `reason`, as the agent's doing. Sessionless
// ones go first, so their slots are free when the children are pinned. Then the agent's
// sessions go.
Result<LostWorkerRecovery> HandBackInProgressInTxn(
    Connection& c, const std::string& agent_id, const std::string& reason, int max_generations,
    const std::optional<std::string>& supersede_actor, const std::string& now) {
  LostWorkerRecovery handed;
  std::vector<Task> with_session;
  {
    auto s = c.Prepare(kAgentInProgressTasks);
    BindAll(*s, agent_id);
    for (Task& task : CollectTasks(*s)) {
      auto has = c.Prepare(kTaskHasSession);
      BindAll(*has, task.id);
      if (has->executeStep()) {
        with_session.push_back(std::move(task));
      } else if (auto failed = FailInProgress(c, task, reason, agent_id, now)) {
        handed.failed.push_back(std::move(*failed));
      }
    }
  }
  for (const Task& task : with_session) {
    auto superseded = SupersedeInTxn(c, task, "crash_recovery", NewUuid(), max_generations,
                                     supersede_actor, reason, now);
    if (!superseded) return tl::unexpected(superseded.error());
    if (superseded->kind == SupersedeKind::kFailed) {
      handed.failed.push_back(std::move(superseded->task));
    } else {
      handed.superseded.push_back(std::move(*superseded));
    }
  }
  IdleIfFree(c, agent_id, now);
  auto drop = c.Prepare(kDeleteAgentSessions);
  BindAll(*drop, agent_id);
  drop->exec();
  return handed;
}

// The task's status and holder, for the guarded transitions' refusals.
struct TaskState {
  TaskStatus status = TaskStatus::kUnassigned;
  std::optional<std::string> agent_id;
};

Result<TaskState> ReadTaskState(Connection& c, const std::string& task_id) {
  auto state = c.Prepare(kSelectTaskState);
  BindAll(*state, task_id);
  if (!state->executeStep()) return TaskNotFound(task_id);
  Row row(*state);
  TaskState out;
  out.status = DecodeTaskStatus(row.Text());
  out.agent_id = row.OptText();
  return out;
}

tl::unexpected<Error> NotTheHolder(const std::string& task_id, const TaskState& state,
                                   const std::string& agent_id) {
  return Forbidden(fmt::format("task {} is assigned to {}, not to agent {}", task_id,
                               state.agent_id ? "agent " + *state.agent_id : "no agent", agent_id));
}

}  // namespace

Result<Agent> SqliteStore::SetAgentCredentials(const CredentialReport& r, const std::string& now) {
  std::optional<std::string> missing;
  if (r.missing && !r.missing->empty()) missing = EncodeStringArray(*r.missing);
  return Write("storing a credential report", [&](Connection& c) -> Result<Agent> {
    {
      auto state = c.Prepare(kSelectAgentState);
      BindAll(*state, r.agent_id);
      if (!state->executeStep()) return AgentNotFound(r.agent_id);
    }
    if (r.ready && !*r.ready) {
      auto s = c.Prepare(kAgentWaitsForCredentials);
      BindAll(*s, r.agent_id, missing, now);
      s->exec();
    } else if (r.ready) {
      auto s = c.Prepare(kAgentCredentialsReady);
      BindAll(*s, r.agent_id, now);
      s->exec();
    } else if (r.missing) {
      auto s = c.Prepare(kAgentCredentialMissing);
      BindAll(*s, r.agent_id, missing, now);
      s->exec();
    }
    if (r.cred_status_given) {
      auto s = c.Prepare(kAgentCredStatus);
      BindAll(*s, r.agent_id, r.cred_status, now);
      s->exec();
    }
    if (r.latest_model) {
      auto s = c.Prepare(kAgentLatestModel);
      BindAll(*s, r.agent_id, r.latest_model, now);
      s->exec();
    }
    return SelectAgent(c, r.agent_id);
  });
}

Result<SupersedeResult> SqliteStore::SupersedeTask(const SupersedeRequest& request) {
  return Write("superseding a task", [&](Connection& c) -> Result<SupersedeResult> {
    auto task = SelectTask(c, request.task_id);
    if (!task) return tl::unexpected(task.error());
    if (request.agent_id && task->agent_id != request.agent_id) {
      return NotTheHolder(request.task_id, TaskState{task->status, task->agent_id},
                          *request.agent_id);
    }
    if (IsTerminal(task->status)) {
      SupersedeResult done;
      done.kind = SupersedeKind::kAlreadyFinished;
      done.task = std::move(*task);
      return done;
    }
    if (task->status != TaskStatus::kInProgress) {
      return Conflict(
          fmt::format("task {} is {}, not in_progress: only a running task can be "
                      "superseded",
                      request.task_id, TaskStatusName(task->status)));
    }
    return SupersedeInTxn(c, *task, request.reason, request.resume_task_id, request.max_generations,
                          request.agent_id, fmt::format("handed back ({})", request.reason),
                          request.now);
  });
}

Result<Task> SqliteStore::PauseTask(const std::string& task_id,
                                    const std::optional<std::string>& agent_id,
                                    const std::string& now) {
  return Write("pausing a task", [&](Connection& c) -> Result<Task> {
    auto state = ReadTaskState(c, task_id);
    if (!state) return tl::unexpected(state.error());
    if (agent_id && state->agent_id != agent_id) return NotTheHolder(task_id, *state, *agent_id);
    auto s = c.Prepare(kPauseTask);
    BindAll(*s, task_id, now);
    if (!s->executeStep()) {
      return Conflict(
          fmt::format("task {} is {}, not in_progress", task_id, TaskStatusName(state->status)));
    }
    Task task = TaskFromRow(*s);
    InsertLog(c, {"task_status_change", agent_id, task_id, TaskStatusName(TaskStatus::kInProgress),
                  TaskStatusName(TaskStatus::kPaused), now});
    IdleIfFree(c, task.agent_id, now);
    return task;
  });
}

Result<Task> SqliteStore::ResumeTask(const std::string& task_id,
                                     const std::optional<std::string>& agent_id,
                                     const std::string& now) {
  return Write("resuming a task", [&](Connection& c) -> Result<Task> {
    auto state = ReadTaskState(c, task_id);
    if (!state) return tl::unexpected(state.error());
    if (agent_id && state->agent_id != agent_id) return NotTheHolder(task_id, *state, *agent_id);
    auto s = c.Prepare(agent_id ? std::string_view(kResumePausedTaskForHolder)
                                : std::string_view(kResumePausedTask));
    BindAll(*s, task_id, now);
    if (!s->executeStep()) {
      return Conflict(
          fmt::format("task {} is {}, not paused", task_id, TaskStatusName(state->status)));
    }
    Task task = TaskFromRow(*s);
    if (task.status == TaskStatus::kInProgress) {
      auto busy = c.Prepare(kMarkAgentBusy);
      BindAll(*busy, *agent_id, now);
      busy->exec();
    }
    InsertLog(c, {"task_status_change", agent_id, task_id, TaskStatusName(TaskStatus::kPaused),
                  TaskStatusName(task.status), now});
    return task;
  });
}

Result<LostWorkerRecovery> SqliteStore::RecoverLostWorker(const std::string& agent_id,
                                                          const std::string& reason,
                                                          int max_generations,
                                                          const std::string& now) {
  return Write(
      "recovering a lost worker's tasks", [&](Connection& c) -> Result<LostWorkerRecovery> {
        bool agent_known = false;
        {
          // First: an offline agent gets no resume child pinned to it.
          auto offline = c.Prepare(kSetAgentOffline);
          BindAll(*offline, agent_id, now);
          agent_known = offline->exec() > 0;
        }
        // Superseded with no actor: the sweep's doing, not the agent's.
        auto handed =
            HandBackInProgressInTxn(c, agent_id, reason, max_generations, std::nullopt, now);
        if (!handed) return tl::unexpected(handed.error());
        if (!agent_known && handed->failed.empty() && handed->superseded.empty()) {
          return AgentNotFound(agent_id);
        }
        return std::move(*handed);
      });
}

Result<ActiveSession> SqliteStore::CreateActiveSession(const ActiveSession& session,
                                                       int max_per_agent) {
  return Write("opening an active session", [&](Connection& c) -> Result<ActiveSession> {
    {
      auto count = c.Prepare(kCountAgentSessions);
      BindAll(*count, session.agent_id);
      count->executeStep();
      if (count->getColumn(0).getInt64() >= max_per_agent) {
        return Conflict(fmt::format(
            "agent {} already has {} active sessions, the limit: end some first "
            "(DELETE /api/active-sessions/by-task/{{taskId}} or POST /api/active-sessions/cleanup)",
            session.agent_id, max_per_agent));
      }
    }
    auto s = c.Prepare(kInsertActiveSession);
    BindAll(*s, session.id, session.agent_id, session.task_id, session.trigger_type,
            session.task_description, session.runner_session_id, session.started_at,
            session.last_heartbeat_at);
    s->executeStep();
    return ActiveSessionFromRow(*s);
  });
}

Result<std::vector<std::string>> SqliteStore::HeartbeatActiveSession(const std::string& task_id,
                                                                     const std::string& now) {
  return Write("renewing an active session",
               [&](Connection& c) -> Result<std::vector<std::string>> {
                 auto s = c.Prepare(kHeartbeatSessions);
                 BindAll(*s, task_id, now);
                 std::vector<std::string> agents;
                 while (s->executeStep()) agents.push_back(s->getColumn(0).getString());
                 return Distinct(std::move(agents));
               });
}

Result<int> SqliteStore::DeleteActiveSessionsByTask(const std::string& task_id) {
  return Write("ending an active session", [&](Connection& c) -> Result<int> {
    auto s = c.Prepare(kDeleteTaskSessions);
    BindAll(*s, task_id);
    return s->exec();
  });
}

Result<int> SqliteStore::DeleteAgentActiveSessions(const std::string& agent_id) {
  return Write("ending an agent's active sessions", [&](Connection& c) -> Result<int> {
    auto s = c.Prepare(kDeleteAgentSessions);
    BindAll(*s, agent_id);
    return s->exec();
  });
}

Result<std::vector<ActiveSession>> SqliteStore::ListActiveSessions(
    const std::optional<std::string>& agent_id, int limit) {
  return Read("listing active sessions", [&](Connection& c) -> Result<std::vector<ActiveSession>> {
    auto s = c.Prepare(agent_id ? std::string_view(kListAgentSessions)
                                : std::string_view(kListAllSessions));
    if (agent_id) {
      BindAll(*s, *agent_id, SqlLimit(limit));
    } else {
      BindAll(*s, SqlLimit(limit));
    }
    std::vector<ActiveSession> sessions;
    while (s->executeStep()) sessions.push_back(ActiveSessionFromRow(*s));
    return sessions;
  });
}

Result<std::vector<Task>> SqliteStore::RecoverOrphanedTasks(const std::string& agent_id,
                                                            const std::string& cutoff,
                                                            const std::string& now) {
  return Write("recovering orphaned tasks", [&](Connection& c) -> Result<std::vector<Task>> {
    std::vector<Task> recovered;
    {
      auto s = c.Prepare(kRecoverOrphans);
      BindAll(*s, agent_id, cutoff, now);
      recovered = CollectTasks(*s);
    }
    std::sort(recovered.begin(), recovered.end(), [](const Task& a, const Task& b) {
      return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
    });
    for (const Task& task : recovered) {
      InsertLog(c, {"task_status_change", agent_id, task.id,
                    TaskStatusName(TaskStatus::kInProgress), TaskStatusName(TaskStatus::kPending),
                    now, nlohmann::json{{"orphanedInProgressRecovery", true}}.dump()});
    }
    IdleIfFree(c, agent_id, now);
    return recovered;
  });
}

}  // namespace swarm
