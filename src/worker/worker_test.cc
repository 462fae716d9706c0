// The worker loop against a stand-in API on loopback: a server that answers every poll at
// once (as upstream agent-swarm's does), one that refuses finishes for a while, one whose
// heartbeat and cancellation routes fail. Each counts what the worker sent it.
#include "worker/worker.h"

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/mcp_token.h"
#include "core/version.h"
#include "http/test_server.h"
#include "support/child_process.h"

namespace swarm::worker {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing_support::TempDir;
using testing_support::WaitUntil;

// What the stand-in does, and what it saw. Guarded by mu.
struct StandInState {
  std::mutex mu;
  std::vector<std::string> queued_tasks;  // handed out by the next polls, one each
  int polls = 0;                          // answered
  int polls_opened = 0;                   // arrived
  milliseconds hold_polls{0};             // a long-poll of this length before answering
  std::vector<json> registrations;
  // Finishes are refused (503) until both hold: this many refusals, and this time.
  int refuse_finishes = 0;
  Steady::time_point refuse_finishes_until{};
  int finish_attempts = 0;
  std::vector<json> finishes;
  bool fail_monitor_routes = false;       // /ping and /cancelled-tasks answer 500
  bool health_offers_task_tokens = true;  // /health says {"mcp":{"taskTokens":true}}, as ours
  int pings = 0;
  int cancel_checks = 0;
  std::vector<json> session_logs;
  // The finish answers 409, as the API does for a task the agent already finished over MCP.
  bool finished_elsewhere = false;
  // POST /api/tasks/{id}/supersede: 404 (an API without the route) unless this is set.
  bool supersede_route = false;
  std::vector<std::string> supersedes;  // "<task id> <reason>", as received
  // PUT /api/agents/{id}/credential-status: 404 unless this is set.
  bool credential_route = false;
  std::vector<json> credential_reports;
  // /api/active-sessions…: answered as our API does, or 404 (an API without them) if false.
  bool active_session_routes = true;
  // Replies with fields of the wrong types: {"cleaned":"2"}, {"updated":"no"} from the session
  // routes, a numeric version from /health, ids that are no strings among the cancelled
  // tasks, {"task":{"status":1},"alreadyFinished":"yes"} from /finish, {"kind":3} from
  // /supersede.
  bool garbled_replies = false;
  // Renewals answer {"updated":false}: the session is gone on the API's side.
  bool session_gone = false;
  std::vector<json> session_opens;  // POST /api/active-sessions bodies
  // In order: "<METHOD> <path>" of each active-session call, and "finish <status>" for each
  // finish taken.
  std::vector<std::string> events;
};

http::HttpResponse Reply(int status, const json& body) {
  http::HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

http::HttpResponse Handle(StandInState& s, const http::HttpRequest& request) {
  std::lock_guard lock(s.mu);
  const std::string& path = request.path;
  if (path == "/health") {
    json health = {{"status", "ok"}, {"version", s.garbled_replies ? json(7) : json("stand-in")}};
    if (s.health_offers_task_tokens) health["mcp"] = {{"taskTokens", true}};
    return Reply(200, health);
  }
  if (path == "/api/agents") {
    s.registrations.push_back(json::parse(request.body));
    return Reply(201, {{"id", std::string(request.Header("x-agent-id"))}});
  }
  if (path == "/api/poll") {
    ++s.polls;
    if (s.queued_tasks.empty()) return Reply(200, {{"trigger", nullptr}});  // never held
    const std::string id = s.queued_tasks.front();
    s.queued_tasks.erase(s.queued_tasks.begin());
    return Reply(200, {{"trigger",
                        {{"type", "task_assigned"},
                         {"taskId", id},
                         {"task", {{"id", id}, {"task", "work " + id}}}}}});
  }
  if (path == "/ping") {
    ++s.pings;
    if (s.fail_monitor_routes) return Reply(500, {{"error", "boom"}});
    return Reply(200, {{"success", true}});
  }
  if (path == "/cancelled-tasks") {
    ++s.cancel_checks;
    if (s.fail_monitor_routes) return Reply(500, {{"error", "boom"}});
    if (s.garbled_replies)
      return Reply(200, {{"cancelled", {{{"id", 5}}, "x", {{"id", "other"}}}}});
    return Reply(200, {{"cancelled", json::array()}});
  }
  if (path == "/api/session-logs") s.session_logs.push_back(json::parse(request.body));
  if (path.starts_with("/api/active-sessions")) {
    s.events.push_back(request.method + " " + path);
    if (!s.active_session_routes) return Reply(404, {{"error", "Not found"}});
    if (path == "/api/active-sessions") {
      s.session_opens.push_back(json::parse(request.body));
      return Reply(201, {{"session", s.session_opens.back()}});
    }
    if (path == "/api/active-sessions/cleanup") {
      return Reply(200, {{"cleaned", s.garbled_replies ? json("2") : json(0)}});
    }
    if (request.method == "DELETE") return Reply(200, {{"deleted", true}});
    if (s.session_gone) return Reply(200, {{"updated", false}});
    return Reply(200, {{"updated", s.garbled_replies ? json("no") : json(true)}});
  }
  if (path.ends_with("/supersede")) {
    if (!s.supersede_route) return Reply(404, {{"error", "no route"}});
    const std::string id = path.substr(11, path.size() - 11 - 10);  // /api/tasks/<id>/supersede
    s.supersedes.push_back(id + " " + json::parse(request.body).value("reason", ""));
    return Reply(200, {{"success", true},
                       {"kind", s.garbled_replies ? json(3) : json("resumed")},
                       {"resumeTaskId", "r-" + id}});
  }
  if (path.ends_with("/credential-status")) {
    s.credential_reports.push_back(json::parse(request.body));
    if (!s.credential_route) return Reply(404, {{"error", "no route"}});
    return Reply(200, {{"id", std::string(request.Header("x-agent-id"))}});
  }
  if (path.ends_with("/finish")) {
    ++s.finish_attempts;
    if (s.finished_elsewhere) {
      s.finishes.push_back(json::parse(request.body));
      return Reply(409, {{"error", "task is already completed; the first terminal result stands"},
                         {"alreadyFinished", true}});
    }
    if (s.finish_attempts <= s.refuse_finishes || Steady::now() < s.refuse_finishes_until) {
      return Reply(503, {{"error", "restarting"}});
    }
    s.finishes.push_back(json::parse(request.body));
    s.events.push_back("finish " + s.finishes.back().value("status", ""));
    if (s.garbled_replies)
      return Reply(200, {{"task", {{"status", 1}}}, {"alreadyFinished", "yes"}});
    return Reply(200, {{"task", {{"status", s.finishes.back().value("status", "")}}}});
  }
  return Reply(200, {{"success", true}});  // close, session, logs, costs
}

struct StandInHandler {
  std::shared_ptr<StandInState> state;
  boost::asio::awaitable<http::HttpResponse> operator()(http::HttpRequest request) const {
    return Respond(state, std::move(request));
  }
  static boost::asio::awaitable<http::HttpResponse> Respond(std::shared_ptr<StandInState> state,
                                                            http::HttpRequest request) {
    if (request.path == "/api/poll") {
      milliseconds hold;
      {
        std::lock_guard lock(state->mu);
        ++state->polls_opened;
        hold = state->hold_polls;
      }
      if (hold > milliseconds(0)) {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, hold);
        co_await timer.async_wait(boost::asio::use_awaitable);
      }
    }
    co_return Handle(*state, request);
  }
};

// A task runner that completes every task at once, or holds it for `hold`.
TaskRunner Completing(milliseconds hold = milliseconds(0)) {
  return [hold](const harness::TaskRun&, const std::optional<std::string>&,
                const harness::RunCallbacks&, const std::atomic<bool>* cancel) {
    WaitUntil([&] { return cancel->load(); }, hold);
    harness::RunResult r;
    r.ok = true;
    r.final_text = "done";
    return r;
  };
}

class WorkerStandInTest : public ::testing::Test {
 protected:
  std::shared_ptr<StandInState> state_ = std::make_shared<StandInState>();
  http::test_support::TestServer server_{http::ServerOptions{}, StandInHandler{state_}};
  TempDir dir_;

