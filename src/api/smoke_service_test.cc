#include "api/smoke_service.h"

#include <gtest/gtest.h>

#include "api/smoke_test_support.h"
#include "core/redact.h"
#include "sandbox/fake_sandbox_provider.h"
#include "sandbox/worker_launch.h"

namespace swarm {
namespace {

using smoke_testing::CountingStore;
using smoke_testing::Gate;
using smoke_testing::WaitFor;
using std::chrono::milliseconds;

SmokeRequest Request(std::vector<std::string> providers = {"claude", "codex"}) {
  SmokeRequest r;
  r.providers = std::move(providers);
  r.template_id = "agent-swarm-worker";
  r.api_url = "http://127.0.0.1:3013";
  r.api_key = "swarm-key-never-stored-1234";
  r.deployment_sha = "abc";
  r.secrets["codex"]["OPENAI_API_KEY"] = "sk-secret-never-stored-5678";
  return r;
}

ProviderSmokeResult Result(const std::string& provider, bool ok, SmokePhase phase) {
  ProviderSmokeResult r;
  r.provider = provider;
  r.ok = ok;
  r.phase = phase;
  r.sandbox_killed = phase == SmokePhase::kDone;
  if (!ok && phase == SmokePhase::kDone) r.failure_reason = provider + " failed";
  return r;
}

std::vector<ProviderSmokeResult> Done(const SmokeRequest& request, bool ok) {
  std::vector<ProviderSmokeResult> out;
  for (const auto& p : request.providers) out.push_back(Result(p, ok, SmokePhase::kDone));
  return out;
}

// The service over a real store, with a fake executor set by each test.
class SmokeServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_->ok());
    ClearSecretsForTest();
  }
  void TearDown() override {
    gate_.Open();
    if (service_) service_->Shutdown(std::chrono::seconds(5));
    ClearSecretsForTest();
  }

  // `run` is the executor's body. The store and the gate are captured by shared_ptr: a run the
  // service gives up on may still be going when the test ends.
  void Make(SmokeExecutor run, SmokeServiceOptions options = {}) {
    if (options.api_version.empty()) options.api_version = "0.1.0+test";
    if (options.owner.empty()) options.owner = "api-instance-1";
    options.progress_interval = milliseconds(200);
    service_ = std::make_unique<SmokeService>(*store_, clock_, std::move(run), &sandboxes_,
                                              std::move(options));
  }

  // An executor that reports each provider's start, waits for the gate (or stop), and returns
  // results that are all ok, or all "stopped" when stopped.
  SmokeExecutor GatedExecutor() {
    auto gate = gate_ptr_;
    return [gate](const SmokeRequest& request, const std::string&,
                  const smoke::SmokeProgress& progress, const std::atomic<bool>& stop) {
      for (const auto& p : request.providers) {
        progress(Result(p, false, SmokePhase::kCreatingSandbox));
      }
      const bool opened = gate->Wait(&stop);
      auto results = Done(request, opened);
      for (auto& r : results) {
        if (!opened) r.failure_reason = "stopped";
      }
      return results;
    };
  }

  SmokeRun Stored(const std::string& id) {
    auto run = store_->GetSmokeRun(id);
    EXPECT_TRUE(run) << run.error().message;
    return run ? *run : SmokeRun{};
  }

  bool WaitForStatus(const std::string& id, SmokeRunStatus status) {
    return WaitFor([&] { return Stored(id).status == status; });
  }

  std::shared_ptr<CountingStore> store_ = std::make_shared<CountingStore>();
  std::shared_ptr<Gate> gate_ptr_ = std::make_shared<Gate>();
  Gate& gate_ = *gate_ptr_;
  SystemClock clock_;
  sandbox::FakeSandboxProvider sandboxes_;
  std::unique_ptr<SmokeService> service_;
};

