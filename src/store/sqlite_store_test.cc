#include "store/sqlite_store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/migrations.h"

namespace swarm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Timestamps `s` seconds after a fixed instant, so tests control ordering.
std::string At(int s) { return FormatIsoTime(TimePoint(std::chrono::seconds(1'767'225'600 + s))); }

// Builders: the structs have many optional members, so spell out only what a test needs.
NewTask MakeTask(const std::string& id, int at) {
  NewTask t;
  t.id = id;
  t.task = "task " + id;
  t.now = At(at);
  return t;
}

TerminalUpdate Terminal(TaskStatus status, int at, std::optional<std::string> output = std::nullopt,
                        std::optional<std::string> failure_reason = std::nullopt) {
  TerminalUpdate update;
  update.status = status;
  update.output = std::move(output);
  update.failure_reason = std::move(failure_reason);
  update.now = At(at);
  return update;
}

TaskFilter Filter(std::vector<TaskStatus> statuses, std::optional<std::string> agent_id = {},
                  std::vector<std::string> sources = {}, int limit = 25, int offset = 0) {
  TaskFilter filter;
  filter.statuses = std::move(statuses);
  filter.agent_id = std::move(agent_id);
  filter.sources = std::move(sources);
  filter.limit = limit;
  filter.offset = offset;
  return filter;
}

CostFilter Costs(std::optional<std::string> task_id, std::optional<std::string> agent_id,
                 int limit = 100) {
  CostFilter filter;
  filter.task_id = std::move(task_id);
  filter.agent_id = std::move(agent_id);
  filter.limit = limit;
  return filter;
}

SqliteStoreOptions Options(int max_readers, int checkpoint_pages = 1000) {
  SqliteStoreOptions options;
  options.max_readers = max_readers;
  options.checkpoint_pages = checkpoint_pages;
  return options;
}

class SqliteStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "sqlite_store_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    path_ = dir_ + "/swarm.db";
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen(SqliteStoreOptions options = {}) {
    store_.reset();
    auto opened = SqliteStore::Open(path_, options);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  Agent Register(const std::string& id, std::optional<int> max_tasks = std::nullopt, int at = 0) {
    AgentRegistration reg;
    reg.id = id;
    reg.name = "name-" + id;
    reg.max_tasks = max_tasks;
    auto upserted = store_->UpsertAgent(reg, At(at));
    EXPECT_TRUE(upserted) << upserted.error().message;
    return upserted ? upserted->agent : Agent{};
  }

  Task Create(const std::string& id, std::optional<std::string> agent_id = std::nullopt,
              int priority = 50, int at = 0, const std::string& source = "api") {
    NewTask t;
    t.id = id;
    t.agent_id = std::move(agent_id);
    t.task = "do " + id;
    t.priority = priority;
    t.source = source;
    t.now = At(at);
    auto created = store_->CreateTask(t);
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : Task{};
  }

  // The claimed task's id, or "" when nothing was claimable.
  std::string Claim(const std::string& agent_id, bool include_pool = true, int at = 100) {
    auto claimed = store_->ClaimTask(agent_id, include_pool, At(at));
    EXPECT_TRUE(claimed) << claimed.error().message;
    return claimed && *claimed ? (*claimed)->id : "";
  }

  TerminalResult Finish(const std::string& task_id, TaskStatus status, int at = 200,
                        std::optional<TaskStatus> required = std::nullopt) {
    TerminalUpdate update;
    update.status = status;
    update.required_status = required;
    update.now = At(at);
    auto finished = store_->FinishTask(task_id, update);
    EXPECT_TRUE(finished) << finished.error().message;
    return finished ? *finished : TerminalResult{};
  }

  Task Get(const std::string& id) {
    auto task = store_->GetTask(id);
    EXPECT_TRUE(task) << task.error().message;
    return task ? *task : Task{};
  }

  Agent GetAgent(const std::string& id) {
    auto agent = store_->GetAgent(id);
    EXPECT_TRUE(agent) << agent.error().message;
    return agent ? *agent : Agent{};
  }

  std::vector<std::string> LogEvents(const std::string& task_id) {
    auto logs = store_->ListTaskLogs(task_id, 0);
    EXPECT_TRUE(logs) << logs.error().message;
    std::vector<std::string> events;
    if (logs) {
      for (const AgentLog& log : *logs) events.push_back(log.event_type);
    }
    return events;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

// --- opening and migrations ---

TEST_F(SqliteStoreTest, OpensInWalModeWithMigrationsRecorded) {
  SQLite::Database db(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(EmbeddedMigrations().size()));
}

TEST_F(SqliteStoreTest, ReopeningDoesNotReapplyMigrations) {
  Reopen();
  Reopen();
  SQLite::Database db(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(EmbeddedMigrations().size()));
}

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  Register("a1", 2);
  Create("t1", "a1", 70, 1);
  ASSERT_EQ(Claim("a1"), "t1");
  Reopen();
  const Task task = Get("t1");
  EXPECT_EQ(task.status, TaskStatus::kInProgress);
  EXPECT_EQ(task.priority, 70);
  const Agent agent = GetAgent("a1");
  EXPECT_EQ(agent.max_tasks, 2);
  EXPECT_EQ(agent.active_tasks, 1);
  EXPECT_EQ(LogEvents("t1").size(), 3u);
}

// synchronous=NORMAL in WAL mode: a commit that returned survives the process being killed.
TEST_F(SqliteStoreTest, CommittedWritesSurviveKill9) {
  store_.reset();  // no SQLite connection or store thread may cross the fork
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    auto store = SqliteStore::Open(path_);
    NewTask t = MakeTask("survivor", 1);
    if (!store || !(*store)->CreateTask(t)) _exit(1);
    kill(getpid(), SIGKILL);
    _exit(2);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  Reopen();
  EXPECT_EQ(Get("survivor").task, "task survivor");
  EXPECT_EQ(LogEvents("survivor").size(), 1u);
}

TEST_F(SqliteStoreTest, BackgroundCheckpointCopiesTheWalIntoTheDatabase) {
  Reopen(Options(2, /*checkpoint_pages=*/16));
  const auto initial_size = std::filesystem::file_size(path_);
  for (int i = 0; i < 300; ++i) Create(fmt::format("t{}", i), std::nullopt, 50, i);
  // The checkpoint runs on its own thread; give it time on a loaded machine.
  for (int i = 0; i < 500 && std::filesystem::file_size(path_) == initial_size; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(std::filesystem::file_size(path_), initial_size);
  for (int i = 0; i < 300; i += 37)
    EXPECT_EQ(Get(fmt::format("t{}", i)).status, TaskStatus::kUnassigned);
  Reopen();
  auto page = store_->ListTasks({});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 300);
}

TEST_F(SqliteStoreTest, WorksWithSqliteOwnCheckpoints) {
  Reopen(Options(2, /*checkpoint_pages=*/0));
  for (int i = 0; i < 200; ++i) Create(fmt::format("t{}", i), std::nullopt, 50, i);
  Reopen();
  auto page = store_->ListTasks({});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 200);
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerBinary) {
  store_.reset();
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_migrations VALUES (9999, 'future', '2099-01-01T00:00:00.000Z')");
  }
  auto opened = SqliteStore::Open(path_);
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message, HasSubstr("9999"));
}

TEST_F(SqliteStoreTest, OpenFailsCleanlyOnAnUnusablePath) {
  auto opened = SqliteStore::Open(dir_ + "/no/such/dir/x.db");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
}

TEST(SqliteStoreMemoryTest, InMemoryDatabaseWorks) {
  auto opened = SqliteStore::Open(":memory:");
  ASSERT_TRUE(opened) << opened.error().message;
  SqliteStore& store = **opened;
  AgentRegistration reg;
  reg.id = "a";
  reg.name = "A";
  ASSERT_TRUE(store.UpsertAgent(reg, At(0)));
  NewTask t = MakeTask("t", 1);
  ASSERT_TRUE(store.CreateTask(t));
  auto claimed = store.ClaimTask("a", true, At(2));
  ASSERT_TRUE(claimed && *claimed);
  auto got = store.GetTask("t");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, TaskStatus::kInProgress);
  auto page = store.ListTasks({});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 1);
}

