#include "core/log_sink.h"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"

namespace swarm::log {
namespace {

// A descriptor someone else made non-blocking is waited on this long before lines drop.
constexpr auto kWouldBlockBound = std::chrono::seconds(1);

uint64_t CountLines(std::string_view bytes) {
  return static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
}

// Writes all of `bytes`; returns how many were written before a failure.
std::size_t WriteAll(int fd, std::string_view bytes) {
  std::size_t done = 0;
  auto would_block_until = std::chrono::steady_clock::time_point::max();
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      would_block_until = std::chrono::steady_clock::time_point::max();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto now = std::chrono::steady_clock::now();
      if (would_block_until == std::chrono::steady_clock::time_point::max()) {
        would_block_until = now + kWouldBlockBound;
      } else if (now >= would_block_until) {
        break;
      }
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    break;  // EPIPE, EBADF, EIO…: the lines are lost
  }
  return done;
}

std::string DroppedNotice(uint64_t count) {
  return "{\"ts\":\"" + FormatIsoTime(std::chrono::system_clock::now()) +
         "\",\"level\":\"warn\",\"msg\":\"log lines dropped\",\"count\":" + std::to_string(count) +
         "}\n";
}

}  // namespace

struct AsyncFdWriter::Shared {
  int fd = -1;
  std::size_t max_queued = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::string queued;       // guarded by mu
  bool busy = false;        // guarded by mu: the thread holds a batch
  bool stop = false;        // guarded by mu
  bool exited = false;      // guarded by mu
  uint64_t dropped = 0;     // guarded by mu
  uint64_t unreported = 0;  // guarded by mu: dropped, not yet said so

  void Run() {
    // A write to a pipe whose reader left must fail with EPIPE, not end the process.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [this] { return stop || !queued.empty(); });
      if (queued.empty()) break;  // stop, and nothing left
      std::string batch;
      batch.swap(queued);
      const uint64_t to_report = unreported;
      unreported = 0;
      busy = true;
      lock.unlock();

      uint64_t lost = 0;
      bool reported = true;
      if (to_report > 0) {
        const std::string notice = DroppedNotice(to_report);
        reported = WriteAll(fd, notice) == notice.size();
      }
      if (reported) {
        const std::size_t written = WriteAll(fd, batch);
        // Every line whose '\n' was not written is lost, one cut in the middle too.
        lost = CountLines(std::string_view(batch).substr(written));
      } else {
        lost = CountLines(batch);
      }

      lock.lock();
      busy = false;
      dropped += lost;
      unreported += lost + (reported ? 0 : to_report);
      cv.notify_all();
    }
    exited = true;
    cv.notify_all();
  }
};

AsyncFdWriter::AsyncFdWriter(int fd, std::size_t max_queued_bytes)
    : shared_(std::make_shared<Shared>()) {
  shared_->fd = fd;
  shared_->max_queued = max_queued_bytes;
  std::thread([shared = shared_] { shared->Run(); }).detach();
}

AsyncFdWriter::~AsyncFdWriter() {
  std::unique_lock lock(shared_->mu);
  shared_->stop = true;
  shared_->cv.notify_all();
  shared_->cv.wait_for(lock, std::chrono::seconds(1), [this] { return shared_->exited; });
}

void AsyncFdWriter::Write(std::string_view lines) {
  if (lines.empty()) return;
  std::lock_guard lock(shared_->mu);
  if (shared_->queued.size() + lines.size() > shared_->max_queued) {
    const uint64_t n = std::max<uint64_t>(1, CountLines(lines));
    shared_->dropped += n;
    shared_->unreported += n;
    return;
  }
  shared_->queued.append(lines);
  shared_->cv.notify_all();
}

bool AsyncFdWriter::Drain(std::chrono::milliseconds bound) {
  std::unique_lock lock(shared_->mu);
  return shared_->cv.wait_for(lock, bound,
                              [this] { return shared_->queued.empty() && !shared_->busy; });
}

uint64_t AsyncFdWriter::dropped_lines() const {
  std::lock_guard lock(shared_->mu);
  return shared_->dropped;
}

}  // namespace swarm::log
