// Bounded retries for calls to the API. Only transient failures are retried (the API is down
// or restarting, a 5xx): a 4xx means the request itself is wrong and will stay wrong.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string_view>

#include "client/swarm_client.h"
#include "core/error.h"

namespace swarm::worker {

struct RetryPolicy {
  int attempts = 5;  // in all, including the first
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{5'000};  // the backoff doubles up to this
};

// Refused, timed out, 5xx.
bool IsTransient(const Error& error);

// Calls `call` until it succeeds, fails with a non-transient error, or `policy.attempts` are
// used; between attempts sleeps with exponential backoff, logging `what` and the error.
// A true `*abort` ends the sleeping early and returns the last error.
Result<ApiReply> CallWithRetry(const std::function<Result<ApiReply>()>& call,
                               const RetryPolicy& policy, std::string_view what,
                               const std::atomic<bool>* abort = nullptr);

// Sleeps for `duration` in short slices, returning early (false) once `*abort` is true.
bool SleepUnlessAborted(std::chrono::milliseconds duration, const std::atomic<bool>* abort);

}  // namespace swarm::worker