// --- agents ---

TEST_F(SqliteStoreTest, UpsertCreatesAnIdleAgentWithDefaults) {
  AgentRegistration reg;
  reg.id = "a1";
  reg.name = "worker one";
  reg.is_lead = true;
  reg.role = "coder";
  reg.description = "writes code";
  reg.capabilities = {"core", "task-pool"};
  reg.provider = "claude";
  reg.harness_provider = "claude";
  auto upserted = store_->UpsertAgent(reg, At(5));
  ASSERT_TRUE(upserted) << upserted.error().message;
  EXPECT_TRUE(upserted->created);
  const Agent& a = upserted->agent;
  EXPECT_EQ(a.id, "a1");
  EXPECT_EQ(a.name, "worker one");
  EXPECT_TRUE(a.is_lead);
  EXPECT_EQ(a.status, AgentStatus::kIdle);
  EXPECT_EQ(a.role, "coder");
  EXPECT_EQ(a.description, "writes code");
  EXPECT_THAT(a.capabilities, ElementsAre("core", "task-pool"));
  EXPECT_EQ(a.max_tasks, 1);
  EXPECT_EQ(a.provider, "claude");
  EXPECT_EQ(a.harness_provider, "claude");
  EXPECT_EQ(a.created_at, At(5));
  EXPECT_EQ(a.last_updated_at, At(5));
  EXPECT_EQ(a.active_tasks, 0);

  const Agent read = GetAgent("a1");
  EXPECT_EQ(read.name, a.name);
  EXPECT_THAT(read.capabilities, ElementsAre("core", "task-pool"));
}

TEST_F(SqliteStoreTest, ReRegistrationKeepsTheNameAndReplacesGivenFields) {
  AgentRegistration reg;
  reg.id = "a1";
  reg.name = "first";
  reg.role = "coder";
  reg.capabilities = {"core"};
  reg.provider = "claude";
  ASSERT_TRUE(store_->UpsertAgent(reg, At(0)));

  AgentRegistration again;
  again.id = "a1";
  again.name = "second";
  again.max_tasks = 4;
  again.provider = "codex";
  auto upserted = store_->UpsertAgent(again, At(10));
  ASSERT_TRUE(upserted) << upserted.error().message;
  EXPECT_FALSE(upserted->created);
  const Agent& a = upserted->agent;
  EXPECT_EQ(a.name, "first");
  EXPECT_EQ(a.max_tasks, 4);
  EXPECT_EQ(a.provider, "codex");
  EXPECT_EQ(a.role, "coder");                        // not given: kept
  EXPECT_THAT(a.capabilities, ElementsAre("core"));  // empty list: kept
  EXPECT_EQ(a.created_at, At(0));
  EXPECT_EQ(a.last_updated_at, At(10));

  again.capabilities = {"scripts"};
  again.max_tasks.reset();
  upserted = store_->UpsertAgent(again, At(11));
  ASSERT_TRUE(upserted);
  EXPECT_THAT(upserted->agent.capabilities, ElementsAre("scripts"));
  EXPECT_EQ(upserted->agent.max_tasks, 4);
}

TEST_F(SqliteStoreTest, VersionsAreWrittenWhenGivenAndKeptOtherwise) {
  AgentRegistration reg;
  reg.id = "a1";
  reg.name = "worker";
  auto first = store_->UpsertAgent(reg, At(0));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->agent.version, std::nullopt);
  EXPECT_EQ(first->agent.cli_version, std::nullopt);

  reg.version = "0.8.0+abc1234";
  reg.cli_version = "2.1.3 (Claude Code)";
  ASSERT_TRUE(store_->UpsertAgent(reg, At(1)));
  reg.version.reset();
  reg.cli_version.reset();
  auto kept = store_->UpsertAgent(reg, At(2));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->agent.version, "0.8.0+abc1234");
  EXPECT_EQ(kept->agent.cli_version, "2.1.3 (Claude Code)");

  reg.version = "0.9.0+def5678";
  ASSERT_TRUE(store_->UpsertAgent(reg, At(3)));
  EXPECT_EQ(GetAgent("a1").version, "0.9.0+def5678");
  EXPECT_EQ(GetAgent("a1").cli_version, "2.1.3 (Claude Code)");

  AgentRegistration fresh;
  fresh.id = "a2";
  fresh.name = "new worker";
  fresh.version = "0.9.0+def5678";
  fresh.cli_version = "0.44.0";
  ASSERT_TRUE(store_->UpsertAgent(fresh, At(4)));
  auto agents = store_->ListAgents();
  ASSERT_TRUE(agents) << agents.error().message;
  ASSERT_EQ(agents->size(), 2u);
  EXPECT_EQ((*agents)[1].version, "0.9.0+def5678");
  EXPECT_EQ((*agents)[1].cli_version, "0.44.0");
  ASSERT_TRUE(store_->SetAgentStatus("a2", AgentStatus::kOffline, At(5)));
  auto touched = store_->TouchAgent("a2", At(6));
  ASSERT_TRUE(touched);
  EXPECT_EQ(touched->cli_version, "0.44.0");
}

TEST_F(SqliteStoreTest, ReRegistrationRevivesAnOfflineAgent) {
  Register("a1");
  ASSERT_TRUE(store_->SetAgentStatus("a1", AgentStatus::kOffline, At(1)));
  EXPECT_EQ(Register("a1", std::nullopt, 2).status, AgentStatus::kIdle);
}

TEST_F(SqliteStoreTest, ReRegistrationKeepsABusyAgentBusy) {
  Register("a1");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1"), "t1");
  EXPECT_EQ(Register("a1", std::nullopt, 2).status, AgentStatus::kBusy);
}

