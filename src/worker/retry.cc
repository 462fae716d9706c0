#include "worker/retry.h"

#include <algorithm>
#include <random>
#include <thread>

#include "core/log.h"

namespace swarm::worker {

using std::chrono::milliseconds;

std::chrono::milliseconds Jittered(milliseconds delay) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  if (delay.count() <= 0) return delay;
  std::uniform_int_distribution<int64_t> extra(0, delay.count() / 4);
  return delay + milliseconds(extra(rng));
}

Backoff::Backoff(milliseconds floor, milliseconds ceiling)
    : floor_(floor), ceiling_(std::max(floor, ceiling)), current_(floor) {}

milliseconds Backoff::Next() {
  const milliseconds delay = current_;
  current_ = std::min(current_ * 2, ceiling_);
  return Jittered(delay);
}

bool IsTransient(const Error& error) {
  return error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kInternal;
}

bool SleepUnlessAborted(milliseconds duration, const std::atomic<bool>* abort) {
  constexpr milliseconds kSlice(50);
  const auto deadline = Steady::now() + duration;
  for (;;) {
    if (abort && abort->load()) return false;
    const auto now = Steady::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<Steady::duration>(kSlice, deadline - now));
  }
}

Result<ApiReply> CallWithRetry(const std::function<Result<ApiReply>()>& call,
                               const RetryPolicy& policy, std::string_view what,
                               const std::atomic<bool>* abort) {
  Backoff backoff(policy.initial_backoff, policy.max_backoff);
  for (int attempt = 1;; ++attempt) {
    auto reply = call();
    if (reply || !IsTransient(reply.error()) || attempt >= policy.attempts) return reply;
    const milliseconds delay = backoff.Next();
    log::Warn("api call failed, retrying", {{"call", what},
                                            {"attempt", attempt},
                                            {"of", policy.attempts},
                                            {"backoffMs", delay.count()},
                                            {"error", reply.error().message}});
    if (!SleepUnlessAborted(delay, abort)) return reply;
  }
}

Result<ApiReply> CallUntil(const std::function<Result<ApiReply>()>& call, Backoff backoff,
                           const std::function<Steady::time_point()>& deadline,
                           std::string_view what) {
  for (int attempt = 1;; ++attempt) {
    auto reply = call();
    if (reply || !IsTransient(reply.error())) return reply;
    const auto now = Steady::now();
    const auto until = deadline();
    if (until <= now) return reply;
    const auto left = std::chrono::ceil<milliseconds>(until - now);
    const milliseconds delay = std::min(backoff.Next(), left);
    log::Warn("api call failed, retrying", {{"call", what},
                                            {"attempt", attempt},
                                            {"backoffMs", delay.count()},
                                            {"giveUpInMs", left.count()},
                                            {"error", reply.error().message}});
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace swarm::worker
