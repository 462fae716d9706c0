#include "api/worker_monitor.h"

#include <algorithm>

#include <fmt/format.h>

namespace swarm {

WorkerMonitor::WorkerMonitor(Store& store, const Clock& clock, Heartbeats& heartbeats, PollHub& hub,
                             std::chrono::milliseconds timeout)
    : store_(store),
      clock_(clock),
      heartbeats_(heartbeats),
      hub_(hub),
      timeout_(timeout),
      started_at_(clock.Monotonic()) {}

std::chrono::milliseconds WorkerMonitor::sweep_interval() const {
  return std::clamp(timeout_ / 4, std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
}

Result<std::vector<Task>> WorkerMonitor::Sweep(std::vector<Task>* resumed) {
  auto agents = store_.AgentsWithActiveTasks();
  if (!agents) return tl::unexpected(agents.error());
  const MonotonicTime now = clock_.Monotonic();
  std::vector<Task> failed;
  for (const std::string& agent : *agents) {
    if (hub_.HasWaiter(agent)) continue;  // an open long-poll is a live connection
    const MonotonicTime last =
        std::max(heartbeats_.LastSeen(agent).value_or(started_at_), started_at_);
    const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - last);
    if (silent <= timeout_) continue;
    const std::string reason =
        fmt::format("worker lost: agent {} sent nothing for {:.1f}s (limit {:.1f}s)", agent,
                    silent.count() / 1000.0, timeout_.count() / 1000.0);
    auto recovery =
        store_.RecoverLostWorker(agent, reason, kMaxResumeGenerations, FormatIsoTime(clock_.Now()));
    if (!recovery) return tl::unexpected(recovery.error());
    heartbeats_.MarkOffline(agent);
    failed.insert(failed.end(), recovery->failed.begin(), recovery->failed.end());
    for (SupersedeResult& superseded : recovery->superseded) {
      failed.push_back(std::move(superseded.task));
      if (!superseded.resume) continue;
      hub_.NotifyPool();  // the agent is offline: its resume child waits in the pool
      if (resumed) resumed->push_back(std::move(*superseded.resume));
    }
  }
  return failed;
}

}  // namespace swarm
