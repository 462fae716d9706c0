// Retries and pauses for calls to the API. Only transient failures are retried (the API is
// down or restarting, a 5xx): a 4xx means the request itself is wrong and will stay wrong.
// Every wait has a floor and grows on repeated failures, with jitter, so a fleet of workers
// never hammers an API that is down, nor comes back to it in lockstep.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string_view>

#include "client/swarm_client.h"
#include "core/error.h"

namespace swarm::worker {

using Steady = std::chrono::steady_clock;

struct RetryPolicy {
  int attempts = 5;  // in all, including the first
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{5'000};  // the backoff doubles up to this
};

// `delay` plus a random 0..25 %: a floor stays a floor.
std::chrono::milliseconds Jittered(std::chrono::milliseconds delay);

// The delays between the attempts of one retry loop: `floor` after the first failure,
// doubling up to `ceiling`, each jittered. Not thread-safe.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds floor, std::chrono::milliseconds ceiling);
  // The delay before the next attempt; the one after it is twice as long (up to the ceiling).
  std::chrono::milliseconds Next();
  // After a success: the next failure starts at the floor again.
  void Reset() { current_ = floor_; }

 private:
  std::chrono::milliseconds floor_;
  std::chrono::milliseconds ceiling_;
  std::chrono::milliseconds current_;
};

// Refused, timed out, 5xx.
bool IsTransient(const Error& error);

// Calls `call` until it succeeds, fails with a non-transient error, or `policy.attempts` are
// used; between attempts sleeps with a jittered exponential backoff, logging `what` and the
// error. A true `*abort` ends the sleeping early and returns the last error.
Result<ApiReply> CallWithRetry(const std::function<Result<ApiReply>()>& call,
                               const RetryPolicy& policy, std::string_view what,
                               const std::atomic<bool>* abort = nullptr);

// Calls `call` until it succeeds, fails with a non-transient error, or `deadline()` has
// passed; between attempts sleeps with `backoff` (never past the deadline). `deadline` is
// asked again after every failure, so it may move (closer, when the worker starts stopping).
// There is always a first attempt.
Result<ApiReply> CallUntil(const std::function<Result<ApiReply>()>& call, Backoff backoff,
                           const std::function<Steady::time_point()>& deadline,
                           std::string_view what);

// Sleeps for `duration` in short slices, returning early (false) once `*abort` is true.
bool SleepUnlessAborted(std::chrono::milliseconds duration, const std::atomic<bool>* abort);

}  // namespace swarm::worker
