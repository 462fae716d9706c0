// Provider smoke runs inside the API (POST /api/smoke-runs): each run is stored first (running,
// one queued result per provider), then executed on a thread of its own by the smoke runner,
// its progress persisted as it comes (coalesced to a few writes a second), and its end stored
// as passed or failed. At most `max_runs` are live at once. A sweep, on start and every few
// minutes, marks runs no live thread owns `interrupted` and kills the sandboxes such runs left
// behind; shutdown stops the runs, waits a bounded time for their cleanup, and marks the rest
// interrupted.
//
// Threads: every method may be called from any thread; none runs on an I/O thread (the routes
// call in from the store executors). Store calls happen on the caller's thread, on the runs'
// own threads and on the sweeper's.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "core/smoke_run.h"
#include "sandbox/sandbox_provider.h"
#include "smoke/smoke_runner.h"
#include "store/store.h"

namespace swarm {

// Runs one request to its end and returns its results in the request's provider order:
// SmokeRunner::Run in production, a fake in tests. Must honour `stop` (stop early, clean up,
// return) and call `progress` one call at a time.
using SmokeExecutor = std::function<std::vector<ProviderSmokeResult>(
    const SmokeRequest& request, const std::string& run_id, const smoke::SmokeProgress& progress,
    const std::atomic<bool>& stop)>;

inline constexpr char kSmokeInterruptedReason[] =
    "interrupted: the API stopped before the run finished";

struct SmokeServiceOptions {
  int max_runs = 4;  // live runs at once; Start refuses more
  // At most one progress write per run per interval (the final write is never held back).
  std::chrono::milliseconds progress_interval{200};
  std::string api_version;  // stored with each run (BuildVersion())
  std::string owner;        // this API process (a runtime instance id), stored with each run
  // When set, smoke runs are not offered (--smoke-backend off): Start refuses with it.
  std::optional<std::string> disabled_reason;
  // How long Start's refusal at the limit tells the client to wait (Retry-After).
  std::chrono::seconds busy_retry_after{30};
};

// Why Start did not start a run.
struct SmokeStartError {
  Error error;
  // True when refused by policy (the live-run limit, smoke runs off, the API stopping): the
  // message is meant for the client as is. False: an unexpected failure (the store).
  bool refused = false;
  std::chrono::seconds retry_after{0};  // > 0: when to try again (the limit)
};

// What one sweep did.
struct SmokeSweepReport {
  std::vector<std::string> interrupted_runs;
  std::vector<std::string> killed_sandboxes;
};

class SmokeService {
 public:
  // `sandboxes` may be null (smoke runs off): the sweep then only marks runs interrupted.
  // `sandboxes` must be usable from several threads at once (the sweeper, the runs).
  SmokeService(Store& store, const Clock& clock, SmokeExecutor executor,
               sandbox::SandboxProvider* sandboxes, SmokeServiceOptions options);
  // Shutdown(0) unless it ran already.
  ~SmokeService();
  SmokeService(const SmokeService&) = delete;
  SmokeService& operator=(const SmokeService&) = delete;

  // Stores the run (status running, one queued result per provider, the request redacted) and
  // starts it on a thread of its own. The run as stored.
  tl::expected<SmokeRun, SmokeStartError> Start(const SmokeRequest& request);
  Result<SmokeRun> Get(const std::string& id);
  // Newest first.
  Result<SmokeRunPage> List(int limit, int offset);

  // One pass: every running run in the store that is not live here becomes interrupted, and
  // every sandbox tagged launcher=agent-swarm-e2b whose smokeRunId names a run the store knows
  // and that is not live here is killed. Sandboxes of runs unknown to the store, or without a
  // smokeRunId (`e2b start-worker`), are left alone. Errors are logged; the pass goes on.
  SmokeSweepReport Sweep();
  // Sweep's first half alone (the store only, no sandbox calls): the API runs it before it
  // serves, so a run left by a killed predecessor already reads interrupted. Returns their ids.
  std::vector<std::string> InterruptStaleRuns();
  // Sweep now and then every `interval` on a thread of its own, until Shutdown.
  void StartSweeper(std::chrono::milliseconds interval);

  // Sets the runs' stop flag and refuses new runs; returns at once (a signal handler's call).
  void RequestStop();
  // RequestStop, stops the sweeper, waits up to `grace` for the live runs to end (their
  // sandboxes killed), then marks what is left interrupted. A run still going after that no
  // longer writes to the store; its thread is left to finish on its own.
  void Shutdown(std::chrono::milliseconds grace);

  std::vector<std::string> LiveRunIds() const;
  // Set when smoke runs are not offered at all (--smoke-backend off, a backend that did not
  // come up): why, for the 503.
  const std::optional<std::string>& disabled_reason() const { return options_.disabled_reason; }

 private:
  struct LiveRun;
  struct Shared;

  static void Execute(std::shared_ptr<Shared> shared, std::shared_ptr<LiveRun> run,
                      SmokeRequest request);
  bool IsLive(const std::string& id) const;

  Store& store_;
  const Clock& clock_;
  sandbox::SandboxProvider* sandboxes_;
  SmokeServiceOptions options_;
  // What the runs' threads share with the service; it outlives the service when a run's thread
  // does (one that did not stop within the shutdown grace).
  std::shared_ptr<Shared> shared_;

  std::mutex sweep_mu_;  // one sweep at a time
  std::thread sweeper_;
  std::mutex sweeper_mu_;
  std::condition_variable sweeper_cv_;
  bool sweeper_stop_ = false;
  bool shut_down_ = false;
};

}  // namespace swarm
