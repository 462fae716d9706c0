// The store's side of upstream-worker compatibility (issue 9): supersede with its resume
// child, the generation limit, pause and resume, credential reports, active sessions, orphan
// recovery, a lost worker's tasks, and migration 0005 over an existing database.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "store/migrations.h"
#include "store/migrator.h"
#include "store/sqlite_store.h"

namespace swarm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string At(int s) { return FormatIsoTime(TimePoint(std::chrono::seconds(1'767'225'600 + s))); }

class UpstreamCompatStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  void Register(const std::string& id, int max_tasks = 1) {
    AgentRegistration reg;
    reg.id = id;
    reg.name = id;
    reg.max_tasks = max_tasks;
    ASSERT_TRUE(store_->UpsertAgent(reg, At(0)));
  }

  // A task created for `agent` and claimed by it: in_progress.
  Task Running(const std::string& id, const std::string& agent,
               std::vector<std::string> tags = {"team:a"}) {
    NewTask t;
    t.id = id;
    t.agent_id = agent;
    t.creator_agent_id = "lead-1";
    t.task = "work on " + id;
    t.source = "slack";
    t.tags = std::move(tags);
    t.priority = 70;
    t.output_schema = R"({"type":"object"})";
    t.model = "model-x";
    t.now = At(1);
    EXPECT_TRUE(store_->CreateTask(t));
    auto claimed = store_->ClaimTask(agent, false, At(2));
    EXPECT_TRUE(claimed && *claimed && (*claimed)->id == id);
    return *store_->GetTask(id);
  }

  SupersedeRequest Supersede(const std::string& id, std::optional<std::string> agent,
                             const std::string& child,
                             const std::string& reason = "graceful_shutdown") {
    SupersedeRequest r;
    r.task_id = id;
    r.agent_id = std::move(agent);
    r.reason = reason;
    r.resume_task_id = child;
    r.max_generations = kMaxResumeGenerations;
    r.now = At(10);
    return r;
  }

  ActiveSession Session(const std::string& agent, std::optional<std::string> task, int at = 3) {
    ActiveSession s;
    s.id = "session-" + agent + "-" + task.value_or("none") + "-" + std::to_string(at);
    s.agent_id = agent;
    s.task_id = std::move(task);
    s.trigger_type = "task_assigned";
    s.started_at = At(at);
    s.last_heartbeat_at = At(at);
    return s;
  }

  std::vector<std::string> Events(const std::string& task_id) {
    std::vector<std::string> events;
    const auto logs = store_->ListTaskLogs(task_id, 0);
    if (!logs) return events;
    for (const AgentLog& log : *logs) events.push_back(log.event_type);
    return events;
  }

  std::unique_ptr<SqliteStore> store_;
};

TEST_F(UpstreamCompatStoreTest, SupersedeMakesAPinnedResumeChildInOneStep) {
  Register("w1");
  Running("t1", "w1");
  auto result = store_->SupersedeTask(Supersede("t1", "w1", "c1"));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->kind, SupersedeKind::kResumed);
  EXPECT_EQ(result->task.status, TaskStatus::kSuperseded);
  EXPECT_EQ(result->task.finished_at, At(10));
  ASSERT_TRUE(result->resume);
  const Task& child = *result->resume;
  EXPECT_EQ(child.id, "c1");
  EXPECT_EQ(child.status, TaskStatus::kPending);  // the agent is alive with a free slot
  EXPECT_EQ(child.agent_id, "w1");
  EXPECT_EQ(child.task_type, "resume");
  EXPECT_EQ(child.parent_task_id, "t1");
  EXPECT_EQ(child.task, "work on t1");
  EXPECT_EQ(child.output_schema, R"({"type":"object"})");
  EXPECT_EQ(child.priority, 70);
  EXPECT_EQ(child.source, "slack");
  EXPECT_EQ(child.creator_agent_id, "lead-1");
  EXPECT_THAT(child.tags, ElementsAre("team:a", "auto-resume", "reason:graceful_shutdown",
                                      "resume-generation:1"));
  EXPECT_EQ(store_->GetTask("c1")->parent_task_id, "t1");
  // The holder is free again, and the hand-back is in the parent's lifecycle log.
  EXPECT_EQ(store_->GetAgent("w1")->status, AgentStatus::kIdle);
  EXPECT_THAT(Events("t1"), ::testing::Contains("task_superseded"));
  const auto logs = *store_->ListTaskLogs("t1", 0);
  const auto superseded = std::find_if(logs.begin(), logs.end(), [](const AgentLog& l) {
    return l.event_type == "task_superseded";
  });
  ASSERT_NE(superseded, logs.end());
  const auto metadata = nlohmann::json::parse(*superseded->metadata);
  EXPECT_EQ(metadata["reason"], "graceful_shutdown");
  EXPECT_EQ(metadata["resumeTaskId"], "c1");
  // The child is claimable by the same agent.
  auto claimed = store_->ClaimTask("w1", false, At(11));
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->id, "c1");
}

TEST_F(UpstreamCompatStoreTest, AnOfflineAgentsResumeChildGoesToThePool) {
  Register("w1");
  Running("t1", "w1");
  ASSERT_TRUE(store_->SetAgentStatus("w1", AgentStatus::kOffline, At(5)));
  auto result = store_->SupersedeTask(Supersede("t1", "w1", "c1"));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->resume->status, TaskStatus::kUnassigned);
  EXPECT_EQ(result->resume->agent_id, std::nullopt);
}