TEST_F(SqliteStoreTest, UnknownAgentIsNotFound) {
  auto agent = store_->GetAgent("ghost");
  ASSERT_FALSE(agent);
  EXPECT_EQ(agent.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(agent.error().message, "agent ghost not found");
  EXPECT_EQ(store_->SetAgentStatus("ghost", AgentStatus::kIdle, At(0)).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->TouchAgent("ghost", At(0)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->ClaimTask("ghost", true, At(0)).error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, ListAgentsInCreationOrderWithActiveTasks) {
  Register("b", 3, 1);
  Register("a", 1, 2);
  Register("c", 1, 3);
  Create("t1", "b");
  Create("t2", "b");
  ASSERT_FALSE(Claim("b").empty());
  ASSERT_FALSE(Claim("b").empty());
  auto agents = store_->ListAgents();
  ASSERT_TRUE(agents) << agents.error().message;
  ASSERT_EQ(agents->size(), 3u);
  EXPECT_EQ((*agents)[0].id, "b");
  EXPECT_EQ((*agents)[1].id, "a");
  EXPECT_EQ((*agents)[2].id, "c");
  EXPECT_EQ((*agents)[0].active_tasks, 2);
  EXPECT_EQ((*agents)[1].active_tasks, 0);
}

TEST_F(SqliteStoreTest, SetAgentStatus) {
  Register("a1");
  auto agent = store_->SetAgentStatus("a1", AgentStatus::kOffline, At(7));
  ASSERT_TRUE(agent) << agent.error().message;
  EXPECT_EQ(agent->status, AgentStatus::kOffline);
  EXPECT_EQ(agent->last_updated_at, At(7));
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kOffline);
}

TEST_F(SqliteStoreTest, TouchRecordsActivityAndRevivesOfflineAgents) {
  Register("idle");
  Register("busy");
  Create("t1", "busy");
  ASSERT_EQ(Claim("busy"), "t1");

  auto touched = store_->TouchAgent("idle", At(50));
  ASSERT_TRUE(touched) << touched.error().message;
  EXPECT_EQ(touched->last_activity_at, At(50));
  EXPECT_EQ(touched->status, AgentStatus::kIdle);
  EXPECT_EQ(touched->last_updated_at, At(0));  // a heartbeat is not a change

  ASSERT_TRUE(store_->SetAgentStatus("idle", AgentStatus::kOffline, At(51)));
  ASSERT_TRUE(store_->SetAgentStatus("busy", AgentStatus::kOffline, At(51)));
  EXPECT_EQ(store_->TouchAgent("idle", At(52))->status, AgentStatus::kIdle);
  EXPECT_EQ(store_->TouchAgent("busy", At(52))->status, AgentStatus::kBusy);
  EXPECT_EQ(store_->TouchAgent("busy", At(53))->status, AgentStatus::kBusy);
}

// --- tasks: create and read ---

TEST_F(SqliteStoreTest, CreateTaskRoundTripsEveryField) {
  NewTask t;
  t.id = "t1";
  t.agent_id = "a1";
  t.creator_agent_id = "lead";
  t.task = "write a poem";
  t.source = "mcp";
  t.task_type = "poem";
  t.tags = {"x", "y z"};
  t.priority = 90;
  t.output_schema = R"({"type":"object"})";
  t.model = "sonnet";
  t.now = At(3);
  auto created = store_->CreateTask(t);
  ASSERT_TRUE(created) << created.error().message;
  const Task& c = *created;
  EXPECT_EQ(c.id, "t1");
  EXPECT_EQ(c.agent_id, "a1");
  EXPECT_EQ(c.creator_agent_id, "lead");
  EXPECT_EQ(c.task, "write a poem");
  EXPECT_EQ(c.status, TaskStatus::kPending);
  EXPECT_EQ(c.source, "mcp");
  EXPECT_EQ(c.task_type, "poem");
  EXPECT_THAT(c.tags, ElementsAre("x", "y z"));
  EXPECT_EQ(c.priority, 90);
  EXPECT_EQ(c.output_schema, R"({"type":"object"})");
  EXPECT_EQ(c.model, "sonnet");
  EXPECT_EQ(c.created_at, At(3));
  EXPECT_EQ(c.last_updated_at, At(3));
  EXPECT_FALSE(c.output || c.failure_reason || c.progress || c.session_id || c.provider ||
               c.started_at || c.finished_at || c.total_cost_usd);

  const Task read = Get("t1");
  EXPECT_EQ(read.task, c.task);
  EXPECT_EQ(read.status, c.status);
  EXPECT_EQ(read.tags, c.tags);
  EXPECT_EQ(read.created_at, c.created_at);
  EXPECT_FALSE(read.total_cost_usd);
}

TEST_F(SqliteStoreTest, TaskWithoutAgentGoesToThePool) {
  EXPECT_EQ(Create("t1").status, TaskStatus::kUnassigned);
  EXPECT_FALSE(Get("t1").agent_id);
}

TEST_F(SqliteStoreTest, CreateTasksWritesTheWholeBatch) {
  Register("w");
  NewTask pooled = MakeTask("b1", 1);
  NewTask assigned = MakeTask("b2", 2);
  assigned.agent_id = "w";
  auto created = store_->CreateTasks({pooled, assigned});
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_EQ(created->size(), 2u);
  EXPECT_EQ((*created)[0].status, TaskStatus::kUnassigned);
  EXPECT_EQ((*created)[1].status, TaskStatus::kPending);
  EXPECT_EQ(store_->GetTask("b2")->agent_id, "w");
  auto logs = store_->ListTaskLogs("b1", 10);
  ASSERT_TRUE(logs);
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].event_type, "task_created");
}

TEST_F(SqliteStoreTest, CreateTasksIsAllOrNothing) {
  Create("dup");
  auto created = store_->CreateTasks({MakeTask("fresh", 1), MakeTask("dup", 2)});
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->GetTask("fresh").error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, GetTaskDetailHasLogsNewestFirstAndTheCostSum) {
  Register("w");
  Create("t", "w");
  ASSERT_EQ(Claim("w"), "t");
  auto bare = store_->GetTaskDetail("t", 10);
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->task.total_cost_usd, std::nullopt);
  ASSERT_GE(bare->logs.size(), 2u);
  EXPECT_EQ(bare->logs.back().event_type, "task_created");
  for (double usd : {0.25, 0.5}) {
    SessionCost cost;
    cost.session_id = "s";
    cost.task_id = "t";
    cost.agent_id = "w";
    cost.total_cost_usd = usd;
    cost.created_at = At(5);
    ASSERT_TRUE(store_->AddSessionCost(cost));
  }
  auto detail = store_->GetTaskDetail("t", 1);
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->task.total_cost_usd, 0.75);
  EXPECT_EQ(detail->logs.size(), 1u);
  EXPECT_EQ(store_->GetTaskDetail("nope", 10).error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, CreateTaskLogsTaskCreated) {
  NewTask t = MakeTask("t1", 4);
  t.creator_agent_id = "lead";
  ASSERT_TRUE(store_->CreateTask(t));
  auto logs = store_->ListTaskLogs("t1", 10);
  ASSERT_TRUE(logs);
  ASSERT_EQ(logs->size(), 1u);
  const AgentLog& log = (*logs)[0];
  EXPECT_EQ(log.event_type, "task_created");
  EXPECT_EQ(log.task_id, "t1");
  EXPECT_EQ(log.agent_id, "lead");
  EXPECT_EQ(log.new_value, "unassigned");
  EXPECT_EQ(log.created_at, At(4));
  EXPECT_FALSE(log.id.empty());
}

TEST_F(SqliteStoreTest, DuplicateTaskIdIsAConflict) {
  Create("t1");
  NewTask t = MakeTask("t1", 1);
  auto created = store_->CreateTask(t);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Get("t1").task, "do t1");
  EXPECT_EQ(LogEvents("t1").size(), 1u);  // the failed create left no log
}

TEST_F(SqliteStoreTest, UnknownTaskIsNotFound) {
  auto task = store_->GetTask("nope");
  ASSERT_FALSE(task);
  EXPECT_EQ(task.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(task.error().message, "task nope not found");
  EXPECT_EQ(store_->SetTaskProgress("nope", "p", std::nullopt, At(0)).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->SetTaskSession("nope", "s", std::nullopt, std::nullopt, At(0), std::nullopt)
                .error()
                .code,
            ErrorCode::kNotFound);
  TerminalUpdate update = Terminal(TaskStatus::kCompleted, 0);
  EXPECT_EQ(store_->FinishTask("nope", update).error().code, ErrorCode::kNotFound);
}

// --- claims ---

TEST_F(SqliteStoreTest, ClaimMovesTheTaskToInProgressAndTheAgentToBusy) {
  Register("a1");
  Create("t1", "a1", 50, 1);
  auto claimed = store_->ClaimTask("a1", true, At(9));
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_TRUE(*claimed);
  const Task& t = **claimed;
  EXPECT_EQ(t.id, "t1");
  EXPECT_EQ(t.status, TaskStatus::kInProgress);
  EXPECT_EQ(t.agent_id, "a1");
  EXPECT_EQ(t.started_at, At(9));
  EXPECT_EQ(t.last_updated_at, At(9));
  EXPECT_EQ(Get("t1").status, TaskStatus::kInProgress);
  const Agent agent = GetAgent("a1");
  EXPECT_EQ(agent.status, AgentStatus::kBusy);
  EXPECT_EQ(agent.active_tasks, 1);

  auto logs = store_->ListTaskLogs("t1", 0);
  ASSERT_TRUE(logs);
  ASSERT_EQ(logs->size(), 3u);  // newest first
  EXPECT_EQ((*logs)[0].event_type, "task_status_change");
  EXPECT_EQ((*logs)[0].old_value, "pending");
  EXPECT_EQ((*logs)[0].new_value, "in_progress");
  EXPECT_EQ((*logs)[0].agent_id, "a1");
  EXPECT_EQ((*logs)[1].event_type, "task_claimed");
  EXPECT_EQ((*logs)[1].agent_id, "a1");
  EXPECT_EQ((*logs)[2].event_type, "task_created");
}

TEST_F(SqliteStoreTest, ClaimFromThePoolRecordsTheOldStatus) {
  Register("a1");
  Create("t1");
  ASSERT_EQ(Claim("a1"), "t1");
  auto logs = store_->ListTaskLogs("t1", 1);
  ASSERT_TRUE(logs);
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].old_value, "unassigned");
  EXPECT_EQ(Get("t1").agent_id, "a1");
}