  // Runs one task on a worker started with `env`: whether its CLI was given the MCP server.
  bool RunGaveMcp(const std::string& task_id, const EnvMap& env) {
    {
      std::lock_guard lock(state_->mu);
      state_->queued_tasks = {task_id};
    }
    std::atomic<bool> had_mcp{true};
    auto runner = [&](const harness::TaskRun& run, const std::optional<std::string>&,
                      const harness::RunCallbacks&, const std::atomic<bool>*) {
      had_mcp = run.mcp.has_value();
      harness::RunResult r;
      r.ok = true;
      r.final_text = "done";
      return r;
    };
    auto running = Start(env, runner);
    EXPECT_TRUE(WaitUntil([&] { return !Read(&StandInState::finishes).empty(); }, seconds(10)));
    return had_mcp.load();
  }

  // Runs task `task_id` on a worker with a 300 ms shutdown grace, stops the worker while the
  // task still runs (it runs until cancelled), and waits for the worker to end.
  void StopPastTheGrace(const std::string& task_id, const std::string& agent) {
    {
      std::lock_guard lock(state_->mu);
      state_->queued_tasks = {task_id};
    }
    EnvMap env = Env(agent);
    env["SHUTDOWN_TIMEOUT"] = "300";
    std::atomic<bool> started{false};
    auto runner = [&](const harness::TaskRun&, const std::optional<std::string>&,
                      const harness::RunCallbacks&, const std::atomic<bool>* cancel) {
      started = true;
      WaitUntil([&] { return cancel->load(); }, seconds(30));
      harness::RunResult r;
      r.cancelled = cancel->load();
      r.failure_reason = "cancelled";
      return r;
    };
    auto running = Start(env, runner);
    ASSERT_TRUE(WaitUntil([&] { return started.load(); }, seconds(5)));
    running->worker->Stop();
    ASSERT_EQ(running->done.wait_for(seconds(20)), std::future_status::ready);
  }

