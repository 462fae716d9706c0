// Where log lines go: a file descriptor (stderr) written by a thread of its own, so that a
// reader that is slow, stuck or gone never blocks a request thread nor kills the process.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace swarm::log {

// Write() only appends to a bounded queue; the writer thread drains it with ordinary writes
// to `fd` (left blocking: setting O_NONBLOCK would change the terminal or pipe shared with
// the parent). When the queue is full (the reader does not keep up) or a write fails (EPIPE,
// EBADF, EAGAIN for a second), whole lines are dropped and counted, and the next write that
// works is preceded by one line saying how many were lost. The writer thread blocks SIGPIPE.
class AsyncFdWriter {
 public:
  explicit AsyncFdWriter(int fd, std::size_t max_queued_bytes = 1 << 20);
  // Drains for at most a second; a thread stuck in write(2) is left behind (it owns its
  // state) rather than holding up the exit.
  ~AsyncFdWriter();
  AsyncFdWriter(const AsyncFdWriter&) = delete;
  AsyncFdWriter& operator=(const AsyncFdWriter&) = delete;

  // `lines`: whole lines, each ending in '\n'. Never waits for the descriptor.
  void Write(std::string_view lines);
  // Waits (bounded) until everything written so far has reached the descriptor or been
  // dropped. Returns false on timeout.
  bool Drain(std::chrono::milliseconds bound);
  uint64_t dropped_lines() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace swarm::log