TEST_F(SqliteStoreTest, ClaimPrefersOwnPendingTasksOverThePool) {
  Register("a1", 10);
  Create("pool", std::nullopt, 100, 0);
  Create("mine", "a1", 1, 5);
  EXPECT_EQ(Claim("a1"), "mine");
  EXPECT_EQ(Claim("a1"), "pool");
  EXPECT_EQ(Claim("a1"), "");
}

TEST_F(SqliteStoreTest, ClaimOrdersByPriorityThenAgeThenInsertion) {
  Register("a1", 10);
  Create("low-old", std::nullopt, 10, 0);
  Create("high-new", std::nullopt, 80, 9);
  Create("high-old", std::nullopt, 80, 1);
  Create("mid-tie-1", std::nullopt, 50, 3);
  Create("mid-tie-2", std::nullopt, 50, 3);
  EXPECT_EQ(Claim("a1"), "high-old");
  EXPECT_EQ(Claim("a1"), "high-new");
  EXPECT_EQ(Claim("a1"), "mid-tie-1");
  EXPECT_EQ(Claim("a1"), "mid-tie-2");
  EXPECT_EQ(Claim("a1"), "low-old");
}

TEST_F(SqliteStoreTest, ClaimWithoutPoolIgnoresUnassignedTasks) {
  Register("a1");
  Create("pool");
  EXPECT_EQ(Claim("a1", /*include_pool=*/false), "");
  EXPECT_EQ(Get("pool").status, TaskStatus::kUnassigned);
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kIdle);
}

TEST_F(SqliteStoreTest, ClaimNeverTakesAnotherAgentsPendingTask) {
  Register("a1");
  Register("a2");
  Create("for-a2", "a2");
  EXPECT_EQ(Claim("a1"), "");
  EXPECT_EQ(Claim("a2"), "for-a2");
}

TEST_F(SqliteStoreTest, ClaimRespectsMaxTasks) {
  Register("a1", 2);
  for (int i = 0; i < 4; ++i) Create(fmt::format("t{}", i), std::nullopt, 50, i);
  EXPECT_EQ(Claim("a1"), "t0");
  EXPECT_EQ(Claim("a1"), "t1");
  EXPECT_EQ(Claim("a1"), "");  // full
  EXPECT_EQ(GetAgent("a1").active_tasks, 2);
  Finish("t0", TaskStatus::kCompleted);
  EXPECT_EQ(Claim("a1"), "t2");
  EXPECT_EQ(Claim("a1"), "");
}

TEST_F(SqliteStoreTest, NothingToClaimWritesNothing) {
  Register("a1");
  EXPECT_EQ(Claim("a1"), "");
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kIdle);
}

// --- terminal writes ---

TEST_F(SqliteStoreTest, FinishCompletesTheTask) {
  Register("a1");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1"), "t1");
  TerminalUpdate update;
  update.status = TaskStatus::kCompleted;
  update.output = R"({"reply":"pong"})";
  update.actor_agent_id = "a1";
  update.now = At(300);
  auto result = store_->FinishTask("t1", update);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->applied);
  EXPECT_EQ(result->task.status, TaskStatus::kCompleted);
  EXPECT_EQ(result->task.output, R"({"reply":"pong"})");
  EXPECT_EQ(result->task.finished_at, At(300));
  EXPECT_EQ(result->task.last_updated_at, At(300));
  EXPECT_FALSE(result->task.failure_reason);

  auto logs = store_->ListTaskLogs("t1", 1);
  ASSERT_TRUE(logs);
  EXPECT_EQ((*logs)[0].event_type, "task_status_change");
  EXPECT_EQ((*logs)[0].old_value, "in_progress");
  EXPECT_EQ((*logs)[0].new_value, "completed");
  EXPECT_EQ((*logs)[0].agent_id, "a1");
}

TEST_F(SqliteStoreTest, FinishWithFailureReason) {
  Create("t1");
  TerminalUpdate update =
      Terminal(TaskStatus::kFailed, 5, "raw", "output does not match the schema");
  auto result = store_->FinishTask("t1", update);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->applied);
  EXPECT_EQ(result->task.status, TaskStatus::kFailed);
  EXPECT_EQ(result->task.output, "raw");
  EXPECT_EQ(result->task.failure_reason, "output does not match the schema");
}

TEST_F(SqliteStoreTest, FirstTerminalWriteWins) {
  Register("a1");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1"), "t1");
  TerminalUpdate done = Terminal(TaskStatus::kCompleted, 10, "first");
  ASSERT_TRUE(store_->FinishTask("t1", done)->applied);
  const size_t logs_before = LogEvents("t1").size();

  TerminalUpdate late = Terminal(TaskStatus::kFailed, 20, "second", "late");
  auto result = store_->FinishTask("t1", late);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(result->applied);
  EXPECT_EQ(result->task.status, TaskStatus::kCompleted);
  EXPECT_EQ(result->task.output, "first");
  EXPECT_FALSE(result->task.failure_reason);
  EXPECT_EQ(result->task.finished_at, At(10));
  EXPECT_EQ(LogEvents("t1").size(), logs_before);  // nothing written

  EXPECT_FALSE(Finish("t1", TaskStatus::kCancelled).applied);
}

TEST_F(SqliteStoreTest, RequiredStatusGuardsTheWrite) {
  Register("a1");
  Create("t1", "a1");
  // Still pending: a finish that needs in_progress does not apply.
  auto early = Finish("t1", TaskStatus::kCompleted, 5, TaskStatus::kInProgress);
  EXPECT_FALSE(early.applied);
  EXPECT_EQ(early.task.status, TaskStatus::kPending);
  ASSERT_EQ(Claim("a1"), "t1");
  auto now = Finish("t1", TaskStatus::kCompleted, 6, TaskStatus::kInProgress);
  EXPECT_TRUE(now.applied);
  EXPECT_EQ(now.task.status, TaskStatus::kCompleted);
}

TEST_F(SqliteStoreTest, CancelAPendingTask) {
  Create("t1", "a1");
  auto result = Finish("t1", TaskStatus::kCancelled, 8);
  EXPECT_TRUE(result.applied);
  EXPECT_EQ(result.task.status, TaskStatus::kCancelled);
  EXPECT_EQ(result.task.finished_at, At(8));
}

TEST_F(SqliteStoreTest, FinishWithANonTerminalStatusIsRejected) {
  Create("t1");
  TerminalUpdate update = Terminal(TaskStatus::kInProgress, 1);
  auto result = store_->FinishTask("t1", update);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(Get("t1").status, TaskStatus::kUnassigned);
}