  EnvMap Env(const std::string& agent_id) const {
    return {{"MCP_BASE_URL", server_.Url("")},
            {"AGENT_SWARM_API_KEY", "stand-in-key-5d1e"},
            {"AGENT_ID", agent_id},
            {"HARNESS_PROVIDER", "claude"},
            {"ANTHROPIC_API_KEY", "sk-ant-fake-for-tests"},
            {"ANTHROPIC_BASE_URL", "http://127.0.0.1:9"},
            {"WORKER_WORK_DIR", dir_.File("tasks")},
            {"WORKER_API_READY_TIMEOUT_SECONDS", "5"},
            {"WORKER_POLL_WAIT_SECONDS", "1"},
            {"SHUTDOWN_TIMEOUT", "2000"}};
  }

  // Worker::Run on a thread of its own, stopped (twice: no grace) by the returned guard.
  struct Running {
    std::unique_ptr<Worker> worker;
    std::future<Result<void>> done;
    ~Running() {
      worker->Stop();
      worker->Stop();
      done.wait_for(seconds(60));
    }
  };
  std::unique_ptr<Running> Start(const EnvMap& env, TaskRunner runner, CliVersionProbe probe = {}) {
    auto config = WorkerConfig::FromEnv(env);
    EXPECT_TRUE(config) << config.error().message;
    auto running = std::make_unique<Running>();
    running->worker =
        std::make_unique<Worker>(std::move(*config), std::move(runner), std::move(probe));
    running->done =
        std::async(std::launch::async, [w = running->worker.get()] { return w->Run(); });
    return running;
  }

