#include "worker/log_batcher.h"

#include <fmt/format.h>

namespace swarm::worker {

LogBatcher::LogBatcher(Sink sink, Limits limits) : sink_(std::move(sink)), limits_(limits) {}

void LogBatcher::Add(std::string_view line, Clock::time_point now) {
  std::string text(line.substr(0, limits_.max_line_bytes));
  if (line.size() > limits_.max_line_bytes) {
    text += fmt::format("…[cut {} bytes]", line.size() - limits_.max_line_bytes);
  }
  std::lock_guard lock(mu_);
  ++added_;
  if (lines_.size() >= limits_.max_buffered_lines) {
    ++dropped_;
    return;
  }
  if (dropped_ > 0) {
    // Said in the log itself, where whoever reads it will look for the missing lines.
    lines_.push_back(
        {fmt::format("[agent-swarm worker: {} lines dropped, the API fell behind]", dropped_),
         now});
    bytes_ += lines_.back().text.size();
    dropped_ = 0;
  }
  bytes_ += text.size();
  lines_.push_back({std::move(text), now});
}

bool LogBatcher::HasFullBatchLocked() const {
  return lines_.size() >= limits_.max_lines || bytes_ >= limits_.max_bytes;
}

std::vector<std::string> LogBatcher::TakeBatchLocked() {
  std::vector<std::string> batch;
  std::size_t bytes = 0;
  while (!lines_.empty() && batch.size() < limits_.max_lines &&
         (batch.empty() || bytes + lines_.front().text.size() <= limits_.max_bytes)) {
    bytes += lines_.front().text.size();
    batch.push_back(std::move(lines_.front().text));
    lines_.pop_front();
  }
  bytes_ -= bytes;
  return batch;
}

bool LogBatcher::Send(const std::function<bool(const LogBatcher&)>& more) {
  std::lock_guard send_lock(send_mu_);
  for (;;) {
    std::vector<std::string> batch;
    Clock::time_point oldest;
    {
      std::lock_guard lock(mu_);
      if (lines_.empty() || !more(*this)) return true;
      oldest = lines_.front().added;
      batch = TakeBatchLocked();
    }
    if (sink_(batch)) continue;
    // Back in front of any line added meanwhile, in order. The buffer may exceed its cap by
    // this one batch.
    std::lock_guard lock(mu_);
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      bytes_ += it->size();
      lines_.push_front({std::move(*it), oldest});
    }
    return false;
  }
}

void LogBatcher::FlushIfDue(Clock::time_point now) {
  Send([now](const LogBatcher& b) {
    return b.HasFullBatchLocked() || now - b.lines_.front().added >= b.limits_.max_age;
  });
}

bool LogBatcher::Flush() {
  return Send([](const LogBatcher&) { return true; });
}

std::size_t LogBatcher::lines_added() const {
  std::lock_guard lock(mu_);
  return added_;
}

std::size_t LogBatcher::buffered() const {
  std::lock_guard lock(mu_);
  return lines_.size();
}

}  // namespace swarm::worker