TEST_F(SqliteStoreTest, AgentGoesIdleAfterFinishingItsLastTask) {
  Register("a1", 2);
  Create("t1", "a1", 50, 0);
  Create("t2", "a1", 50, 1);
  ASSERT_EQ(Claim("a1"), "t1");
  ASSERT_EQ(Claim("a1"), "t2");
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kBusy);
  Finish("t1", TaskStatus::kCompleted);
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kBusy);
  EXPECT_EQ(GetAgent("a1").active_tasks, 1);
  Finish("t2", TaskStatus::kFailed);
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kIdle);
  EXPECT_EQ(GetAgent("a1").active_tasks, 0);
}

TEST_F(SqliteStoreTest, FinishingLeavesAnOfflineAgentOffline) {
  Register("a1");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1"), "t1");
  ASSERT_TRUE(store_->SetAgentStatus("a1", AgentStatus::kOffline, At(1)));
  Finish("t1", TaskStatus::kCompleted);
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kOffline);
}

TEST_F(SqliteStoreTest, FailAgentTasksFailsOnlyInProgressTasks) {
  Register("a1", 5);
  Register("a2", 5);
  Create("run1", "a1", 50, 0);
  Create("run2", "a1", 50, 1);
  ASSERT_EQ(Claim("a1"), "run1");
  ASSERT_EQ(Claim("a1"), "run2");
  Create("waiting", "a1", 50, 2);
  Create("other", "a2", 50, 3);
  ASSERT_EQ(Claim("a2"), "other");

  auto failed = store_->FailAgentTasks("a1", "worker stopped responding", At(400));
  ASSERT_TRUE(failed) << failed.error().message;
  ASSERT_EQ(failed->size(), 2u);
  EXPECT_EQ((*failed)[0].id, "run1");
  EXPECT_EQ((*failed)[1].id, "run2");
  for (const Task& t : *failed) {
    EXPECT_EQ(t.status, TaskStatus::kFailed);
    EXPECT_EQ(t.failure_reason, "worker stopped responding");
    EXPECT_EQ(t.finished_at, At(400));
    EXPECT_EQ(Get(t.id).status, TaskStatus::kFailed);
  }
  EXPECT_EQ(Get("waiting").status, TaskStatus::kPending);
  EXPECT_EQ(Get("other").status, TaskStatus::kInProgress);
  const Agent a1 = GetAgent("a1");
  EXPECT_EQ(a1.status, AgentStatus::kOffline);
  EXPECT_EQ(a1.active_tasks, 0);
  EXPECT_EQ(GetAgent("a2").status, AgentStatus::kBusy);

  auto logs = store_->ListTaskLogs("run1", 1);
  ASSERT_TRUE(logs);
  EXPECT_EQ((*logs)[0].event_type, "task_status_change");
  EXPECT_EQ((*logs)[0].old_value, "in_progress");
  EXPECT_EQ((*logs)[0].new_value, "failed");

  // Idempotent: nothing left to fail.
  auto again = store_->FailAgentTasks("a1", "again", At(401));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

// --- restarted workers, released claims ---

TEST_F(SqliteStoreTest, ANewRuntimeInstanceFailsThePreviousInstancesTasks) {
  AgentRegistration reg;
  reg.id = "w1";
  reg.name = "w1";
  reg.max_tasks = 2;
  reg.runtime_instance_id = "process-1";
  ASSERT_TRUE(store_->UpsertAgent(reg, At(0)));
  Create("running", "w1", 50, 1);
  Create("queued", "w1", 50, 2);
  ASSERT_EQ(Claim("w1"), "running");

  // The same process registering again (upstream re-registers every 5 min) changes nothing.
  auto same = store_->UpsertAgent(reg, At(10));
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_TRUE(same->restarted_tasks.empty());
  EXPECT_EQ(Get("running").status, TaskStatus::kInProgress);

  reg.runtime_instance_id = "process-2";
  auto restarted = store_->UpsertAgent(reg, At(20));
  ASSERT_TRUE(restarted) << restarted.error().message;
  ASSERT_EQ(restarted->restarted_tasks.size(), 1u);
  EXPECT_EQ(restarted->restarted_tasks[0].id, "running");
  const Task failed = Get("running");
  EXPECT_EQ(failed.status, TaskStatus::kFailed);
  EXPECT_THAT(failed.failure_reason.value_or(""), HasSubstr("worker restarted"));
  EXPECT_EQ(Get("queued").status, TaskStatus::kPending);  // never started: still to do
  EXPECT_EQ(restarted->agent.runtime_instance_id, "process-2");
  EXPECT_EQ(restarted->agent.active_tasks, 0);
  EXPECT_EQ(Claim("w1", true, 30), "queued");  // capacity is free at once
}

TEST_F(SqliteStoreTest, RegistrationWithoutAnInstanceIdFailsNothing) {
  AgentRegistration reg;
  reg.id = "w1";
  reg.name = "w1";
  reg.runtime_instance_id = "process-1";
  ASSERT_TRUE(store_->UpsertAgent(reg, At(0)));
  Create("running", "w1", 50, 1);
  ASSERT_EQ(Claim("w1"), "running");
  reg.runtime_instance_id.reset();  // an older worker that does not say
  auto again = store_->UpsertAgent(reg, At(10));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->restarted_tasks.empty());
  EXPECT_EQ(Get("running").status, TaskStatus::kInProgress);
  EXPECT_EQ(again->agent.runtime_instance_id, "process-1");
}

TEST_F(SqliteStoreTest, ReleasedClaimsGoBackWhereTheyCameFrom) {
  Register("a1", 2);
  Create("own", "a1", 90, 0);
  Create("pooled", std::nullopt, 10, 1);
  ASSERT_EQ(Claim("a1"), "own");
  ASSERT_EQ(Claim("a1"), "pooled");

  auto own = store_->ReleaseClaim("own", "a1", At(50));
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_TRUE(*own);
  EXPECT_EQ(Get("own").status, TaskStatus::kPending);
  EXPECT_EQ(Get("own").agent_id, "a1");
  EXPECT_EQ(Get("own").started_at, std::nullopt);

  ASSERT_TRUE(*store_->ReleaseClaim("pooled", "a1", At(51)));
  EXPECT_EQ(Get("pooled").status, TaskStatus::kUnassigned);
  EXPECT_EQ(Get("pooled").agent_id, std::nullopt);
  EXPECT_EQ(GetAgent("a1").status, AgentStatus::kIdle);

  // Another worker takes the pool task.
  Register("a2");
  EXPECT_EQ(Claim("a2", true, 60), "pooled");
}

TEST_F(SqliteStoreTest, AClaimTheWorkerActedOnIsNotReleased) {
  Register("a1");
  Register("a2");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1"), "t1");
  EXPECT_FALSE(*store_->ReleaseClaim("t1", "a2", At(50)));  // not a2's
  ASSERT_TRUE(
      store_->SetTaskSession("t1", "sess", std::nullopt, std::nullopt, At(51), std::nullopt));
  EXPECT_FALSE(*store_->ReleaseClaim("t1", "a1", At(52)));  // the worker started it
  EXPECT_EQ(Get("t1").status, TaskStatus::kInProgress);
  Create("t2", "a2");
  ASSERT_EQ(Claim("a2"), "t2");
  Finish("t2", TaskStatus::kCompleted);
  EXPECT_FALSE(*store_->ReleaseClaim("t2", "a2", At(300)));  // terminal
  EXPECT_EQ(Get("t2").status, TaskStatus::kCompleted);
}

TEST_F(SqliteStoreTest, FailAgentTasksOfAnUnknownAgentIsNotFound) {
  auto failed = store_->FailAgentTasks("ghost", "r", At(0));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kNotFound);
}