TEST_F(UpstreamCompatStoreTest, SupersedeRefusesWhatIsNotTheCallersRunningTask) {
  Register("w1");
  Register("w2");
  Running("t1", "w1");
  auto other = store_->SupersedeTask(Supersede("t1", "w2", "c1"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kForbidden);
  auto unknown = store_->SupersedeTask(Supersede("nope", "w1", "c1"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  NewTask pending;
  pending.id = "p1";
  pending.agent_id = "w2";
  pending.task = "later";
  pending.now = At(1);
  ASSERT_TRUE(store_->CreateTask(pending));
  auto not_running = store_->SupersedeTask(Supersede("p1", "w2", "c2"));
  ASSERT_FALSE(not_running);
  EXPECT_EQ(not_running.error().code, ErrorCode::kConflict);
  EXPECT_THAT(not_running.error().message, HasSubstr("pending"));

  // Nothing changed, and no child exists.
  EXPECT_EQ(store_->GetTask("t1")->status, TaskStatus::kInProgress);
  EXPECT_FALSE(store_->GetTask("c1"));
  EXPECT_FALSE(store_->GetTask("c2"));
}

TEST_F(UpstreamCompatStoreTest, ATerminalTaskIsAlreadyFinished) {
  Register("w1");
  Running("t1", "w1");
  TerminalUpdate done;
  done.status = TaskStatus::kCompleted;
  done.output = "ok";
  done.now = At(5);
  ASSERT_TRUE(store_->FinishTask("t1", done));
  auto result = store_->SupersedeTask(Supersede("t1", "w1", "c1"));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->kind, SupersedeKind::kAlreadyFinished);
  EXPECT_EQ(result->task.status, TaskStatus::kCompleted);
  EXPECT_FALSE(store_->GetTask("c1"));
}

TEST_F(UpstreamCompatStoreTest, PastThreeGenerationsTheTaskFailsInstead) {
  Register("w1");
  Running("t0", "w1");
  std::string current = "t0";
  for (int generation = 1; generation <= kMaxResumeGenerations; ++generation) {
    const std::string child = "c" + std::to_string(generation);
    auto result = store_->SupersedeTask(Supersede(current, "w1", child));
    ASSERT_TRUE(result) << result.error().message;
    ASSERT_EQ(result->kind, SupersedeKind::kResumed) << generation;
    EXPECT_THAT(result->resume->tags,
                ::testing::Contains("resume-generation:" + std::to_string(generation)));
    EXPECT_EQ(std::count(result->resume->tags.begin(), result->resume->tags.end(), "auto-resume"),
              1);
    auto claimed = store_->ClaimTask("w1", false, At(20 + generation));
    ASSERT_TRUE(claimed && *claimed);
    current = child;
  }
  auto last = store_->SupersedeTask(Supersede(current, "w1", "c-too-many"));
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_EQ(last->kind, SupersedeKind::kFailed);
  EXPECT_EQ(last->task.status, TaskStatus::kFailed);
  EXPECT_THAT(*last->task.failure_reason, HasSubstr("already resumed 3 times"));
  EXPECT_FALSE(store_->GetTask("c-too-many"));
  EXPECT_EQ(store_->GetAgent("w1")->status, AgentStatus::kIdle);
}

TEST_F(UpstreamCompatStoreTest, PauseAndResumeAreUpstreamsLegacyHandBack) {
  Register("w1");
  Running("t1", "w1");
  auto paused = store_->PauseTask("t1", std::string("w1"), At(5));
  ASSERT_TRUE(paused) << paused.error().message;
  EXPECT_EQ(paused->status, TaskStatus::kPaused);
  EXPECT_EQ(store_->GetAgent("w1")->status, AgentStatus::kIdle);
  auto again = store_->PauseTask("t1", std::string("w1"), At(6));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto foreign = store_->ResumeTask("t1", std::string("w2"), At(6));
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kForbidden);

  auto resumed = store_->ResumeTask("t1", std::nullopt, At(7));
  ASSERT_TRUE(resumed) << resumed.error().message;
  EXPECT_EQ(resumed->status, TaskStatus::kPending);
  EXPECT_EQ(resumed->agent_id, "w1");
  auto claimed = store_->ClaimTask("w1", false, At(8));
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->id, "t1");
}

