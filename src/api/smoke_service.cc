#include "api/smoke_service.h"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "api/smoke_backend.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/redact.h"
#include "sandbox/worker_launch.h"

namespace swarm {

using Steady = std::chrono::steady_clock;

// One run while its thread owns it.
struct SmokeService::LiveRun {
  std::mutex mu;  // guards run, dirty, done
  std::condition_variable cv;
  SmokeRun run;  // the latest state, as it will be stored
  bool dirty = false;
  bool done = false;
  // Held across each store write: once Shutdown sets `abandoned` under it, no write of this run
  // is under way and none follows (the store may be gone by then).
  std::mutex write_mu;
  bool abandoned = false;
  Steady::time_point last_write{};
};

struct SmokeService::Shared {
  Store* store = nullptr;
  const Clock* clock = nullptr;
  SmokeExecutor executor;
  std::chrono::milliseconds progress_interval{200};

  std::atomic<bool> stop{false};  // the runner's stop flag, for every run
  mutable std::mutex mu;          // guards live
  std::condition_variable ended;  // a run left `live`
  std::map<std::string, std::shared_ptr<LiveRun>> live;

  // Stores the run's state unless the run is abandoned (then false, nothing written); the
  // final write stamps finished_at. Touches the store and the clock only here, under write_mu:
  // both may be gone once the run is abandoned.
  bool Write(LiveRun& live_run, bool final) {
    std::lock_guard write_lock(live_run.write_mu);
    if (live_run.abandoned) return false;
    SmokeRun snapshot;
    {
      std::lock_guard lock(live_run.mu);
      live_run.run.updated_at = FormatIsoTime(clock->Now());
      if (final) live_run.run.finished_at = live_run.run.updated_at;
      live_run.dirty = false;
      live_run.last_write = Steady::now();
      snapshot = live_run.run;
    }
    auto stored = store->UpdateSmokeRun(snapshot);
    if (!stored) {
      // Each write carries the whole state, so the next one makes up for this; a run whose
      // final write is lost stays running in the store until a sweep marks it interrupted.
      log::Warn("cannot store smoke run progress",
                {{"runId", snapshot.id}, {"error", stored.error().message}});
    }
    return true;
  }
};

namespace {

// `result` in place of the run's result for the same provider.
void Merge(SmokeRun& run, const ProviderSmokeResult& result) {
  for (auto& r : run.results) {
    if (r.provider == result.provider) {
      r = result;
      return;
    }
  }
}

bool AllOk(const std::vector<ProviderSmokeResult>& results) {
  return !results.empty() &&
         std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok; });
}

}  // namespace

SmokeService::SmokeService(Store& store, const Clock& clock, SmokeExecutor executor,
                           sandbox::SandboxProvider* sandboxes, SmokeServiceOptions options)
    : store_(store),
      clock_(clock),
      sandboxes_(sandboxes),
      options_(std::move(options)),
      shared_(std::make_shared<Shared>()) {
  shared_->store = &store;
  shared_->clock = &clock;
  shared_->executor = std::move(executor);
  shared_->progress_interval = options_.progress_interval;
}

SmokeService::~SmokeService() {
  if (!shut_down_) Shutdown(std::chrono::milliseconds(0));
}

tl::expected<SmokeRun, SmokeStartError> SmokeService::Start(const SmokeRequest& request) {
  auto refuse = [](std::string message, std::chrono::seconds retry_after = {}) {
    return tl::unexpected(SmokeStartError{Error{ErrorCode::kUnavailable, std::move(message)},
                                          /*refused=*/true, retry_after});
  };
  if (options_.disabled_reason) return refuse(*options_.disabled_reason);
  // Whatever the runner or a sandbox's output says later, these stay out of the logs.
  RegisterSecret(request.api_key);
  for (const auto& [provider, vars] : request.secrets) {
    for (const auto& value : SmokeSecretValues(vars)) RegisterSecret(value);
  }
  const std::string now = FormatIsoTime(clock_.Now());
  auto live = std::make_shared<LiveRun>();
  SmokeRun& run = live->run;
  run.status = SmokeRunStatus::kRunning;
  run.request = RedactedSmokeRequest(request);
  run.api_version = options_.api_version;
  run.owner = options_.owner;
  run.created_at = now;
  run.updated_at = now;
  for (const auto& provider : request.providers) {
    ProviderSmokeResult result;
    result.provider = provider;
    run.results.push_back(std::move(result));
  }
  {
    // Live before it is stored: a sweep never sees it stored but not live.
    std::lock_guard lock(shared_->mu);
    if (shared_->stop) return refuse("the API is stopping; start the run again once it is back");
    if (static_cast<int>(shared_->live.size()) >= options_.max_runs) {
      return refuse(fmt::format("{} smoke run(s) are running already, the most this API runs at "
                                "once (--smoke-max-runs); retry when one finishes",
                                shared_->live.size()),
                    options_.busy_retry_after);
    }
    run.id = NewUuid();
    shared_->live.emplace(run.id, live);
  }
  auto stored = store_.CreateSmokeRun(run);
  if (!stored) {
    std::lock_guard lock(shared_->mu);
    shared_->live.erase(run.id);
    shared_->ended.notify_all();
    return tl::unexpected(SmokeStartError{stored.error()});
  }
  log::Info("smoke run started", {{"runId", run.id}, {"providers", request.providers}});
  std::thread(&SmokeService::Execute, shared_, live, request).detach();
  return *stored;
}