// --- progress, session ---

TEST_F(SqliteStoreTest, SetTaskProgressStoresAndLogs) {
  Register("a1");
  Create("t1", "a1");
  auto task = store_->SetTaskProgress("t1", "halfway", std::string("a1"), At(30));
  ASSERT_TRUE(task) << task.error().message;
  EXPECT_EQ(task->progress, "halfway");
  EXPECT_EQ(task->last_updated_at, At(30));
  EXPECT_EQ(Get("t1").progress, "halfway");
  auto logs = store_->ListTaskLogs("t1", 1);
  ASSERT_TRUE(logs);
  EXPECT_EQ((*logs)[0].event_type, "task_progress");
  EXPECT_EQ((*logs)[0].new_value, "halfway");
  EXPECT_EQ((*logs)[0].agent_id, "a1");
}

TEST_F(SqliteStoreTest, ReportsOnAnotherAgentsOrATerminalTaskAreConflicts) {
  Register("a1");
  Register("a2");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1"), "t1");
  auto theirs = store_->SetTaskProgress("t1", "mine now", std::string("a2"), At(10));
  ASSERT_FALSE(theirs);
  EXPECT_EQ(theirs.error().code, ErrorCode::kConflict);
  EXPECT_THAT(theirs.error().message, HasSubstr("held by agent a1"));
  auto session =
      store_->SetTaskSession("t1", "s", std::nullopt, std::nullopt, At(11), std::string("a2"));
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(store_->SetTaskProgress("t1", "ok", std::string("a1"), At(12)));

  Finish("t1", TaskStatus::kCompleted, 20);
  auto late = store_->SetTaskProgress("t1", "late", std::string("a1"), At(21));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  EXPECT_THAT(late.error().message, HasSubstr("already completed"));
  auto late_session =
      store_->SetTaskSession("t1", "s2", std::nullopt, std::nullopt, At(22), std::nullopt);
  ASSERT_FALSE(late_session);
  EXPECT_EQ(late_session.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Get("t1").progress, "ok");
  EXPECT_EQ(Get("t1").session_id, std::nullopt);
  // Another agent's late session stays refused.
  auto other_late =
      store_->SetTaskSession("t1", "s3", std::nullopt, std::nullopt, At(23), std::string("a2"));
  ASSERT_FALSE(other_late);
  EXPECT_EQ(other_late.error().code, ErrorCode::kConflict);
}

// The agent finished the task through MCP before its worker reported the CLI's session: the
// holder's first session id still lands, once, and the task stays as it ended.
TEST_F(SqliteStoreTest, AFinishedTaskTakesItsHoldersFirstSessionIdOnce) {
  Register("a1");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1"), "t1");
  Finish("t1", TaskStatus::kCompleted, 20);
  const Task finished = Get("t1");
  auto late = store_->SetTaskSession("t1", "sess-late", std::string("claude"), std::nullopt, At(30),
                                     std::string("a1"));
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->session_id, "sess-late");
  EXPECT_EQ(late->status, TaskStatus::kCompleted);
  EXPECT_EQ(late->last_updated_at, finished.last_updated_at);
  auto again = store_->SetTaskSession("t1", "sess-other", std::nullopt, std::nullopt, At(31),
                                      std::string("a1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Get("t1").session_id, "sess-late");
}

TEST_F(SqliteStoreTest, SetTaskSessionStoresAndLogs) {
  Register("a1");
  Create("t1", "a1");
  ASSERT_EQ(Claim("a1", true, /*at=*/10), "t1");
  auto task = store_->SetTaskSession("t1", "sess-1", std::string("claude"), std::string("opus"),
                                     At(40), std::nullopt);
  ASSERT_TRUE(task) << task.error().message;
  EXPECT_EQ(task->session_id, "sess-1");
  EXPECT_EQ(task->provider, "claude");
  EXPECT_EQ(task->model, "opus");
  // Provider and model left empty keep what is stored.
  task = store_->SetTaskSession("t1", "sess-2", std::nullopt, std::nullopt, At(41), std::nullopt);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->session_id, "sess-2");
  EXPECT_EQ(task->provider, "claude");
  EXPECT_EQ(task->model, "opus");
  auto logs = store_->ListTaskLogs("t1", 1);
  ASSERT_TRUE(logs);
  EXPECT_EQ((*logs)[0].event_type, "task_session");
  EXPECT_EQ((*logs)[0].new_value, "sess-2");
  EXPECT_EQ((*logs)[0].agent_id, "a1");
}

// --- queries ---

TEST_F(SqliteStoreTest, AgentsWithActiveTasks) {
  Register("a1");
  Register("a2");
  Register("a3");
  Create("t1", "a2");
  Create("t2", "a1");
  Create("t3", "a3");
  ASSERT_EQ(Claim("a2"), "t1");
  ASSERT_EQ(Claim("a1"), "t2");
  auto ids = store_->AgentsWithActiveTasks();
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_THAT(*ids, ElementsAre("a1", "a2"));
}

TEST_F(SqliteStoreTest, ListCancelledTasksSince) {
  Create("old", "a1");
  Create("new", "a1");
  Create("other-agent", "a2");
  Create("completed", "a1");
  Finish("old", TaskStatus::kCancelled, 10);
  Finish("new", TaskStatus::kCancelled, 30);
  Finish("other-agent", TaskStatus::kCancelled, 30);
  Finish("completed", TaskStatus::kCompleted, 30);
  auto tasks = store_->ListCancelledTasks("a1", At(20));
  ASSERT_TRUE(tasks) << tasks.error().message;
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].id, "new");
  tasks = store_->ListCancelledTasks("a1", At(10));  // inclusive
  ASSERT_TRUE(tasks);
  EXPECT_EQ(tasks->size(), 2u);
}

std::vector<std::string> Ids(const TaskPage& page) {
  std::vector<std::string> ids;
  for (const Task& t : page.tasks) ids.push_back(t.id);
  return ids;
}

TEST_F(SqliteStoreTest, ListTasksOrdersAndPages) {
  Create("a", std::nullopt, 50, 1);
  Create("b", std::nullopt, 50, 3);
  Create("c", std::nullopt, 90, 2);
  Create("d", std::nullopt, 10, 2);
  Create("e", std::nullopt, 50, 2);  // ties with c/d on time; priority then newest row

  auto page = store_->ListTasks({});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_THAT(Ids(*page), ElementsAre("b", "c", "e", "d", "a"));
  EXPECT_EQ(page->total, 5);

  TaskFilter paged = Filter({}, {}, {}, /*limit=*/2);
  page = store_->ListTasks(paged);
  ASSERT_TRUE(page);
  EXPECT_THAT(Ids(*page), ElementsAre("b", "c"));
  EXPECT_EQ(page->total, 5);
  paged.offset = 4;
  page = store_->ListTasks(paged);
  ASSERT_TRUE(page);
  EXPECT_THAT(Ids(*page), ElementsAre("a"));
  EXPECT_EQ(page->total, 5);
  paged.offset = 10;
  page = store_->ListTasks(paged);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->tasks.empty());
  EXPECT_EQ(page->total, 5);
}