  template <typename T>
  T Read(T StandInState::*field) {
    std::lock_guard lock(state_->mu);
    return (*state_).*field;
  }
};

TEST_F(WorkerStandInTest, PacesPollsAgainstAServerThatAnswersAtOnce) {
  auto running = Start(Env("w-paced"), Completing());
  ASSERT_TRUE(WaitUntil([&] { return Read(&StandInState::polls) >= 1; }, seconds(5)));
  const int first = Read(&StandInState::polls);
  std::this_thread::sleep_for(seconds(3));
  // WORKER_POLL_WAIT_SECONDS=1: a pause of a second (plus jitter) after each empty answer.
  // Without pacing this is thousands.
  const int polls = Read(&StandInState::polls) - first;
  EXPECT_GE(polls, 1);
  EXPECT_LE(polls, 4) << polls << " polls in 3 s";
}

TEST_F(WorkerStandInTest, APausedPollStillStopsPromptly) {
  EnvMap env = Env("w-paced-stop");
  env["WORKER_POLL_WAIT_SECONDS"] = "30";  // a 30 s pause after each early answer
  auto running = Start(env, Completing());
  ASSERT_TRUE(WaitUntil([&] { return Read(&StandInState::polls) >= 1; }, seconds(5)));
  std::this_thread::sleep_for(milliseconds(200));
  const auto stop_at = Steady::now();
  running->worker->Stop();
  ASSERT_EQ(running->done.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_LT(Steady::now() - stop_at, milliseconds(1'500));
}

TEST_F(WorkerStandInTest, RegistrationCarriesAFreshRuntimeInstanceIdPerProcess) {
  std::string first;
  {
    auto running = Start(Env("w-restart"), Completing());
    ASSERT_TRUE(WaitUntil([&] { return !Read(&StandInState::registrations).empty(); }, seconds(5)));
  }
  {
    // The same AGENT_ID again, as a restarted worker.
    auto running = Start(Env("w-restart"), Completing());
    ASSERT_TRUE(
        WaitUntil([&] { return Read(&StandInState::registrations).size() == 2; }, seconds(5)));
  }
  const auto registrations = Read(&StandInState::registrations);
  const std::string a = registrations[0].value("runtimeInstanceId", "");
  const std::string b = registrations[1].value("runtimeInstanceId", "");
  EXPECT_EQ(a.size(), 36u) << registrations[0].dump();  // a UUID
  EXPECT_EQ(b.size(), 36u) << registrations[1].dump();
  EXPECT_NE(a, b);
}

// A slow --version does not hold the registration: the worker registers at once, polls, and
// registers again with the version (same runtime instance) once the probe has it.
TEST_F(WorkerStandInTest, RegistersWithoutWaitingForTheCliVersionThenReportsIt) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto running = Start(Env("w-version"), Completing(),
                       [released](const std::atomic<bool>* cancel) -> Result<std::string> {
                         while (released.wait_for(milliseconds(10)) != std::future_status::ready) {
                           if (cancel->load()) return Unavailable("cancelled");
                         }
                         return std::string("9.9.9 (fake CLI)");
                       });
  ASSERT_TRUE(WaitUntil([&] { return Read(&StandInState::polls) >= 1; }, seconds(5)));
  auto registrations = Read(&StandInState::registrations);
  ASSERT_EQ(registrations.size(), 1u);
  EXPECT_FALSE(registrations[0].contains("cliVersion")) << registrations[0].dump();
  EXPECT_EQ(registrations[0].value("version", ""), BuildVersion());

  release.set_value();
  ASSERT_TRUE(
      WaitUntil([&] { return Read(&StandInState::registrations).size() == 2; }, seconds(5)));
  registrations = Read(&StandInState::registrations);
  EXPECT_EQ(registrations[1].value("cliVersion", ""), "9.9.9 (fake CLI)");
  EXPECT_EQ(registrations[1].value("runtimeInstanceId", ""),
            registrations[0].value("runtimeInstanceId", "?"));
}

// A probe that never ends does not keep a stopped worker from ending.
TEST_F(WorkerStandInTest, AStopEndsAProbeStillRunning) {
  auto running = Start(Env("w-version-stop"), Completing(),
                       [](const std::atomic<bool>* cancel) -> Result<std::string> {
                         while (!cancel->load()) std::this_thread::sleep_for(milliseconds(10));
                         return Unavailable("cancelled");
                       });
  ASSERT_TRUE(WaitUntil([&] { return Read(&StandInState::polls) >= 1; }, seconds(5)));
  running->worker->Stop();
  running->worker->Stop();
  ASSERT_EQ(running->done.wait_for(seconds(10)), std::future_status::ready);
  running.reset();  // joins the probe
  EXPECT_EQ(Read(&StandInState::registrations).size(), 1u);
}

TEST_F(WorkerStandInTest, AFinishOutlastsAnOutageLongerThanAnyAttemptCount) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-outage"};
    state_->refuse_finishes = 10;  // more attempts than any fixed retry count the worker had
    state_->refuse_finishes_until = Steady::now() + seconds(8);
  }
  auto running = Start(Env("w-outage"), Completing());
  ASSERT_TRUE(WaitUntil([&] { return !Read(&StandInState::finishes).empty(); }, seconds(40)))
      << "the finish was dropped after " << Read(&StandInState::finish_attempts) << " attempts";
  const auto finishes = Read(&StandInState::finishes);
  ASSERT_EQ(finishes.size(), 1u);
  EXPECT_EQ(finishes[0]["status"], "completed");
  EXPECT_EQ(finishes[0]["output"], "done");
  const int attempts = Read(&StandInState::finish_attempts);
  EXPECT_GE(attempts, 11);
  EXPECT_LE(attempts, 20);  // backed off: not a tight loop
}

TEST_F(WorkerStandInTest, ATaskClaimedWhileStoppingIsReportedThroughAnOutage) {
  // The worker stops while its open poll brings a task, against an API that cannot take it
  // back (no supersede route): it fails the task without running it, and that report rides
  // out the outage within the shutdown grace.
  {
    std::lock_guard lock(state_->mu);
    state_->hold_polls = milliseconds(1'000);
  }
  EnvMap env = Env("w-stop-outage");
  env["SHUTDOWN_TIMEOUT"] = "15000";
  std::atomic<int> runs{0};
  auto runner = [&](const harness::TaskRun&, const std::optional<std::string>&,
                    const harness::RunCallbacks&, const std::atomic<bool>*) {
    ++runs;
    return harness::RunResult{};
  };
  auto running = Start(env, runner);
  ASSERT_TRUE(WaitUntil([&] { return Read(&StandInState::polls_opened) >= 1; }, seconds(5)));
  running->worker->Stop();
  {
    // The poll open now answers with this task; the finish is refused for 6 s (the old
    // policy for it gave up after 4).
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-stopping"};
    state_->refuse_finishes_until = Steady::now() + seconds(6);
  }
  ASSERT_EQ(running->done.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(runs.load(), 0);
  const auto finishes = Read(&StandInState::finishes);
  ASSERT_EQ(finishes.size(), 1u) << "given up after " << Read(&StandInState::finish_attempts);
  EXPECT_EQ(finishes[0]["status"], "failed");
  EXPECT_EQ(finishes[0]["failureReason"], "worker shutting down");
}

TEST_F(WorkerStandInTest, ATaskClaimedWhileStoppingIsHandedBackNotFailed) {
  {
    std::lock_guard lock(state_->mu);
    state_->hold_polls = milliseconds(1'000);
    state_->supersede_route = true;
  }
  std::atomic<int> runs{0};
  auto runner = [&](const harness::TaskRun&, const std::optional<std::string>&,
                    const harness::RunCallbacks&, const std::atomic<bool>*) {
    ++runs;
    return harness::RunResult{};
  };
  auto running = Start(Env("w-stop-handback"), runner);
  ASSERT_TRUE(WaitUntil([&] { return Read(&StandInState::polls_opened) >= 1; }, seconds(5)));
  running->worker->Stop();
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-claimed-late"};
  }
  ASSERT_EQ(running->done.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(Read(&StandInState::supersedes),
            std::vector<std::string>{"t-claimed-late graceful_shutdown"});
  EXPECT_TRUE(Read(&StandInState::finishes).empty());
}

// A task still running when the shutdown grace ends is cancelled and handed back with
// supersede (reason graceful_shutdown), not finished failed.
TEST_F(WorkerStandInTest, ARunningTaskPastTheGraceIsHandedBack) {
  {
    std::lock_guard lock(state_->mu);
    state_->supersede_route = true;
    state_->garbled_replies = true;  // {"kind":3} from /supersede too: read by type
  }
  ASSERT_NO_FATAL_FAILURE(StopPastTheGrace("t-long", "w-grace"));
  EXPECT_EQ(Read(&StandInState::supersedes), std::vector<std::string>{"t-long graceful_shutdown"});
  EXPECT_TRUE(Read(&StandInState::finishes).empty()) << Read(&StandInState::finishes)[0].dump();
}

// Without the supersede route (an older API) the same task is finished failed, as before.
TEST_F(WorkerStandInTest, ARunningTaskPastTheGraceFailsWhenTheApiCannotTakeItBack) {
  ASSERT_NO_FATAL_FAILURE(StopPastTheGrace("t-long-old-api", "w-grace-old"));
  const auto finishes = Read(&StandInState::finishes);
  ASSERT_EQ(finishes.size(), 1u);
  EXPECT_EQ(finishes[0]["status"], "failed");
  EXPECT_EQ(finishes[0]["failureReason"], "worker shutting down");
}

TEST_F(WorkerStandInTest, ReportsItsCredentialStatusAtBootWithoutItsValue) {
  {
    std::lock_guard lock(state_->mu);
    state_->credential_route = true;
  }
  auto running = Start(Env("w-creds"), Completing());
  ASSERT_TRUE(
      WaitUntil([&] { return !Read(&StandInState::credential_reports).empty(); }, seconds(5)));
  const json report = Read(&StandInState::credential_reports)[0];
  EXPECT_EQ(report["ready"], true) << report.dump();
  EXPECT_EQ(report["missing"], json::array());
  EXPECT_EQ(report["cred_status"]["satisfiedBy"], "ANTHROPIC_API_KEY");
  EXPECT_EQ(report["cred_status"]["reportKind"], "boot");
  EXPECT_EQ(report.dump().find("sk-ant-fake-for-tests"), std::string::npos) << report.dump();
}

// An API without the route (404) does not stop the worker: it polls and runs tasks.
TEST_F(WorkerStandInTest, ACredentialStatusRefusalIsNotFatal) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-after-404"};
  }
  auto running = Start(Env("w-creds-404"), Completing());
  ASSERT_TRUE(WaitUntil([&] { return !Read(&StandInState::finishes).empty(); }, seconds(10)));
  EXPECT_EQ(Read(&StandInState::credential_reports).size(), 1u);  // 404 is not retried
  EXPECT_EQ(Read(&StandInState::finishes)[0]["status"], "completed");
}

// As upstream's worker: at boot the agent's old sessions are cleaned up; each task gets an
// active session before its CLI starts (so a crash of the worker resumes the task), renewed
// at the heartbeat cadence while it runs, and ended once its finish is reported.
TEST_F(WorkerStandInTest, OpensAnActiveSessionBeforeTheCliRenewsItAndEndsItAfterTheFinish) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-session"};
  }
  EnvMap env = Env("w-session");
  env["WORKER_HEARTBEAT_SECONDS"] = "0.1";
  std::atomic<int> opens_when_cli_started{-1};
  auto runner = [&](const harness::TaskRun&, const std::optional<std::string>&,
                    const harness::RunCallbacks&, const std::atomic<bool>* cancel) {
    opens_when_cli_started = static_cast<int>(Read(&StandInState::session_opens).size());
    WaitUntil([&] { return cancel->load(); }, milliseconds(1'000));  // a few heartbeats long
    harness::RunResult r;
    r.ok = true;
    r.final_text = "done";
    return r;
  };
  auto running = Start(env, runner);
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto events = Read(&StandInState::events);
        return !events.empty() && events.back() == "DELETE /api/active-sessions/by-task/t-session";
      },
      seconds(10)));
  EXPECT_EQ(opens_when_cli_started.load(), 1);

  const auto opens = Read(&StandInState::session_opens);
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["agentId"], "w-session");
  EXPECT_EQ(opens[0]["taskId"], "t-session");
  EXPECT_EQ(opens[0]["triggerType"], "task_assigned");
  EXPECT_EQ(opens[0]["taskDescription"], "work t-session");
  EXPECT_EQ(opens[0]["runtimeInstanceId"],
            Read(&StandInState::registrations).at(0)["runtimeInstanceId"]);

  // Cleanup at boot, open, renewals while the CLI runs (and while its end is reported), the
  // finish, then the end, after which nothing is renewed.
  std::this_thread::sleep_for(milliseconds(300));  // three more heartbeat periods
  const auto events = Read(&StandInState::events);
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events[0], "POST /api/active-sessions/cleanup");
  EXPECT_EQ(events[1], "POST /api/active-sessions");
  EXPECT_EQ(events.back(), "DELETE /api/active-sessions/by-task/t-session");
  int renewals = 0, finishes = 0;
  for (std::size_t i = 2; i + 1 < events.size(); ++i) {
    if (events[i] == "finish completed") {
      ++finishes;
      continue;
    }
    EXPECT_EQ(events[i], "PUT /api/active-sessions/heartbeat/t-session");
    ++renewals;
  }
  EXPECT_EQ(finishes, 1);
  // 1 s at 0.1 s; at least a few even on a busy machine, and not a tight loop.
  EXPECT_GE(renewals, 3);
  EXPECT_LE(renewals, 15);
}