TEST_F(SmokeServiceTest, StoresTheRunFirstThenItsEnd) {
  Make(GatedExecutor());
  auto started = service_->Start(Request());
  ASSERT_TRUE(started) << started.error().error.message;
  EXPECT_EQ(started->status, SmokeRunStatus::kRunning);
  EXPECT_EQ(started->id.size(), 36u);  // a UUID
  ASSERT_EQ(started->results.size(), 2u);
  EXPECT_EQ(started->results[0].provider, "claude");
  EXPECT_EQ(started->results[1].provider, "codex");
  EXPECT_EQ(started->results[0].phase, SmokePhase::kQueued);
  EXPECT_EQ(started->api_version, "0.1.0+test");
  EXPECT_EQ(started->owner, "api-instance-1");
  EXPECT_EQ(service_->LiveRunIds(), std::vector<std::string>{started->id});

  SmokeRun stored = Stored(started->id);
  EXPECT_EQ(stored.status, SmokeRunStatus::kRunning);
  EXPECT_TRUE(stored.request.api_key.empty());
  EXPECT_EQ(stored.request.secrets.at("codex").at("OPENAI_API_KEY"), "[REDACTED]");
  EXPECT_FALSE(stored.finished_at);

  gate_.Open();
  ASSERT_TRUE(WaitForStatus(started->id, SmokeRunStatus::kPassed));
  stored = Stored(started->id);
  EXPECT_TRUE(stored.ok);
  EXPECT_TRUE(stored.finished_at);
  for (const auto& r : stored.results) {
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.phase, SmokePhase::kDone);
  }
  EXPECT_TRUE(WaitFor([&] { return service_->LiveRunIds().empty(); }));
}

TEST_F(SmokeServiceTest, OneFailedProviderFailsTheRun) {
  Make([](const SmokeRequest& request, const std::string&, const smoke::SmokeProgress&,
          const std::atomic<bool>&) {
    auto results = Done(request, true);
    results[1] = Result(request.providers[1], false, SmokePhase::kDone);
    return results;
  });
  auto started = service_->Start(Request());
  ASSERT_TRUE(started);
  ASSERT_TRUE(WaitForStatus(started->id, SmokeRunStatus::kFailed));
  const SmokeRun stored = Stored(started->id);
  EXPECT_FALSE(stored.ok);
  EXPECT_TRUE(stored.results[0].ok);
  EXPECT_EQ(stored.results[1].failure_reason, "codex failed");
}

TEST_F(SmokeServiceTest, ProgressIsPersistedAndCoalesced) {
  auto gate = gate_ptr_;
  std::atomic<int> updates_while_reporting{-1};
  auto store = store_;
  Make([gate, store, &updates_while_reporting](const SmokeRequest& request, const std::string&,
                                               const smoke::SmokeProgress& progress,
                                               const std::atomic<bool>&) {
    // 100 steps over about a second: far more than the store should see.
    const int before = store->updates;
    for (int i = 0; i < 100; ++i) {
      ProviderSmokeResult r = Result("claude", false, SmokePhase::kStartingWorker);
      r.log_lines = i;
      progress(r);
      std::this_thread::sleep_for(milliseconds(10));
    }
    updates_while_reporting = store->updates - before;
    // The last step before a long wait still reaches the store.
    ProviderSmokeResult running = Result("claude", false, SmokePhase::kTaskRunning);
    running.task_id = "task-1";
    progress(running);
    gate->Wait();
    return Done(request, true);
  });
  const auto start = std::chrono::steady_clock::now();
  auto started = service_->Start(Request({"claude"}));
  ASSERT_TRUE(started);
  ASSERT_TRUE(WaitFor([&] {
    const SmokeRun run = Stored(started->id);
    return run.results[0].phase == SmokePhase::kTaskRunning && run.results[0].task_id == "task-1";
  })) << "the last progress was not stored";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // At most one write per 200 ms (plus the first, at once).
  EXPECT_LE(updates_while_reporting.load(), static_cast<int>(seconds * 5) + 2);
  EXPECT_GE(updates_while_reporting.load(), 2) << "progress was not persisted while it came";
  const SmokeRun during = Stored(started->id);
  EXPECT_EQ(during.status, SmokeRunStatus::kRunning);
  gate_.Open();
  ASSERT_TRUE(WaitForStatus(started->id, SmokeRunStatus::kPassed));
}

TEST_F(SmokeServiceTest, RefusesBeyondTheLiveRunLimit) {
  SmokeServiceOptions options;
  options.max_runs = 2;
  Make(GatedExecutor(), options);
  auto first = service_->Start(Request());
  auto second = service_->Start(Request());
  ASSERT_TRUE(first && second);
  auto third = service_->Start(Request());
  ASSERT_FALSE(third);
  EXPECT_TRUE(third.error().refused);
  EXPECT_EQ(third.error().error.code, ErrorCode::kUnavailable);
  EXPECT_EQ(third.error().retry_after, std::chrono::seconds(30));
  EXPECT_NE(third.error().error.message.find("--smoke-max-runs"), std::string::npos);
  EXPECT_EQ(store_->creates, 2) << "a refused run is not stored";

  gate_.Open();
  ASSERT_TRUE(WaitFor([&] { return service_->LiveRunIds().empty(); }));
  auto again = service_->Start(Request());
  EXPECT_TRUE(again) << "a slot frees once a run ends";
}

