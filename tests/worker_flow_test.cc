// The worker loop against the real API binary over loopback HTTP. Only the harness is played
// (a fake TaskRunner chosen by the task text); everything else — config parsing, polling,
// heartbeats, cancellation checks, reporting, shutdown — is the production code.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "support/api_process.h"
#include "worker/worker.h"
#include "worker/worker_config.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

harness::RunResult Completed(std::string text, std::optional<std::string> output = {}) {
  harness::RunResult r;
  r.ok = true;
  r.final_text = std::move(text);
  r.output = std::move(output);
  return r;
}

// Runs until the cancel flag is set (bounded), as a CLI killed by the runner would.
harness::RunResult UntilCancelled(const std::atomic<bool>* cancel) {
  WaitUntil([&] { return cancel->load(); }, seconds(30));
  harness::RunResult r;
  r.cancelled = cancel->load();
  r.failure_reason = "cancelled: fake was stopped";
  return r;
}

// The harness stand-in: behaviour chosen by the task text, and a record of every run.
class FakeHarness {
 public:
  using Behaviour = std::function<harness::RunResult(
      const harness::TaskRun&, const harness::RunCallbacks&, const std::atomic<bool>*)>;

  struct Call {
    harness::TaskRun run;
    std::optional<std::string> model;
    const std::atomic<bool>* cancel = nullptr;
  };

  void On(const std::string& text, Behaviour behaviour) {
    std::lock_guard lock(mu_);
    behaviours_[text] = std::move(behaviour);
  }

  worker::TaskRunner Runner() {
    return [this](const harness::TaskRun& run, const std::optional<std::string>& model,
                  const harness::RunCallbacks& callbacks, const std::atomic<bool>* cancel) {
      Behaviour behaviour;
      {
        std::lock_guard lock(mu_);
        calls_.push_back({run, model, cancel});
        behaviour = behaviours_.at(run.prompt);
      }
      const int now_active = ++active_;
      int seen = max_active_.load();
      while (now_active > seen && !max_active_.compare_exchange_weak(seen, now_active)) {
      }
      auto result = behaviour(run, callbacks, cancel);
      --active_;
      return result;
    };
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int active() const { return active_.load(); }
  int max_active() const { return max_active_.load(); }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Behaviour> behaviours_;
  std::vector<Call> calls_;
  std::atomic<int> active_{0};
  std::atomic<int> max_active_{0};
};

// Worker::Run on a thread of its own; stopped (bounded) on destruction.
class RunningWorker {
 public:
  RunningWorker(worker::WorkerConfig config, worker::TaskRunner runner)
      : worker_(std::move(config), std::move(runner)),
        done_(std::async(std::launch::async, [this] { return worker_.Run(); })) {}
  ~RunningWorker() {
    if (!done_.valid()) return;  // Run has returned and its result was taken
    worker_.Stop();
    worker_.Stop();  // no grace left: a test that failed midway ends fast
    done_.wait_for(seconds(60));
  }
  void Stop() { worker_.Stop(); }
  // The result of Run, or nullopt if it has not returned within `timeout`.
  std::optional<Result<void>> Wait(milliseconds timeout) {
    if (!result_ && done_.wait_for(timeout) == std::future_status::ready) result_ = done_.get();
    return result_;
  }

 private:
  worker::Worker worker_;
  std::future<Result<void>> done_;
  std::optional<Result<void>> result_;
};

class WorkerFlowTest : public ::testing::Test {
 protected:
  TempDir dir_;
  // A short worker timeout: a worker that stopped heartbeating would lose its tasks fast.
  ApiProcess api_{dir_.File("swarm.sqlite"), {"--worker-timeout", "2"}};
  TestApi client_{api_.url()};
  FakeHarness fake_;