// An API without the routes (404): one try, one warning, and the task runs and finishes as
// before; nothing is renewed or ended.
TEST_F(WorkerStandInTest, AnApiWithoutActiveSessionsStillGetsTheTaskRun) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-no-sessions"};
    state_->active_session_routes = false;
  }
  EnvMap env = Env("w-no-sessions");
  env["WORKER_HEARTBEAT_SECONDS"] = "0.1";
  auto running = Start(env, Completing(milliseconds(500)));
  ASSERT_TRUE(WaitUntil([&] { return !Read(&StandInState::finishes).empty(); }, seconds(10)));
  EXPECT_EQ(Read(&StandInState::finishes)[0]["status"], "completed");
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Read(&StandInState::events),
            (std::vector<std::string>{"POST /api/active-sessions/cleanup",
                                      "POST /api/active-sessions", "finish completed"}));
}

// Replies of the wrong types are read by type: the worker neither throws nor stops renewing,
// a cancelled-task entry without a string id cancels nothing, and the task runs, finishes and
// has its session ended.
TEST_F(WorkerStandInTest, WrongTypedRepliesAreIgnored) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-garbled"};
    state_->garbled_replies = true;
  }
  EnvMap env = Env("w-garbled");
  env["WORKER_HEARTBEAT_SECONDS"] = "0.1";
  env["WORKER_CANCEL_CHECK_SECONDS"] = "0.1";
  auto running = Start(env, Completing(milliseconds(800)));
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto events = Read(&StandInState::events);
        return !events.empty() && events.back() == "DELETE /api/active-sessions/by-task/t-garbled";
      },
      seconds(10)));
  EXPECT_EQ(Read(&StandInState::finishes).at(0)["status"], "completed");
  const auto events = Read(&StandInState::events);
  EXPECT_GE(
      std::count(events.begin(), events.end(), "PUT /api/active-sessions/heartbeat/t-garbled"), 2);
  EXPECT_GE(Read(&StandInState::cancel_checks), 2);
}