TEST_F(SmokeServiceTest, DisabledRefusesWithItsReason) {
  SmokeServiceOptions options;
  options.disabled_reason = "smoke runs are off: --smoke-backend off";
  Make(GatedExecutor(), options);
  auto refused = service_->Start(Request());
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().refused);
  EXPECT_EQ(refused.error().error.message, "smoke runs are off: --smoke-backend off");
  EXPECT_EQ(refused.error().retry_after.count(), 0);
  EXPECT_EQ(store_->creates, 0);
}

TEST_F(SmokeServiceTest, AStoreFailureIsNotARefusalAndLeavesNoLiveRun) {
  Make(GatedExecutor());
  store_->fail_create = true;
  auto failed = service_->Start(Request());
  ASSERT_FALSE(failed);
  EXPECT_FALSE(failed.error().refused);
  EXPECT_TRUE(service_->LiveRunIds().empty());
}

TEST_F(SmokeServiceTest, TheRequestsSecretsAreRegisteredForRedaction) {
  Make(GatedExecutor());
  ASSERT_TRUE(service_->Start(Request()));
  EXPECT_EQ(Redact("key swarm-key-never-stored-1234 and sk-secret-never-stored-5678"),
            "key [REDACTED] and [REDACTED]");
}

TEST_F(SmokeServiceTest, AThrowingRunnerFailsTheRun) {
  Make([](const SmokeRequest&, const std::string&, const smoke::SmokeProgress&,
          const std::atomic<bool>&) -> std::vector<ProviderSmokeResult> {
    throw std::runtime_error("boom");
  });
  auto started = service_->Start(Request());
  ASSERT_TRUE(started);
  ASSERT_TRUE(WaitForStatus(started->id, SmokeRunStatus::kFailed));
  for (const auto& r : Stored(started->id).results) {
    EXPECT_EQ(r.failure_reason, "internal error in the smoke runner: boom");
  }
}

sandbox::SandboxInfo Sandbox(const std::string& id, sandbox::StringMap metadata) {
  sandbox::SandboxInfo info;
  info.handle.sandbox_id = id;
  info.metadata = std::move(metadata);
  return info;
}

TEST_F(SmokeServiceTest, SweepInterruptsOrphanedRunsAndKillsExactlyTheirSandboxes) {
  Make(GatedExecutor());
  const std::string now = FormatIsoTime(clock_.Now());
  // Left by a predecessor: one still "running", one finished.
  SmokeRun stale;
  stale.id = "run-stale";
  stale.request = Request({"claude"});
  stale.results = {Result("claude", false, SmokePhase::kTaskRunning)};
  stale.created_at = stale.updated_at = now;
  ASSERT_TRUE(store_->CreateSmokeRun(stale));
  SmokeRun finished = stale;
  finished.id = "run-finished";
  ASSERT_TRUE(store_->CreateSmokeRun(finished));
  finished.status = SmokeRunStatus::kFailed;
  finished.finished_at = now;
  ASSERT_TRUE(store_->UpdateSmokeRun(finished));
  // And one live here.
  auto live = service_->Start(Request({"claude"}));
  ASSERT_TRUE(live);

  const std::string launcher = sandbox::kLauncher;
  const std::string run_key = smoke::kRunIdMetadataKey;
  sandboxes_.sandboxes = {
      Sandbox("sbx-stale", {{"launcher", launcher}, {run_key, "run-stale"}}),
      Sandbox("sbx-finished", {{"launcher", launcher}, {run_key, "run-finished"}}),
      Sandbox("sbx-live", {{"launcher", launcher}, {run_key, live->id}}),
      Sandbox("sbx-start-worker", {{"launcher", launcher}, {"agentId", "w1"}}),
      Sandbox("sbx-other-swarm", {{"launcher", launcher}, {run_key, "run-unknown-here"}}),
      Sandbox("sbx-not-ours", {{"launcher", "someone-else"}, {run_key, "run-stale"}}),
  };

  const SmokeSweepReport report = service_->Sweep();
  EXPECT_EQ(report.interrupted_runs, std::vector<std::string>{"run-stale"});
  EXPECT_EQ(report.killed_sandboxes, (std::vector<std::string>{"sbx-stale", "sbx-finished"}));
  EXPECT_EQ(sandboxes_.killed, (std::vector<std::string>{"sbx-stale", "sbx-finished"}));

  const SmokeRun interrupted = Stored("run-stale");
  EXPECT_EQ(interrupted.status, SmokeRunStatus::kInterrupted);
  EXPECT_EQ(interrupted.results[0].failure_reason, kSmokeInterruptedReason);
  EXPECT_EQ(Stored("run-finished").status, SmokeRunStatus::kFailed);
  EXPECT_EQ(Stored(live->id).status, SmokeRunStatus::kRunning);

  // A second pass finds nothing more to do.
  const SmokeSweepReport again = service_->Sweep();
  EXPECT_TRUE(again.interrupted_runs.empty());
  EXPECT_TRUE(again.killed_sandboxes.empty());
}