  worker::EnvMap Env(const std::string& agent_id) const {
    return {{"MCP_BASE_URL", api_.url()},
            {"AGENT_SWARM_API_KEY", kTestApiKey},
            {"AGENT_ID", agent_id},
            {"AGENT_ROLE", "worker"},
            {"HARNESS_PROVIDER", "claude"},
            {"ANTHROPIC_API_KEY", "sk-ant-fake-for-tests"},
            {"ANTHROPIC_BASE_URL", "http://127.0.0.1:9"},
            {"MAX_CONCURRENT_TASKS", "1"},
            {"WORKER_YOLO", "true"},
            {"SLACK_DISABLE", "true"},
            {"GITHUB_DISABLE", "true"},
            {"WORKER_WORK_DIR", dir_.File("tasks")},
            {"WORKER_API_READY_TIMEOUT_SECONDS", "5"},
            {"WORKER_POLL_WAIT_SECONDS", "1"},
            {"WORKER_HEARTBEAT_SECONDS", "0.5"},
            {"SHUTDOWN_TIMEOUT", "5000"}};
  }

  std::unique_ptr<RunningWorker> Start(const worker::EnvMap& env) {
    auto config = worker::WorkerConfig::FromEnv(env);
    EXPECT_TRUE(config) << config.error().message;
    if (!config) return nullptr;
    auto running = std::make_unique<RunningWorker>(std::move(*config), fake_.Runner());
    const std::string agent = env.at("AGENT_ID");
    EXPECT_TRUE(
        WaitUntil([&] { return client_.Get("/api/agents/" + agent).status == 200; }, seconds(10)))
        << "the worker did not register";
    return running;
  }

  std::string CreateTask(const std::string& text, const std::string& agent,
                         const std::optional<json>& schema = std::nullopt) {
    json body = {{"task", text}, {"agentId", agent}};
    if (schema) body["outputSchema"] = *schema;
    Reply created = client_.Post("/api/tasks", body);
    EXPECT_EQ(created.status, 201) << created.raw;
    return created.body.value("id", "");
  }

  json Task(const std::string& id) const { return client_.Get("/api/tasks/" + id).body; }

  // Waits until the task reaches `status` (bounded) and returns it.
  json WaitForStatus(const std::string& id, const std::string& status,
                     milliseconds timeout = seconds(15)) {
    json task;
    WaitUntil(
        [&] {
          task = Task(id);
          return task.value("status", "") == status;
        },
        timeout);
    EXPECT_EQ(task.value("status", ""), status) << task.dump();
    return task;
  }