// A session the API says it no longer has is not renewed again, nor ended: there is nothing
// left to end.
TEST_F(WorkerStandInTest, ASessionTheApiNoLongerHasIsNotRenewed) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-gone"};
    state_->session_gone = true;
  }
  EnvMap env = Env("w-gone");
  env["WORKER_HEARTBEAT_SECONDS"] = "0.1";
  auto running = Start(env, Completing(milliseconds(1'500)));
  ASSERT_TRUE(WaitUntil([&] { return !Read(&StandInState::finishes).empty(); }, seconds(10)));
  std::this_thread::sleep_for(milliseconds(300));  // a DELETE would follow the finish
  const auto events = Read(&StandInState::events);
  EXPECT_EQ(std::count(events.begin(), events.end(), "PUT /api/active-sessions/heartbeat/t-gone"),
            1);
  EXPECT_EQ(std::count(events.begin(), events.end(), "DELETE /api/active-sessions/by-task/t-gone"),
            0);
}

TEST_F(WorkerStandInTest, HeartbeatsAndCancelChecksBackOffWhileTheyFail) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-busy"};
    state_->fail_monitor_routes = true;
  }
  EnvMap env = Env("w-backoff");
  env["WORKER_HEARTBEAT_SECONDS"] = "0.1";
  env["WORKER_CANCEL_CHECK_SECONDS"] = "0.1";
  auto running = Start(env, Completing(seconds(4)));
  ASSERT_TRUE(WaitUntil([&] { return Read(&StandInState::cancel_checks) >= 1; }, seconds(5)));
  std::this_thread::sleep_for(seconds(3));
  // At a fixed 0.1 s each would be ~30 in 3 s; backing off 0.1, 0.2, 0.4, 0.8, 1.6 s: ~5.
  EXPECT_LE(Read(&StandInState::pings), 8);
  EXPECT_LE(Read(&StandInState::cancel_checks), 8);
  EXPECT_GE(Read(&StandInState::pings), 2);
}

