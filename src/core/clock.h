// Time as a seam: the API's timeouts (long-poll, dead-worker detection) read a Clock so tests
// can move time without sleeping.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace swarm {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

// ISO 8601 UTC with milliseconds, "2026-11-26T05:02:06.123Z": the wire and storage format.
// Text order equals time order, which the store relies on for sorting.
std::string FormatIsoTime(TimePoint t);

}  // namespace swarm