  int SessionLogCount(const std::string& id) const {
    return static_cast<int>(
        client_.Get("/api/tasks/" + id + "/session-logs").body.value("logs", json::array()).size());
  }
};

TEST_F(WorkerFlowTest, ClaimsRunsAndReportsATask) {
  const std::string agent = "w-roundtrip";
  std::string task_id;
  bool session_seen_live = false;
  bool first_batch_live = false;
  bool rest_flushed_by_age = false;
  fake_.On("Reply with exactly: pong", [&](const harness::TaskRun& run,
                                           const harness::RunCallbacks& cb,
                                           const std::atomic<bool>*) {
    cb.on_session("sess-123");
    // Reported while the CLI still runs, not after.
    session_seen_live =
        WaitUntil([&] { return Task(run.task_id).value("claudeSessionId", json()) == "sess-123"; },
                  seconds(5));
    for (int i = 0; i < 60; ++i) cb.on_line(json{{"type", "line"}, {"n", i}}.dump());
    first_batch_live = WaitUntil([&] { return SessionLogCount(run.task_id) >= 50; }, seconds(5));
    rest_flushed_by_age = WaitUntil([&] { return SessionLogCount(run.task_id) == 60; }, seconds(5));
    auto r = Completed("Here it is: {\"reply\":\"pong\"}", R"({"reply":"pong"})");
    r.session_id = "sess-123";
    r.usage.input_tokens = 120;
    r.usage.output_tokens = 7;
    r.cost_usd = 0.0042;
    r.cost_source = "harness";
    r.model = "claude-test-model";
    r.num_turns = 1;
    return r;
  });
  auto worker = Start(Env(agent));
  json agent_view = client_.Get("/api/agents/" + agent).body;
  EXPECT_EQ(agent_view["maxTasks"], 1);
  EXPECT_EQ(agent_view["provider"], "claude");
  EXPECT_EQ(agent_view["role"], "worker");

  task_id = CreateTask("Reply with exactly: pong", agent, SeedOutputSchema());
  json task = WaitForStatus(task_id, "completed");
  EXPECT_EQ(task["output"], R"({"reply":"pong"})");
  EXPECT_EQ(task["claudeSessionId"], "sess-123");
  EXPECT_EQ(task["provider"], "claude");
  EXPECT_TRUE(session_seen_live);
  EXPECT_TRUE(first_batch_live);
  EXPECT_TRUE(rest_flushed_by_age);

  json logs = client_.Get("/api/tasks/" + task_id + "/session-logs").body["logs"];
  ASSERT_EQ(logs.size(), 60u);
  std::set<int> numbers;
  for (const json& line : logs) {
    EXPECT_EQ(line["cli"], "claude");
    numbers.insert(json::parse(line["content"].get<std::string>())["n"].get<int>());
  }
  EXPECT_EQ(numbers.size(), 60u);

  json costs = client_.Get("/api/session-costs?taskId=" + task_id).body["costs"];
  ASSERT_EQ(costs.size(), 1u) << costs.dump();
  EXPECT_DOUBLE_EQ(costs[0]["totalCostUsd"].get<double>(), 0.0042);
  EXPECT_EQ(costs[0]["inputTokens"], 120);
  EXPECT_EQ(costs[0]["outputTokens"], 7);
  EXPECT_EQ(costs[0]["costSource"], "harness");
  EXPECT_EQ(costs[0]["agentId"], agent);
  EXPECT_EQ(costs[0]["model"], "claude-test-model");

  // The run got the task, a fresh directory of its own under the work root (<task id>-XXXXXX,
  // removed with everything in it once the task is reported), and the environment to start
  // the CLI from.
  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u);
  const harness::TaskRun& run = calls[0].run;
  EXPECT_EQ(run.task_id, task_id);
  EXPECT_EQ(run.output_schema.value_or(""), SeedOutputSchema().dump());
  const fs::path base = run.work_dir.parent_path();
  EXPECT_EQ(base.parent_path(), fs::path(dir_.File("tasks")));
  EXPECT_EQ(base.filename().string().rfind(task_id + "-", 0), 0u) << base;
  EXPECT_EQ(run.work_dir, base / "work");
  EXPECT_EQ(run.home_dir, base / "home");
  EXPECT_FALSE(fs::exists(base));
  EXPECT_EQ(run.base_env.at("HOME"), run.home_dir.string());
  EXPECT_TRUE(run.base_env.count("PATH"));
  EXPECT_EQ(run.base_env.count("ANTHROPIC_API_KEY"), 0u);
  EXPECT_EQ(run.timeout, seconds(600));
}

TEST_F(WorkerFlowTest, ReportsTextOutputFailuresAndSchemaMismatches) {
  const std::string agent = "w-outcomes";
  fake_.On("say pong", [](auto&&...) { return Completed("pong"); });
  fake_.On("break", [](auto&&...) {
    harness::RunResult r;
    r.failure_reason = "claude failed: API Error: 500 (exit code 1)";
    return r;
  });
  fake_.On("reply ping",
           [](auto&&...) { return Completed("{\"reply\":\"ping\"}", R"({"reply":"ping"})"); });
  auto worker = Start(Env(agent));

  const std::string text_task = CreateTask("say pong", agent);
  EXPECT_EQ(WaitForStatus(text_task, "completed")["output"], "pong");

  const std::string failing = CreateTask("break", agent);
  EXPECT_EQ(WaitForStatus(failing, "failed")["failureReason"],
            "claude failed: API Error: 500 (exit code 1)");

  // The worker sends what it got; the server judges it against the schema.
  const std::string mismatch = CreateTask("reply ping", agent, SeedOutputSchema());
  json task = WaitForStatus(mismatch, "failed");
  EXPECT_EQ(task["output"], R"({"reply":"ping"})");
  EXPECT_NE(task["failureReason"].get<std::string>().find("reply"), std::string::npos)
      << task["failureReason"];
}

