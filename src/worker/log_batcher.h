// Batches a task's raw harness lines for POST /api/session-logs. Lines are only buffered by
// Add, on the thread that reads the CLI's output, so a slow API never stalls the CLI; the
// worker's monitor calls FlushIfDue every tick, which sends a batch once `max_lines` lines
// (or `max_bytes`) are waiting or the oldest line has waited `max_age`, and Flush sends the
// rest at the end of the run. Upstream sends every 50 lines or 5 s; a shorter age keeps the
// live view close to the CLI.
//
// Batches reach the sink in the order their lines arrived even when the task thread and the
// monitor flush at the same moment: taking a batch and sending it happen under one lock. A
// batch the sink could not send (it returns false: the API is down) goes back to the front
// of the buffer for a later flush, so a short outage loses no lines.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace swarm::worker {

class LogBatcher {
 public:
  using Clock = std::chrono::steady_clock;
  // True when the lines were sent.
  using Sink = std::function<bool(const std::vector<std::string>& lines)>;

  struct Limits {
    std::size_t max_lines = 50;
    std::size_t max_bytes = 256 * 1024;       // per batch: well under the API's 1 MiB body limit
    std::size_t max_line_bytes = 64 * 1024;   // longer lines are cut, marked as cut
    std::size_t max_buffered_lines = 10'000;  // while the API lags; newer lines are dropped
    std::chrono::milliseconds max_age{1'000};
  };

  LogBatcher(Sink sink, Limits limits);

  // Buffers one line. Never sends.
  void Add(std::string_view line, Clock::time_point now = Clock::now());
  // Sends every full batch, then the remainder if its oldest line is older than max_age.
  // Stops at the first batch the sink could not send.
  void FlushIfDue(Clock::time_point now = Clock::now());
  // Sends everything buffered; false when the sink failed (the rest stays buffered).
  bool Flush();

  std::size_t lines_added() const;
  std::size_t buffered() const;

 private:
  // Sends batches while `more` says so; false when the sink failed. Takes send_mu_ then mu_.
  bool Send(const std::function<bool(const LogBatcher&)>& more);
  std::vector<std::string> TakeBatchLocked();
  bool HasFullBatchLocked() const;

  Sink sink_;
  Limits limits_;
  std::mutex send_mu_;     // held while taking and sending a batch: keeps batches in order
  mutable std::mutex mu_;  // guards the fields below
  struct Line {
    std::string text;
    Clock::time_point added;
  };
  std::deque<Line> lines_;
  std::size_t bytes_ = 0;
  std::size_t added_ = 0;
  std::size_t dropped_ = 0;  // since the last note about dropped lines
};

}  // namespace swarm::worker