// Each run gets the MCP server with a token for its own task, which never reaches the session
// logs even when the CLI prints it; the finish the API refuses because the agent finished the
// task over MCP is no error.
TEST_F(WorkerStandInTest, HandsEachRunATaskTokenAndScrubsItFromTheLogs) {
  {
    std::lock_guard lock(state_->mu);
    state_->queued_tasks = {"t-mcp"};
    state_->finished_elsewhere = true;
  }
  std::mutex seen_mu;
  std::optional<harness::McpAccess> seen;
  auto runner = [&](const harness::TaskRun& run, const std::optional<std::string>&,
                    const harness::RunCallbacks& callbacks, const std::atomic<bool>*) {
    {
      std::lock_guard lock(seen_mu);
      seen = run.mcp;
    }
    if (run.mcp) callbacks.on_line("env: SWARM_MCP_TOKEN=" + run.mcp->token);
    harness::RunResult r;
    r.ok = true;
    r.final_text = "done";
    r.mcp_status = harness::McpStatus::kConnected;
    r.mcp_calls.push_back({"store-progress", "completed", false});
    return r;
  };
  auto running = Start(Env("w-mcp"), runner);
  ASSERT_TRUE(WaitUntil([&] { return !Read(&StandInState::finishes).empty(); }, seconds(10)));
  ASSERT_TRUE(WaitUntil([&] { return !Read(&StandInState::session_logs).empty(); }, seconds(10)));
  {
    std::lock_guard lock(seen_mu);
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->url, server_.Url("") + "/mcp");
    EXPECT_EQ(seen->agent_id, "w-mcp");
    EXPECT_EQ(seen->task_id, "t-mcp");
    EXPECT_EQ(VerifyMcpTaskToken("stand-in-key-5d1e", "w-mcp", seen->token), "t-mcp");
  }
  const std::string logs = Read(&StandInState::session_logs).front().dump();
  EXPECT_NE(logs.find("SWARM_MCP_TOKEN=[REDACTED]"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(seen->token), std::string::npos) << logs;
  EXPECT_EQ(Read(&StandInState::finishes).size(), 1u);  // the 409 is not retried
}

// An API that does not say it takes task tokens (upstream's /health is {status, version}):
// MCP_AUTH=auto leaves the CLI without the server rather than handing it the swarm key.
TEST_F(WorkerStandInTest, McpAuthAutoSkipsMcpAgainstAnApiWithoutTaskTokens) {
  {
    std::lock_guard lock(state_->mu);
    state_->health_offers_task_tokens = false;
  }
  EXPECT_FALSE(RunGaveMcp("t-auto", Env("w-mcp-auto")));
}

TEST_F(WorkerStandInTest, McpAuthOffRunsTheCliWithoutTheServer) {
  EnvMap env = Env("w-mcp-off");
  env["MCP_AUTH"] = "off";
  EXPECT_FALSE(RunGaveMcp("t-off", env));
}

}  // namespace
}  // namespace swarm::worker