void SmokeService::Execute(std::shared_ptr<Shared> shared, std::shared_ptr<LiveRun> live,
                           SmokeRequest request) {
  const std::string id = live->run.id;
  auto progress = [&live](const ProviderSmokeResult& result) {
    std::lock_guard lock(live->mu);
    Merge(live->run, result);
    live->dirty = true;
    live->cv.notify_all();
  };
  std::vector<ProviderSmokeResult> results;
  std::string crash;
  std::thread worker([&] {
    try {
      results = shared->executor(request, id, progress, shared->stop);
    } catch (const std::exception& e) {
      crash = e.what();
    } catch (...) {
      crash = "unknown exception";
    }
    std::lock_guard lock(live->mu);
    live->done = true;
    live->cv.notify_all();
  });

  // Progress is persisted from here, at most once per interval: the runner reports every
  // step of every provider, and the store need not see each one.
  for (;;) {
    std::unique_lock lock(live->mu);
    live->cv.wait(lock, [&] { return live->done || live->dirty; });
    if (live->done) break;
    const auto next = live->last_write + shared->progress_interval;
    if (live->cv.wait_until(lock, next, [&] { return live->done; })) break;
    lock.unlock();
    shared->Write(*live, /*final=*/false);
  }
  worker.join();

  {
    std::lock_guard lock(live->mu);
    SmokeRun& run = live->run;
    for (const auto& r : results) Merge(run, r);
    if (!crash.empty()) {
      log::Error("smoke runner failed", {{"runId", id}, {"error", crash}});
      for (auto& r : run.results) {
        if (r.phase == SmokePhase::kDone) continue;
        r.ok = false;
        r.phase = SmokePhase::kDone;
        r.failure_reason = "internal error in the smoke runner: " + crash;
      }
    }
    run.ok = AllOk(run.results);
    // A run cut short by shutdown did not fail on its own: it says so.
    run.status = run.ok         ? SmokeRunStatus::kPassed
                 : shared->stop ? SmokeRunStatus::kInterrupted
                                : SmokeRunStatus::kFailed;
  }
  if (shared->Write(*live, /*final=*/true)) {
    std::lock_guard lock(live->mu);
    log::Info(
        "smoke run finished",
        {{"runId", id}, {"status", SmokeRunStatusName(live->run.status)}, {"ok", live->run.ok}});
  } else {
    log::Warn("smoke run ended after shutdown had marked it interrupted", {{"runId", id}});
  }
  std::lock_guard lock(shared->mu);
  shared->live.erase(id);
  shared->ended.notify_all();
}

Result<SmokeRun> SmokeService::Get(const std::string& id) { return store_.GetSmokeRun(id); }

Result<SmokeRunPage> SmokeService::List(int limit, int offset) {
  return store_.ListSmokeRuns(limit, offset);
}

std::vector<std::string> SmokeService::LiveRunIds() const {
  std::lock_guard lock(shared_->mu);
  std::vector<std::string> ids;
  for (const auto& [id, run] : shared_->live) ids.push_back(id);
  return ids;
}

bool SmokeService::IsLive(const std::string& id) const {
  std::lock_guard lock(shared_->mu);
  return shared_->live.count(id) > 0;
}