TEST_F(UpstreamCompatStoreTest, CredentialReportsSetTheStatusAndKeepTheSnapshot) {
  Register("w1");
  CredentialReport waiting;
  waiting.agent_id = "w1";
  waiting.ready = false;
  waiting.missing = std::vector<std::string>{"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"};
  auto agent = store_->SetAgentCredentials(waiting, At(5));
  ASSERT_TRUE(agent) << agent.error().message;
  EXPECT_EQ(agent->status, AgentStatus::kWaitingForCredentials);
  EXPECT_THAT(*agent->credential_missing,
              ElementsAre("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"));
  // A ping keeps it waiting; only a ready report ends the wait.
  EXPECT_EQ(store_->TouchAgent("w1", At(6))->status, AgentStatus::kWaitingForCredentials);

  CredentialReport ready;
  ready.agent_id = "w1";
  ready.ready = true;
  ready.missing = std::vector<std::string>{};
  ready.cred_status_given = true;
  ready.cred_status = R"({"ready":true,"satisfiedBy":"ANTHROPIC_API_KEY"})";
  agent = store_->SetAgentCredentials(ready, At(7));
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, AgentStatus::kIdle);
  EXPECT_EQ(agent->credential_missing, std::nullopt);
  EXPECT_EQ(agent->cred_status, R"({"ready":true,"satisfiedBy":"ANTHROPIC_API_KEY"})");

  // The model telemetry alone leaves the rest as it is.
  CredentialReport model;
  model.agent_id = "w1";
  model.latest_model = R"({"model":"m1"})";
  agent = store_->SetAgentCredentials(model, At(8));
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->latest_model, R"({"model":"m1"})");
  EXPECT_TRUE(agent->cred_status);

  // An explicit null clears the snapshot.
  CredentialReport clear;
  clear.agent_id = "w1";
  clear.cred_status_given = true;
  EXPECT_EQ(store_->SetAgentCredentials(clear, At(9))->cred_status, std::nullopt);

  CredentialReport unknown;
  unknown.agent_id = "ghost";
  unknown.ready = true;
  auto missing = store_->SetAgentCredentials(unknown, At(9));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(UpstreamCompatStoreTest, ReadyWithTasksRunningIsBusy) {
  Register("w1");
  Running("t1", "w1");
  CredentialReport waiting;
  waiting.agent_id = "w1";
  waiting.ready = false;
  ASSERT_TRUE(store_->SetAgentCredentials(waiting, At(5)));
  CredentialReport ready;
  ready.agent_id = "w1";
  ready.ready = true;
  EXPECT_EQ(store_->SetAgentCredentials(ready, At(6))->status, AgentStatus::kBusy);
}

TEST_F(UpstreamCompatStoreTest, ActiveSessionsAreKeptRenewedAndEnded) {
  Register("w1");
  Register("w2");
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "t1", 3), 10));
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "t2", 4), 10));
  ASSERT_TRUE(store_->CreateActiveSession(Session("w2", "t3", 5), 10));
  auto all = store_->ListActiveSessions(std::nullopt, 100);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].task_id, "t3");  // newest first
  EXPECT_EQ(store_->ListActiveSessions(std::string("w1"), 100)->size(), 2u);
  EXPECT_EQ(store_->ListActiveSessions(std::nullopt, 1)->size(), 1u);

  auto beat = store_->HeartbeatActiveSession("t2", At(50));
  ASSERT_TRUE(beat);
  EXPECT_THAT(*beat, ElementsAre("w1"));
  EXPECT_TRUE(store_->HeartbeatActiveSession("unknown", At(50))->empty());
  const auto renewed = store_->ListActiveSessions(std::string("w1"), 100);
  ASSERT_TRUE(renewed);
  for (const auto& s : *renewed) {
    EXPECT_EQ(s.last_heartbeat_at, s.task_id == "t2" ? At(50) : At(3));
  }

  EXPECT_EQ(*store_->DeleteActiveSessionsByTask("t1"), 1);
  EXPECT_EQ(*store_->DeleteActiveSessionsByTask("t1"), 0);
  EXPECT_EQ(*store_->DeleteAgentActiveSessions("w1"), 1);
  EXPECT_EQ(store_->ListActiveSessions(std::nullopt, 100)->size(), 1u);
}