TEST_F(SqliteStoreTest, ListTasksFilters) {
  Register("a1", 5);
  Create("p1", "a1", 50, 1, "api");
  Create("p2", "a1", 50, 2, "mcp");
  Create("u1", std::nullopt, 50, 3, "api");
  Create("u2", std::nullopt, 50, 4, "smoke");
  Create("x", "a2", 50, 5, "api");
  ASSERT_EQ(Claim("a1", false, 6), "p1");

  TaskFilter by_status = Filter({TaskStatus::kUnassigned});
  auto page = store_->ListTasks(by_status);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_THAT(Ids(*page), ElementsAre("u2", "u1"));
  EXPECT_EQ(page->total, 2);

  TaskFilter statuses =
      Filter({TaskStatus::kPending, TaskStatus::kInProgress, TaskStatus::kPending});
  page = store_->ListTasks(statuses);
  ASSERT_TRUE(page);
  EXPECT_THAT(Ids(*page), ElementsAre("p1", "x", "p2"));

  TaskFilter by_agent = Filter({}, "a1");
  page = store_->ListTasks(by_agent);
  ASSERT_TRUE(page);
  EXPECT_THAT(Ids(*page), ElementsAre("p1", "p2"));
  EXPECT_EQ(page->total, 2);

  TaskFilter by_source = Filter({}, {}, {"api", "smoke"});
  page = store_->ListTasks(by_source);
  ASSERT_TRUE(page);
  EXPECT_THAT(Ids(*page), ElementsAre("p1", "x", "u2", "u1"));

  TaskFilter combined = Filter({TaskStatus::kPending, TaskStatus::kInProgress}, "a1", {"mcp"});
  page = store_->ListTasks(combined);
  ASSERT_TRUE(page);
  EXPECT_THAT(Ids(*page), ElementsAre("p2"));
  EXPECT_EQ(page->total, 1);

  TaskFilter limited = Filter({}, {}, {"api"}, /*limit=*/1);
  page = store_->ListTasks(limited);
  ASSERT_TRUE(page);
  EXPECT_THAT(Ids(*page), ElementsAre("p1"));
  EXPECT_EQ(page->total, 3);

  TaskFilter none = Filter({}, "nobody");
  page = store_->ListTasks(none);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->tasks.empty());
  EXPECT_EQ(page->total, 0);
}

TEST_F(SqliteStoreTest, ListTasksSumsSessionCosts) {
  Create("paid", std::nullopt, 50, 1);
  Create("free", std::nullopt, 50, 2);
  for (double usd : {0.25, 0.5}) {
    SessionCost cost;
    cost.session_id = std::string("session-1");
    cost.task_id = "paid";
    cost.agent_id = "a1";
    cost.total_cost_usd = usd;
    cost.created_at = At(3);
    ASSERT_TRUE(store_->AddSessionCost(cost));
  }
  auto page = store_->ListTasks({});
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->tasks.size(), 2u);
  EXPECT_EQ(page->tasks[0].id, "free");
  EXPECT_FALSE(page->tasks[0].total_cost_usd);
  EXPECT_EQ(page->tasks[1].id, "paid");
  ASSERT_TRUE(page->tasks[1].total_cost_usd);
  EXPECT_DOUBLE_EQ(*page->tasks[1].total_cost_usd, 0.75);
  EXPECT_FALSE(Get("paid").total_cost_usd);  // GetTask does not fill it
}

TEST_F(SqliteStoreTest, TaskLogsNewestFirstWithStableTies) {
  Create("t1", std::nullopt, 50, 1);
  ASSERT_TRUE(store_->SetTaskProgress("t1", "one", std::nullopt, At(2)));
  ASSERT_TRUE(store_->SetTaskProgress("t1", "two", std::nullopt, At(2)));
  ASSERT_TRUE(store_->SetTaskProgress("t1", "three", std::nullopt, At(3)));
  auto logs = store_->ListTaskLogs("t1", 0);
  ASSERT_TRUE(logs);
  ASSERT_EQ(logs->size(), 4u);
  EXPECT_EQ((*logs)[0].new_value, "three");
  EXPECT_EQ((*logs)[1].new_value, "two");  // same time as "one", written later
  EXPECT_EQ((*logs)[2].new_value, "one");
  EXPECT_EQ((*logs)[3].event_type, "task_created");
  logs = store_->ListTaskLogs("t1", 2);
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->size(), 2u);
  logs = store_->ListTaskLogs("unknown", 10);
  ASSERT_TRUE(logs);
  EXPECT_TRUE(logs->empty());
}

// --- session logs and costs ---

SessionLogBatch Batch(std::optional<std::string> task_id, const std::string& session,
                      std::vector<std::string> lines, int at) {
  SessionLogBatch batch;
  batch.task_id = std::move(task_id);
  batch.session_id = session;
  batch.iteration = 2;
  batch.cli = "codex";
  batch.lines = std::move(lines);
  batch.created_at = At(at);
  return batch;
}

TEST_F(SqliteStoreTest, SessionLogLineNumbersContinuePerTaskAndSession) {
  Create("t1");
  auto count = store_->AppendSessionLogs(Batch("t1", "s1", {"a", "b"}, 1));
  ASSERT_TRUE(count) << count.error().message;
  EXPECT_EQ(*count, 2);
  ASSERT_EQ(*store_->AppendSessionLogs(Batch("t1", "s1", {"c"}, 2)), 1);
  ASSERT_EQ(*store_->AppendSessionLogs(Batch("t1", "s2", {"other"}, 3)), 1);
  ASSERT_EQ(*store_->AppendSessionLogs(Batch(std::nullopt, "s1", {"no task"}, 3)), 1);
  EXPECT_EQ(*store_->AppendSessionLogs(Batch("t1", "s1", {}, 4)), 0);

  auto logs = store_->ListSessionLogs("t1", 0, SIZE_MAX);
  ASSERT_TRUE(logs) << logs.error().message;
  ASSERT_EQ(logs->size(), 4u);
  // line_number, then created_at.
  EXPECT_EQ((*logs)[0].content, "a");
  EXPECT_EQ((*logs)[0].line_number, 1);
  EXPECT_EQ((*logs)[1].content, "other");
  EXPECT_EQ((*logs)[1].line_number, 1);
  EXPECT_EQ((*logs)[2].content, "b");
  EXPECT_EQ((*logs)[2].line_number, 2);
  EXPECT_EQ((*logs)[3].content, "c");
  EXPECT_EQ((*logs)[3].line_number, 3);
  EXPECT_EQ((*logs)[0].session_id, "s1");
  EXPECT_EQ((*logs)[0].task_id, "t1");
  EXPECT_EQ((*logs)[0].iteration, 2);
  EXPECT_EQ((*logs)[0].cli, "codex");
  EXPECT_EQ((*logs)[0].created_at, At(1));
  EXPECT_FALSE((*logs)[0].id.empty());

  logs = store_->ListSessionLogs("t1", 2, SIZE_MAX);
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->size(), 2u);
}

TEST_F(SqliteStoreTest, PruneLogsRemovesOldLinesOfFinishedTasksOnly) {
  Register("a1");
  Create("done", "a1", 50, 0);
  ASSERT_EQ(Claim("a1", true, 1), "done");
  Finish("done", TaskStatus::kCompleted, 2);
  Create("live", "a1", 50, 3);
  ASSERT_TRUE(store_->AppendSessionLogs(Batch("done", "s1", {"old"}, 5)));
  ASSERT_TRUE(store_->AppendSessionLogs(Batch("live", "s2", {"old but live"}, 5)));
  ASSERT_TRUE(store_->AppendSessionLogs(Batch("done", "s1", {"recent"}, 500)));

  auto pruned = store_->PruneLogs(At(100), 1000);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(pruned->session_logs, 1);
  EXPECT_GE(pruned->agent_logs, 3);  // created, claimed, status changes of "done"
  auto done_lines = store_->ListSessionLogs("done", 0, SIZE_MAX);
  ASSERT_EQ(done_lines->size(), 1u);
  EXPECT_EQ((*done_lines)[0].content, "recent");
  EXPECT_EQ(store_->ListSessionLogs("live", 0, SIZE_MAX)->size(), 1u);
  EXPECT_TRUE(LogEvents("done").empty());
  EXPECT_FALSE(LogEvents("live").empty());
  EXPECT_EQ(Get("done").status, TaskStatus::kCompleted);  // the task itself stays

  // Bounded per call.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->AppendSessionLogs(Batch("done", "s3", {"x"}, 6)));
  auto some = store_->PruneLogs(At(100), 2);
  ASSERT_TRUE(some);
  EXPECT_EQ(some->session_logs, 2);
}