std::vector<std::string> SmokeService::InterruptStaleRuns() {
  std::vector<std::string> ids;
  {
    // Held across the store call: a run that starts meanwhile waits to become live until the
    // store has been told which ones are, so it is never taken for an orphan.
    std::lock_guard lock(shared_->mu);
    std::vector<std::string> live;
    for (const auto& [id, run] : shared_->live) live.push_back(id);
    auto interrupted =
        store_.InterruptSmokeRuns(live, kSmokeInterruptedReason, FormatIsoTime(clock_.Now()));
    if (!interrupted) {
      log::Warn("smoke sweep: cannot mark unfinished runs interrupted",
                {{"error", interrupted.error().message}});
      return ids;
    }
    for (const auto& run : *interrupted) ids.push_back(run.id);
  }
  for (const auto& id : ids) {
    log::Warn("smoke run marked interrupted: no live run of this API owns it", {{"runId", id}});
  }
  return ids;
}

SmokeSweepReport SmokeService::Sweep() {
  std::lock_guard sweep_lock(sweep_mu_);
  SmokeSweepReport report;
  report.interrupted_runs = InterruptStaleRuns();
  if (!sandboxes_) return report;

  auto sandboxes = sandboxes_->List({{"launcher", sandbox::kLauncher}});
  if (!sandboxes) {
    log::Warn("smoke sweep: cannot list sandboxes", {{"error", sandboxes.error().message}});
    return report;
  }
  for (const auto& sandbox : *sandboxes) {
    auto tag = sandbox.metadata.find(smoke::kRunIdMetadataKey);
    if (tag == sandbox.metadata.end()) continue;  // not a smoke run's (e2b start-worker)
    const std::string& run_id = tag->second;
    auto known = store_.GetSmokeRun(run_id);
    if (!known) {
      if (known.error().code != ErrorCode::kNotFound) {
        log::Warn("smoke sweep: cannot look up a sandbox's run",
                  {{"sandboxId", sandbox.id()}, {"error", known.error().message}});
      }
      continue;  // another swarm's run, or none: not ours to kill
    }
    // Checked after the lookup: a run the store knows and that is not live has ended for good.
    if (IsLive(run_id)) continue;
    auto killed = sandboxes_->Kill(sandbox.id());
    if (!killed) {
      log::Warn(
          "smoke sweep: cannot kill a sandbox",
          {{"sandboxId", sandbox.id()}, {"runId", run_id}, {"error", killed.error().message}});
      continue;
    }
    auto provider = sandbox.metadata.find(smoke::kProviderMetadataKey);
    log::Info("smoke sweep killed a sandbox left by a run no longer live",
              {{"sandboxId", sandbox.id()},
               {"runId", run_id},
               {"provider", provider == sandbox.metadata.end() ? "" : provider->second}});
    report.killed_sandboxes.push_back(sandbox.id());
  }
  return report;
}

void SmokeService::StartSweeper(std::chrono::milliseconds interval) {
  sweeper_ = std::thread([this, interval] {
    std::unique_lock lock(sweeper_mu_);
    while (!sweeper_stop_) {
      lock.unlock();
      Sweep();
      lock.lock();
      sweeper_cv_.wait_for(lock, interval, [this] { return sweeper_stop_; });
    }
  });
}

void SmokeService::RequestStop() { shared_->stop = true; }

void SmokeService::Shutdown(std::chrono::milliseconds grace) {
  shut_down_ = true;
  RequestStop();
  {
    std::lock_guard lock(sweeper_mu_);
    sweeper_stop_ = true;
  }
  sweeper_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();

  std::vector<std::shared_ptr<LiveRun>> left;
  {
    std::unique_lock lock(shared_->mu);
    shared_->ended.wait_for(lock, grace, [this] { return shared_->live.empty(); });
    for (const auto& [id, run] : shared_->live) left.push_back(run);
  }
  if (left.empty()) return;
  std::vector<std::string> ids;
  for (const auto& run : left) {
    std::lock_guard write_lock(run->write_mu);
    run->abandoned = true;
    std::lock_guard lock(run->mu);
    ids.push_back(run->run.id);
  }
  // Every running run: none of this process is live any more.
  auto interrupted =
      store_.InterruptSmokeRuns({}, kSmokeInterruptedReason, FormatIsoTime(clock_.Now()));
  if (!interrupted) {
    log::Warn("cannot mark smoke runs interrupted at shutdown",
              {{"runs", ids}, {"error", interrupted.error().message}});
    return;
  }
  log::Warn("smoke runs still going at shutdown marked interrupted", {{"runs", ids}});
}

}  // namespace swarm