TEST_F(SmokeServiceTest, TheSweeperRunsAtOnceAndThenEveryInterval) {
  Make(GatedExecutor());
  SmokeRun stale;
  stale.id = "run-stale";
  stale.request = Request({"claude"});
  stale.results = {Result("claude", false, SmokePhase::kQueued)};
  stale.created_at = stale.updated_at = FormatIsoTime(clock_.Now());
  ASSERT_TRUE(store_->CreateSmokeRun(stale));
  service_->StartSweeper(milliseconds(50));
  EXPECT_TRUE(WaitForStatus("run-stale", SmokeRunStatus::kInterrupted));
  stale.id = "run-stale-2";
  ASSERT_TRUE(store_->CreateSmokeRun(stale));
  EXPECT_TRUE(WaitForStatus("run-stale-2", SmokeRunStatus::kInterrupted));
}

TEST_F(SmokeServiceTest, ShutdownStopsTheRunsAndWaitsForTheirCleanup) {
  std::atomic<bool> cleaned_up{false};
  Make([&cleaned_up](const SmokeRequest& request, const std::string&,
                     const smoke::SmokeProgress& progress, const std::atomic<bool>& stop) {
    progress(Result(request.providers[0], false, SmokePhase::kTaskRunning));
    WaitFor([&] { return stop.load(); }, std::chrono::seconds(10));
    std::this_thread::sleep_for(milliseconds(100));  // killing the sandboxes
    cleaned_up = true;
    auto results = Done(request, false);
    for (auto& r : results) r.failure_reason = "stopped";
    return results;
  });
  auto started = service_->Start(Request());
  ASSERT_TRUE(started);
  service_->Shutdown(std::chrono::seconds(5));
  EXPECT_TRUE(cleaned_up);
  const SmokeRun stored = Stored(started->id);
  EXPECT_EQ(stored.status, SmokeRunStatus::kInterrupted);
  EXPECT_TRUE(stored.finished_at);
  EXPECT_EQ(stored.results[0].failure_reason, "stopped");
  EXPECT_TRUE(stored.results[0].sandbox_killed);

  auto refused = service_->Start(Request());
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().refused);
  EXPECT_NE(refused.error().error.message.find("stopping"), std::string::npos);
}

TEST_F(SmokeServiceTest, ShutdownMarksARunThatOutlivesTheGraceInterruptedAndStopsItsWrites) {
  auto gate = gate_ptr_;
  auto returned = std::make_shared<std::atomic<bool>>(false);
  // Ignores stop: only the gate ends it.
  Make([gate, returned](const SmokeRequest& request, const std::string&,
                        const smoke::SmokeProgress& progress, const std::atomic<bool>&) {
    progress(Result(request.providers[0], false, SmokePhase::kTaskRunning));
    gate->Wait();
    progress(Result(request.providers[0], true, SmokePhase::kDone));
    *returned = true;
    return Done(request, true);
  });
  auto started = service_->Start(Request());
  ASSERT_TRUE(started);
  service_->Shutdown(milliseconds(100));
  SmokeRun stored = Stored(started->id);
  EXPECT_EQ(stored.status, SmokeRunStatus::kInterrupted);
  for (const auto& r : stored.results) {
    EXPECT_EQ(r.failure_reason, kSmokeInterruptedReason);
  }
  const int updates = store_->updates;
  gate_.Open();
  ASSERT_TRUE(WaitFor([&] { return returned->load(); }));
  std::this_thread::sleep_for(milliseconds(300));  // its progress interval, and its last write
  EXPECT_EQ(store_->updates, updates) << "an abandoned run wrote to the store";
  EXPECT_EQ(Stored(started->id).status, SmokeRunStatus::kInterrupted);
}

}  // namespace
}  // namespace swarm
