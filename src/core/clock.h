// Time as a seam: the API's timeouts (long-poll, dead-worker detection) read a Clock so tests
// can move time without sleeping. Two readings: wall time (Now) only for timestamps that
// people and other processes read, and monotonic time (Monotonic) for every duration, so a
// wall clock stepped by NTP or an operator can neither kill live workers nor keep dead ones.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace swarm {

using TimePoint = std::chrono::system_clock::time_point;
using MonotonicTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual MonotonicTime Monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  MonotonicTime Monotonic() const override { return std::chrono::steady_clock::now(); }
};

// A clock that only moves when told to: Advance moves both readings, SetWallTime only the
// wall clock (as an NTP step would). Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  MonotonicTime Monotonic() const override {
    std::lock_guard lock(mu_);
    return monotonic_;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
    monotonic_ += d;
  }
  void SetWallTime(TimePoint t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  MonotonicTime monotonic_{};
};

// ISO 8601 UTC with milliseconds, "2026-11-26T05:02:06.123Z": the wire and storage format.
// Text order equals time order, which the store relies on for sorting.
std::string FormatIsoTime(TimePoint t);

}  // namespace swarm