TEST_F(WorkerFlowTest, RunsTwoTasksAtOnceWithTwoSlots) {
  const std::string agent = "w-two";
  auto both_running = [this] { return fake_.active() == 2; };
  fake_.On("task", [&](auto&&...) {
    // Each run waits (bounded) for the other to be running too.
    WaitUntil(both_running, seconds(10));
    std::this_thread::sleep_for(milliseconds(200));
    return Completed("done");
  });
  worker::EnvMap env = Env(agent);
  env["MAX_CONCURRENT_TASKS"] = "2";
  auto worker = Start(env);
  EXPECT_EQ(client_.Get("/api/agents/" + agent).body["maxTasks"], 2);

  const std::string a = CreateTask("task", agent);
  const std::string b = CreateTask("task", agent);
  WaitForStatus(a, "completed");
  WaitForStatus(b, "completed");
  EXPECT_EQ(fake_.max_active(), 2);
  json ta = Task(a);
  json tb = Task(b);
  // The runs overlapped: each started before the other finished.
  EXPECT_LT(ta["startedAt"].get<std::string>(), tb["finishedAt"].get<std::string>());
  EXPECT_LT(tb["startedAt"].get<std::string>(), ta["finishedAt"].get<std::string>());
}

TEST_F(WorkerFlowTest, ACancelledTaskIsStoppedPromptlyAndStaysCancelled) {
  const std::string agent = "w-cancel";
  std::atomic<bool> started{false};
  std::atomic<int64_t> cancel_seen_ns{0};
  fake_.On("forever", [&](const harness::TaskRun&, const harness::RunCallbacks& cb,
                          const std::atomic<bool>* cancel) {
    cb.on_session("sess-cancel");
    started = true;
    auto r = UntilCancelled(cancel);
    cancel_seen_ns = Steady::now().time_since_epoch().count();
    return r;
  });
  fake_.On("next", [](auto&&...) { return Completed("next done"); });
  auto worker = Start(Env(agent));

  const std::string id = CreateTask("forever", agent);
  ASSERT_TRUE(WaitUntil([&] { return started.load(); }, seconds(10)));
  const auto cancelled_at = Steady::now();
  Reply cancel = client_.Post("/api/tasks/" + id + "/cancel", {{"reason", "not needed"}});
  ASSERT_EQ(cancel.status, 200) << cancel.raw;
  ASSERT_TRUE(WaitUntil([&] { return cancel_seen_ns.load() != 0; }, seconds(10)));
  const auto latency = Steady::time_point(Steady::duration(cancel_seen_ns.load())) - cancelled_at;
  EXPECT_LT(latency, milliseconds(2'500))
      << "cancel flag set after " << std::chrono::duration_cast<milliseconds>(latency).count()
      << " ms";

  // The slot is free again, and the cancelled task keeps its status and reason.
  const std::string next = CreateTask("next", agent);
  WaitForStatus(next, "completed");
  json task = Task(id);
  EXPECT_EQ(task["status"], "cancelled");
  EXPECT_EQ(task["failureReason"], "not needed");
}

TEST_F(WorkerFlowTest, StopLetsAShortTaskFinishAndHandsALongOneBack) {
  const std::string agent = "w-stop";
  std::atomic<int> started{0};
  fake_.On("short", [&](auto&&...) {
    ++started;
    WaitUntil([&] { return started.load() == 2; }, seconds(10));
    std::this_thread::sleep_for(milliseconds(800));
    return Completed("short done");
  });
  fake_.On("long", [&](const harness::TaskRun&, const harness::RunCallbacks&,
                       const std::atomic<bool>* cancel) {
    ++started;
    return UntilCancelled(cancel);
  });
  worker::EnvMap env = Env(agent);
  env["MAX_CONCURRENT_TASKS"] = "2";
  env["SHUTDOWN_TIMEOUT"] = "2000";
  auto worker = Start(env);
  const std::string short_task = CreateTask("short", agent);
  const std::string long_task = CreateTask("long", agent);
  ASSERT_TRUE(WaitUntil([&] { return started.load() == 2; }, seconds(10)));

  const auto stop_at = Steady::now();
  worker->Stop();
  auto result = worker->Wait(seconds(15));
  ASSERT_TRUE(result.has_value()) << "Run did not return after Stop";
  EXPECT_TRUE(*result) << result->error().message;
  const auto took = Steady::now() - stop_at;
  EXPECT_GE(took, milliseconds(1'900));  // the long task had the whole grace period
  EXPECT_LT(took, milliseconds(6'000));

  EXPECT_EQ(Task(short_task)["status"], "completed");
  // Handed back, not failed: superseded, with a resume child waiting for the same agent.
  EXPECT_EQ(Task(long_task)["status"], "superseded");
  const json tasks = client_.Get("/api/tasks?agentId=" + agent).body["tasks"];
  const auto child = std::find_if(tasks.begin(), tasks.end(), [&](const json& t) {
    return t.value("parentTaskId", json()) == json(long_task);
  });
  ASSERT_NE(child, tasks.end()) << tasks.dump(2);
  EXPECT_EQ((*child)["status"], "pending");
  EXPECT_EQ((*child)["taskType"], "resume");
  EXPECT_EQ(client_.Get("/api/agents/" + agent).body["status"], "offline");
}

TEST_F(WorkerFlowTest, StopWhileIdleClosesWithinAPollWait) {
  const std::string agent = "w-idle";
  auto worker = Start(Env(agent));
  std::this_thread::sleep_for(milliseconds(300));  // a long-poll is open now
  const auto stop_at = Steady::now();
  worker->Stop();
  auto result = worker->Wait(seconds(10));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_LT(Steady::now() - stop_at, milliseconds(3'000));  // WORKER_POLL_WAIT_SECONDS=1
  EXPECT_EQ(client_.Get("/api/agents/" + agent).body["status"], "offline");
}

TEST_F(WorkerFlowTest, HeartbeatsKeepAQuietTaskAlive) {
  // The API's worker timeout is 2 s; the task is silent for 4 s and the cancellation checks
  // are rare, so only the heartbeat speaks for the worker.
  const std::string agent = "w-quiet";
  fake_.On("quiet", [](auto&&...) {
    std::this_thread::sleep_for(seconds(4));
    return Completed("still here");
  });
  worker::EnvMap env = Env(agent);
  env["WORKER_CANCEL_CHECK_SECONDS"] = "30";
  auto worker = Start(env);
  const std::string id = CreateTask("quiet", agent);
  json task = WaitForStatus(id, "completed", seconds(15));
  EXPECT_EQ(task["output"], "still here");
}

TEST_F(WorkerFlowTest, ApiDownAtStartIsABoundedClearError) {
  worker::EnvMap env = Env("w-down");
  env["MCP_BASE_URL"] = "http://127.0.0.1:1";  // nothing listens on port 1
  env["WORKER_API_READY_TIMEOUT_SECONDS"] = "1";
  auto config = worker::WorkerConfig::FromEnv(env);
  ASSERT_TRUE(config);
  worker::Worker w(std::move(*config), fake_.Runner());
  const auto start = Steady::now();
  auto result = w.Run();
  const auto took = Steady::now() - start;
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("did not answer GET /health within 1 s"), std::string::npos)
      << result.error().message;
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(4'000));
}

TEST_F(WorkerFlowTest, AWrongKeyIsFatalAtRegistration) {
  worker::EnvMap env = Env("w-badkey");
  env["AGENT_SWARM_API_KEY"] = "definitely-not-the-key";
  auto config = worker::WorkerConfig::FromEnv(env);
  ASSERT_TRUE(config);
  worker::Worker w(std::move(*config), fake_.Runner());
  const auto start = Steady::now();
  auto result = w.Run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(result.error().message.find("401"), std::string::npos) << result.error().message;
  EXPECT_LT(Steady::now() - start, milliseconds(3'000));  // no retrying a wrong key
  EXPECT_EQ(client_.Get("/api/agents/w-badkey").status, 404);
}

}  // namespace
}  // namespace swarm::testing_support
