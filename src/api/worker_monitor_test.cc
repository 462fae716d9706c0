#include "api/worker_monitor.h"

#include <optional>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "api/active_sessions.h"
#include "api/agent_service.h"
#include "store/sqlite_store.h"

namespace swarm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace asio = boost::asio;

// Registers a poll waiter for `agent`, then registers `reg` (a restarted worker), then waits
// up to 10 s: `*woke_after` is how long the wait took.
asio::awaitable<void> PollAcrossARestart(PollHub* hub, AgentService* agents, AgentRegistration reg,
                                         std::optional<milliseconds>* woke_after) {
  auto waiter = hub->Register(reg.id, co_await asio::this_coro::executor);
  waiter->SetPoolEligible(true);
  EXPECT_TRUE(agents->Register(reg));
  const auto start = std::chrono::steady_clock::now();
  co_await waiter->Wait(start + seconds(10));
  *woke_after = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
}

// The monitor over a real (in-memory) store with a clock the test moves: no sleeping.
class WorkerMonitorTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    monitor_ = std::make_unique<WorkerMonitor>(*store_, clock_, heartbeats_, hub_, seconds(10));
  }

  // Registers `agent`, gives it a task and lets it claim the task; returns the task id.
  std::string Working(const std::string& agent) {
    AgentRegistration reg;
    reg.id = agent;
    reg.name = agent;
    EXPECT_TRUE(store_->UpsertAgent(reg, Now()));
    NewTask t;
    t.id = "task-of-" + agent;
    t.agent_id = agent;
    t.task = "work";
    t.now = Now();
    EXPECT_TRUE(store_->CreateTask(t));
    auto claimed = store_->ClaimTask(agent, true, Now());
    EXPECT_TRUE(claimed && *claimed);
    heartbeats_.Known(agent, clock_.Monotonic());
    return t.id;
  }
  std::string Now() { return FormatIsoTime(clock_.Now()); }
  TaskStatus StatusOf(const std::string& id) { return store_->GetTask(id)->status; }

  // The session a worker opens before its CLI starts (POST /api/active-sessions).
  static bool OpenSession(ActiveSessionService& sessions, const std::string& agent,
                          const std::string& task) {
    ActiveSession session;
    session.agent_id = agent;
    session.task_id = task;
    session.trigger_type = "task_assigned";
    return sessions.Open(session).has_value();
  }

  ManualClock clock_{TimePoint(seconds(1'800'000'000))};
  Heartbeats heartbeats_;
  PollHub hub_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<WorkerMonitor> monitor_;
};

TEST_F(WorkerMonitorTest, SilentWorkerPastTheTimeoutIsLost) {
  const std::string task = Working("ghost");
  clock_.Advance(seconds(9));
  ASSERT_TRUE(monitor_->Sweep());
  EXPECT_EQ(StatusOf(task), TaskStatus::kInProgress);  // not yet

  clock_.Advance(seconds(2));
  auto failed = monitor_->Sweep();
  ASSERT_TRUE(failed);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ(StatusOf(task), TaskStatus::kFailed);
  const std::string reason = *store_->GetTask(task)->failure_reason;
  EXPECT_NE(reason.find("worker lost"), std::string::npos) << reason;
  EXPECT_NE(reason.find("ghost"), std::string::npos) << reason;
  EXPECT_EQ(store_->GetAgent("ghost")->status, AgentStatus::kOffline);
}

TEST_F(WorkerMonitorTest, HeartbeatsKeepAWorkerAlive) {
  const std::string task = Working("alive");
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(8));
    heartbeats_.Beat("alive", clock_.Monotonic());
    ASSERT_TRUE(monitor_->Sweep());
  }
  EXPECT_EQ(StatusOf(task), TaskStatus::kInProgress);
}

TEST_F(WorkerMonitorTest, AWallClockStepDoesNotLoseALiveWorker) {
  // Liveness runs on monotonic time: an NTP or operator step of the wall clock is no silence.
  const std::string task = Working("steady");
  clock_.SetWallTime(clock_.Now() + std::chrono::hours(2));
  ASSERT_TRUE(monitor_->Sweep());
  EXPECT_EQ(StatusOf(task), TaskStatus::kInProgress);
}

TEST_F(WorkerMonitorTest, IdleAgentsAreNeverLost) {
  AgentRegistration reg;
  reg.id = "idle";
  reg.name = "idle";
  ASSERT_TRUE(store_->UpsertAgent(reg, Now()));
  clock_.Advance(seconds(3600));
  auto failed = monitor_->Sweep();
  ASSERT_TRUE(failed);
  EXPECT_TRUE(failed->empty());
  EXPECT_EQ(store_->GetAgent("idle")->status, AgentStatus::kIdle);
}