TEST_F(UpstreamCompatStoreTest, SessionsPerAgentAreBounded) {
  Register("w1");
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "t1", 1), 2));
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "t2", 2), 2));
  auto third = store_->CreateActiveSession(Session("w1", "t3", 3), 2);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->ListActiveSessions(std::string("w1"), 100)->size(), 2u);
}

TEST_F(UpstreamCompatStoreTest, OrphanRecoveryReturnsOnlyQuietSessionlessTasks) {
  Register("w1", 4);
  Running("orphan", "w1");
  Running("has-session", "w1");
  Running("has-provider-session", "w1");
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "has-session"), 10));
  ASSERT_TRUE(store_->SetTaskSession("has-provider-session", "provider-1", std::nullopt,
                                     std::nullopt, At(2), std::string("w1")));
  // Updated at 2: a cutoff at 2 finds nothing older yet.
  EXPECT_TRUE(store_->RecoverOrphanedTasks("w1", At(2), At(100))->empty());

  auto recovered = store_->RecoverOrphanedTasks("w1", At(60), At(100));
  ASSERT_TRUE(recovered) << recovered.error().message;
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ((*recovered)[0].id, "orphan");
  EXPECT_EQ((*recovered)[0].status, TaskStatus::kPending);
  EXPECT_EQ(store_->GetTask("has-session")->status, TaskStatus::kInProgress);
  EXPECT_EQ(store_->GetTask("has-provider-session")->status, TaskStatus::kInProgress);
  // Another agent's orphans are not this agent's to recover.
  Register("w2");
  EXPECT_TRUE(store_->RecoverOrphanedTasks("w2", At(60), At(100))->empty());
}

TEST_F(UpstreamCompatStoreTest, ALostWorkersSessionTasksResumeInThePoolTheOthersFail) {
  Register("w1", 2);
  Running("with-session", "w1");
  Running("without", "w1");
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "with-session"), 10));
  auto recovery = store_->RecoverLostWorker("w1", "worker lost: silent", 3, At(30));
  ASSERT_TRUE(recovery) << recovery.error().message;
  ASSERT_EQ(recovery->failed.size(), 1u);
  EXPECT_EQ(recovery->failed[0].id, "without");
  EXPECT_EQ(recovery->failed[0].failure_reason, "worker lost: silent");
  ASSERT_EQ(recovery->superseded.size(), 1u);
  EXPECT_EQ(recovery->superseded[0].task.status, TaskStatus::kSuperseded);
  const Task& child = *recovery->superseded[0].resume;
  EXPECT_EQ(child.status, TaskStatus::kUnassigned);  // the agent is offline: the pool
  EXPECT_THAT(child.tags, ::testing::Contains("reason:crash_recovery"));
  EXPECT_EQ(store_->GetAgent("w1")->status, AgentStatus::kOffline);
  EXPECT_TRUE(store_->ListActiveSessions(std::string("w1"), 100)->empty());
}

TEST_F(UpstreamCompatStoreTest, ALostWorkerPastTheGenerationLimitFails) {
  Register("w1");
  Running("old", "w1", {"auto-resume", "resume-generation:3"});
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "old"), 10));
  auto recovery = store_->RecoverLostWorker("w1", "worker lost: silent", 3, At(30));
  ASSERT_TRUE(recovery);
  ASSERT_EQ(recovery->failed.size(), 1u);
  EXPECT_TRUE(recovery->superseded.empty());
  EXPECT_THAT(*recovery->failed[0].failure_reason, HasSubstr("worker lost: silent"));
  EXPECT_EQ(store_->ListTasks(TaskFilter{})->total, 1);  // no child
}

