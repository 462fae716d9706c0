#include "worker/retry.h"

#include <algorithm>
#include <thread>

#include "core/log.h"

namespace swarm::worker {

bool IsTransient(const Error& error) {
  return error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kInternal;
}

bool SleepUnlessAborted(std::chrono::milliseconds duration, const std::atomic<bool>* abort) {
  constexpr std::chrono::milliseconds kSlice(50);
  const auto deadline = std::chrono::steady_clock::now() + duration;
  for (;;) {
    if (abort && abort->load()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kSlice, deadline - now));
  }
}

Result<ApiReply> CallWithRetry(const std::function<Result<ApiReply>()>& call,
                               const RetryPolicy& policy, std::string_view what,
                               const std::atomic<bool>* abort) {
  std::chrono::milliseconds backoff = policy.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    auto reply = call();
    if (reply || !IsTransient(reply.error()) || attempt >= policy.attempts) return reply;
    log::Warn("api call failed, retrying", {{"call", what},
                                            {"attempt", attempt},
                                            {"of", policy.attempts},
                                            {"backoffMs", backoff.count()},
                                            {"error", reply.error().message}});
    if (!SleepUnlessAborted(backoff, abort)) return reply;
    backoff = std::min(backoff * 2, policy.max_backoff);
  }
}

}  // namespace swarm::worker