TEST_F(WorkerMonitorTest, AgentsUnheardSinceStartCountFromTheStart) {
  // As after a restart: the task is in progress but this process never heard the agent.
  const std::string task = Working("restarted");
  Heartbeats fresh;
  WorkerMonitor monitor(*store_, clock_, fresh, hub_, seconds(10));
  clock_.Advance(seconds(5));
  ASSERT_TRUE(monitor.Sweep());
  EXPECT_EQ(StatusOf(task), TaskStatus::kInProgress);
  clock_.Advance(seconds(6));
  ASSERT_TRUE(monitor.Sweep());
  EXPECT_EQ(StatusOf(task), TaskStatus::kFailed);
}

// Upstream's worker opens an active session per task: a lost worker's task with one is
// superseded (crash_recovery) with a resume child in the pool, the agent being offline; a task
// without one still fails; the sessions go.
TEST_F(WorkerMonitorTest, ALostWorkersTaskWithASessionIsResumedInThePool) {
  AgentRegistration reg;
  reg.id = "upstream";
  reg.name = "upstream";
  reg.max_tasks = 2;
  ASSERT_TRUE(store_->UpsertAgent(reg, Now()));
  for (const char* id : {"with-session", "without-session"}) {
    NewTask t;
    t.id = id;
    t.agent_id = "upstream";
    t.task = "work";
    t.now = Now();
    ASSERT_TRUE(store_->CreateTask(t));
    ASSERT_TRUE(store_->ClaimTask("upstream", false, Now()));
  }
  heartbeats_.Known("upstream", clock_.Monotonic());
  AgentService agents(*store_, clock_, heartbeats_);
  ActiveSessionService sessions(*store_, clock_, agents, hub_);
  ASSERT_TRUE(OpenSession(sessions, "upstream", "with-session"));

  clock_.Advance(seconds(11));
  std::vector<Task> resumed;
  auto taken = monitor_->Sweep(&resumed);
  ASSERT_TRUE(taken) << taken.error().message;
  EXPECT_EQ(taken->size(), 2u);
  EXPECT_EQ(StatusOf("with-session"), TaskStatus::kSuperseded);
  EXPECT_EQ(StatusOf("without-session"), TaskStatus::kFailed);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].parent_task_id, "with-session");
  EXPECT_EQ(resumed[0].status, TaskStatus::kUnassigned);
  EXPECT_EQ(store_->GetAgent("upstream")->status, AgentStatus::kOffline);
  EXPECT_TRUE(sessions.List(std::string("upstream"))->empty());
}

// The session's heartbeat (PUT /api/active-sessions/heartbeat/{taskId}) is a sign of life on
// its own: a worker whose CLI is quiet but whose runner renews its session is not lost.
TEST_F(WorkerMonitorTest, AnActiveSessionHeartbeatKeepsTheWorkerAlive) {
  const std::string task = Working("renewing");
  AgentService agents(*store_, clock_, heartbeats_);
  ActiveSessionService sessions(*store_, clock_, agents, hub_);
  ASSERT_TRUE(OpenSession(sessions, "renewing", task));
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(8));
    ASSERT_TRUE(sessions.Heartbeat(task));
    ASSERT_TRUE(monitor_->Sweep());
  }
  EXPECT_EQ(StatusOf(task), TaskStatus::kInProgress);
}

// A worker killed with -9 and started again registers with a new runtime instance: the task
// its previous process had a session for is resumed for it, and its poll wakes at once for
// the child (AgentService tells the PollHub) rather than at its deadline.
TEST_F(WorkerMonitorTest, ARestartedWorkersRegistrationWakesItsPollForTheResumeChild) {
  AgentService agents(*store_, clock_, heartbeats_, &hub_);
  ActiveSessionService sessions(*store_, clock_, agents, hub_);
  AgentRegistration reg;
  reg.id = "restarted";
  reg.name = "restarted";
  reg.runtime_instance_id = "process-1";
  ASSERT_TRUE(agents.Register(reg));
  NewTask t;
  t.id = "interrupted";
  t.agent_id = "restarted";
  t.task = "work";
  t.now = Now();
  ASSERT_TRUE(store_->CreateTask(t));
  ASSERT_TRUE(store_->ClaimTask("restarted", false, Now()));
  ASSERT_TRUE(OpenSession(sessions, "restarted", "interrupted"));

  reg.runtime_instance_id = "process-2";
  asio::io_context io;
  std::optional<milliseconds> woke_after;
  asio::co_spawn(io, PollAcrossARestart(&hub_, &agents, reg, &woke_after), asio::detached);
  io.run_for(seconds(15));
  ASSERT_TRUE(woke_after.has_value());
  EXPECT_LT(*woke_after, seconds(2));
  EXPECT_EQ(StatusOf("interrupted"), TaskStatus::kSuperseded);
  auto claimed = store_->ClaimTask("restarted", false, Now());
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->parent_task_id, "interrupted");
}

TEST_F(WorkerMonitorTest, SweepIntervalFollowsTheTimeout) {
  EXPECT_EQ(monitor_->sweep_interval(), milliseconds(2500));
  WorkerMonitor quick(*store_, clock_, heartbeats_, hub_, seconds(2));
  EXPECT_EQ(quick.sweep_interval(), milliseconds(500));
}

}  // namespace
}  // namespace swarm