TEST_F(SqliteStoreTest, PagesOfLargeRowsStopAtTheByteBudget) {
  for (int i = 0; i < 10; ++i) {
    NewTask t = MakeTask("big" + std::to_string(i), i);
    t.task = std::string(100'000, 'x');
    ASSERT_TRUE(store_->CreateTask(t));
  }
  TaskFilter filter = Filter({}, std::nullopt, {}, 10);
  filter.max_bytes = 250'000;
  auto page = store_->ListTasks(filter);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->tasks.size(), 3u);  // the third crosses the budget and ends the page
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->total, 10);
  filter.offset = 9;
  page = store_->ListTasks(filter);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->tasks.size(), 1u);
  EXPECT_FALSE(page->truncated);  // the budget was crossed by the last row: nothing is missing

  ASSERT_TRUE(store_->AppendSessionLogs(
      Batch("big0", "s", {std::string(1000, 'a'), std::string(1000, 'b'), "c"}, 1)));
  auto lines = store_->ListSessionLogs("big0", 0, 1500);
  ASSERT_TRUE(lines);
  EXPECT_EQ(lines->size(), 2u);
}

TEST_F(SqliteStoreTest, SessionCostsRoundTripAndFilter) {
  SessionCost cost;
  cost.session_id = "s1";
  cost.task_id = "t1";
  cost.agent_id = "a1";
  cost.total_cost_usd = 1.5;
  cost.input_tokens = 10;
  cost.output_tokens = 20;
  cost.cache_read_tokens = 30;
  cost.cache_write_tokens = 40;
  cost.reasoning_output_tokens = 50;
  cost.duration_ms = 1234;
  cost.num_turns = 3;
  cost.model = "opus";
  cost.provider = "claude";
  cost.is_error = true;
  cost.cost_source = "pricing-table";
  cost.created_at = At(1);
  auto added = store_->AddSessionCost(cost);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_FALSE(added->id.empty());

  SessionCost other = cost;
  other.agent_id = "a2";
  other.task_id.reset();
  other.duration_ms.reset();
  other.num_turns.reset();
  other.is_error = false;
  other.created_at = At(2);
  ASSERT_TRUE(store_->AddSessionCost(other));

  auto all = store_->ListSessionCosts({});
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].agent_id, "a2");  // newest first
  EXPECT_FALSE((*all)[0].task_id);
  EXPECT_FALSE((*all)[0].duration_ms);

  auto by_task = store_->ListSessionCosts(Costs("t1", {}));
  ASSERT_TRUE(by_task);
  ASSERT_EQ(by_task->size(), 1u);
  const SessionCost& c = (*by_task)[0];
  EXPECT_EQ(c.id, added->id);
  EXPECT_EQ(c.session_id, "s1");
  EXPECT_DOUBLE_EQ(c.total_cost_usd, 1.5);
  EXPECT_EQ(c.input_tokens, 10);
  EXPECT_EQ(c.output_tokens, 20);
  EXPECT_EQ(c.cache_read_tokens, 30);
  EXPECT_EQ(c.cache_write_tokens, 40);
  EXPECT_EQ(c.reasoning_output_tokens, 50);
  EXPECT_EQ(c.duration_ms, 1234);
  EXPECT_EQ(c.num_turns, 3);
  EXPECT_EQ(c.model, "opus");
  EXPECT_EQ(c.provider, "claude");
  EXPECT_TRUE(c.is_error);
  EXPECT_EQ(c.cost_source, "pricing-table");
  EXPECT_EQ(c.created_at, At(1));

  auto by_agent = store_->ListSessionCosts(Costs({}, "a2"));
  ASSERT_TRUE(by_agent);
  EXPECT_EQ(by_agent->size(), 1u);
  auto both = store_->ListSessionCosts(Costs("t1", "a2"));
  ASSERT_TRUE(both);
  EXPECT_TRUE(both->empty());
  auto limited = store_->ListSessionCosts(Costs({}, {}, /*limit=*/1));
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->size(), 1u);
}

// --- errors and concurrency ---

TEST_F(SqliteStoreTest, ALockedDatabaseIsUnavailableNotAnException) {
  SQLite::Database other(path_, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");  // holds the write lock past the 5 s busy timeout
  NewTask t = MakeTask("t1", 0);
  auto created = store_->CreateTask(t);
  other.exec("ROLLBACK");
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::kUnavailable);
  // The store is still usable afterwards.
  EXPECT_TRUE(store_->CreateTask(t));
}

TEST_F(SqliteStoreTest, ReadsSeeWritesThatReturned) {
  Reopen(Options(3));
  Register("a1", 1000);
  for (int i = 0; i < 200; ++i) {
    const std::string id = fmt::format("t{}", i);
    Create(id, "a1", 50, i);
    EXPECT_EQ(Get(id).status, TaskStatus::kPending);
    ASSERT_TRUE(store_->SetTaskProgress(id, "p", std::nullopt, At(i)));
    EXPECT_EQ(Get(id).progress, "p");
    ASSERT_EQ(Claim("a1"), id);
    EXPECT_EQ(Get(id).status, TaskStatus::kInProgress);
    EXPECT_EQ(GetAgent("a1").active_tasks, i + 1);
  }
}

TEST_F(SqliteStoreTest, ConcurrentClaimsTakeEachTaskExactlyOnce) {
  constexpr int kTasks = 1000;
  constexpr int kWorkers = 4;
  for (int w = 0; w < kWorkers; ++w) Register(fmt::format("w{}", w), 100000);
  for (int i = 0; i < kTasks; ++i) Create(fmt::format("t{:04d}", i), std::nullopt, i % 7, i);

  std::mutex mu;
  std::vector<std::string> claimed;
  std::atomic<int> errors{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      const std::string agent = fmt::format("w{}", w);
      std::vector<std::string> mine;
      for (;;) {
        auto task = store_->ClaimTask(agent, true, At(5000));
        if (!task) {
          ++errors;
          break;
        }
        if (!*task) break;
        if ((*task)->agent_id != agent || (*task)->status != TaskStatus::kInProgress) ++errors;
        mine.push_back((*task)->id);
      }
      std::lock_guard lock(mu);
      claimed.insert(claimed.end(), mine.begin(), mine.end());
    });
  }
  // A reader running alongside the writers.
  std::thread reader([&] {
    while (!done) {
      if (!store_->GetTask("t0000") || !store_->ListTasks(Filter({}, {}, {}, 10))) ++errors;
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();

  EXPECT_EQ(errors.load(), 0);
  ASSERT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kTasks));
  auto in_progress = store_->ListTasks(Filter({TaskStatus::kInProgress}, {}, {}, 1));
  ASSERT_TRUE(in_progress);
  EXPECT_EQ(in_progress->total, kTasks);
  int active = 0;
  for (int w = 0; w < kWorkers; ++w) active += GetAgent(fmt::format("w{}", w)).active_tasks;
  EXPECT_EQ(active, kTasks);
}

TEST_F(SqliteStoreTest, ConcurrentCreatesAndReadsWithOneReader) {
  Reopen(Options(1));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = fmt::format("t{}-{}", t, i);
        NewTask task = MakeTask(id, i);
        if (!store_->CreateTask(task)) ++errors;
        auto read = store_->GetTask(id);
        if (!read || read->id != id) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto page = store_->ListTasks(Filter({}, {}, {}, 5));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, kThreads * kPerThread);
}

}  // namespace
}  // namespace swarm