// A worker killed mid-task and started again under the same AGENT_ID registers with a new
// runtime instance: the task its previous process had opened a session for is resumed (its
// child pending for the agent, whose restarted process polls next), the other one fails.
TEST_F(UpstreamCompatStoreTest, ARestartedWorkersSessionTaskResumesForItTheOthersFail) {
  AgentRegistration reg;
  reg.id = "w1";
  reg.name = "w1";
  reg.max_tasks = 2;
  reg.runtime_instance_id = "process-1";
  ASSERT_TRUE(store_->UpsertAgent(reg, At(0)));
  Running("with-session", "w1");
  Running("without", "w1");
  ASSERT_TRUE(store_->CreateActiveSession(Session("w1", "with-session"), 10));

  reg.runtime_instance_id = "process-2";
  auto restarted = store_->UpsertAgent(reg, At(20));
  ASSERT_TRUE(restarted) << restarted.error().message;
  ASSERT_EQ(restarted->restarted_tasks.size(), 1u);
  EXPECT_EQ(restarted->restarted_tasks[0].id, "without");
  EXPECT_THAT(restarted->restarted_tasks[0].failure_reason.value_or(""),
              HasSubstr("worker restarted"));
  EXPECT_EQ(store_->GetTask("without")->status, TaskStatus::kFailed);

  ASSERT_EQ(restarted->resumed_tasks.size(), 1u);
  EXPECT_EQ(restarted->resumed_tasks[0].task.id, "with-session");
  EXPECT_EQ(store_->GetTask("with-session")->status, TaskStatus::kSuperseded);
  ASSERT_TRUE(restarted->resumed_tasks[0].resume.has_value());
  const Task child = *store_->GetTask(restarted->resumed_tasks[0].resume->id);
  EXPECT_EQ(child.status, TaskStatus::kPending);
  EXPECT_EQ(child.agent_id, "w1");
  EXPECT_EQ(child.task_type, "resume");
  EXPECT_EQ(child.task, "work on with-session");
  EXPECT_EQ(child.output_schema, R"({"type":"object"})");
  EXPECT_EQ(child.parent_task_id, "with-session");
  EXPECT_THAT(child.tags, ::testing::Contains("reason:crash_recovery"));
  EXPECT_THAT(Events("with-session"), ::testing::Contains("task_superseded"));

  // The previous process's sessions are gone; the agent is free and claims the child.
  EXPECT_TRUE(store_->ListActiveSessions(std::string("w1"), 100)->empty());
  EXPECT_EQ(restarted->agent.runtime_instance_id, "process-2");
  EXPECT_EQ(restarted->agent.status, AgentStatus::kIdle);
  EXPECT_EQ(restarted->agent.active_tasks, 0);
  auto claimed = store_->ClaimTask("w1", false, At(30));
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->id, child.id);
}

// Migration 0005 rebuilds agents and tasks to widen their status CHECKs: rows made by the
// previous schema survive it whole, and the new statuses can be stored.
TEST(UpstreamCompatMigrationTest, RowsOfTheOldSchemaSurviveAndTheNewStatusesFit) {
  std::string dir = testing::TempDir() + "compat_migration_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/swarm.db";
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    std::vector<Migration> old;
    for (const Migration& m : EmbeddedMigrations()) {
      if (m.version < 5) old.push_back(m);
    }
    ASSERT_TRUE(ApplyMigrations(db, old, At(0)));
    db.exec(
        "INSERT INTO agents (id, name, status, capabilities, max_tasks, created_at, "
        "last_updated_at, version) VALUES ('a1', 'agent one', 'busy', '[\"x\"]', 3, 't0', 't1', "
        "'1.2.3')");
    db.exec(
        "INSERT INTO tasks (id, agent_id, task, status, tags, priority, output, created_at, "
        "last_updated_at) VALUES ('t1', 'a1', 'old work', 'completed', '[\"k\"]', 9, 'out', "
        "'t0', 't1')");
  }
  {
    auto opened = SqliteStore::Open(path);
    ASSERT_TRUE(opened) << opened.error().message;
    auto& store = **opened;
    auto agent = store.GetAgent("a1");
    ASSERT_TRUE(agent);
    EXPECT_EQ(agent->name, "agent one");
    EXPECT_EQ(agent->status, AgentStatus::kBusy);
    EXPECT_EQ(agent->max_tasks, 3);
    EXPECT_EQ(agent->version, "1.2.3");
    EXPECT_EQ(agent->credential_missing, std::nullopt);
    auto task = store.GetTask("t1");
    ASSERT_TRUE(task);
    EXPECT_EQ(task->task, "old work");
    EXPECT_EQ(task->output, "out");
    EXPECT_THAT(task->tags, ElementsAre("k"));
    EXPECT_EQ(task->parent_task_id, std::nullopt);
    CredentialReport waiting;
    waiting.agent_id = "a1";
    waiting.ready = false;
    EXPECT_EQ(store.SetAgentCredentials(waiting, At(1))->status,
              AgentStatus::kWaitingForCredentials);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm
