#include "sandbox/local_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>

#include <fmt/format.h>

namespace swarm::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// Output that arrives after the process exited (from what it left running, or still in the
// pipe) is read for this long; a background child holding the pipe open does not hold the end.
constexpr auto kDrainAfterExit = std::chrono::milliseconds(200);
constexpr std::size_t kReadChunk = 32 * 1024;

// Go's names for signals, as envd reports them ("signal: killed").
std::string SignalWords(int signal) {
  switch (signal) {
    case SIGKILL:
      return "killed";
    case SIGTERM:
      return "terminated";
    case SIGINT:
      return "interrupt";
    case SIGHUP:
      return "hangup";
    case SIGQUIT:
      return "quit";
    case SIGABRT:
      return "aborted";
    case SIGSEGV:
      return "segmentation fault";
    case SIGPIPE:
      return "broken pipe";
    case SIGUSR1:
      return "user defined signal 1";
    case SIGUSR2:
      return "user defined signal 2";
    default:
      return fmt::format("signal {}", signal);
  }
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

ProcessEvent EndEventForStatus(int wait_status) {
  ProcessEvent end;
  end.kind = ProcessEvent::Kind::kEnd;
  if (WIFEXITED(wait_status)) {
    end.exit_code = WEXITSTATUS(wait_status);
    end.exited = true;
    end.status = fmt::format("exit status {}", end.exit_code);
  } else if (WIFSIGNALED(wait_status)) {
    end.exit_code = -1;
    end.exited = false;
    end.status = "signal: " + SignalWords(WTERMSIG(wait_status));
  } else {
    end.exit_code = -1;
    end.status = "unknown";
  }
  return end;
}

void ProcessOutput::Append(ProcessEvent event) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    if (end_) return;  // nothing follows the end
    switch (event.kind) {
      case ProcessEvent::Kind::kStart:
        start_ = std::move(event);
        break;
      case ProcessEvent::Kind::kEnd:
        end_ = std::move(event);
        break;
      default:
        middle_bytes_ += event.data.size();
        middle_.push_back(std::move(event));
        while (middle_bytes_ > max_bytes_ && middle_.size() > 1) {
          middle_bytes_ -= middle_.front().data.size();
          middle_.pop_front();
          ++first_;
        }
        break;
    }
    for (auto& [id, fn] : wakers_) wake.push_back(fn);
  }
  for (auto& fn : wake) fn();
}

ProcessOutput::Slice ProcessOutput::ReadFrom(uint64_t from) const {
  std::lock_guard lock(mu_);
  Slice slice;
  if (from == 0) {
    if (!start_) return slice;
    slice.events.push_back(*start_);
    from = 1;
  }
  const uint64_t end_position = first_ + middle_.size();
  from = std::max(from, first_);  // what was dropped is skipped
  for (uint64_t p = from; p < end_position; ++p) slice.events.push_back(middle_[p - first_]);
  slice.next = std::max(from, end_position);
  if (end_) {
    if (slice.next == end_position) slice.events.push_back(*end_);
    slice.next = end_position + 1;
    slice.ended = true;
  }
  return slice;
}

uint64_t ProcessOutput::OutputEnd() const {
  std::lock_guard lock(mu_);
  return first_ + middle_.size();
}

std::optional<uint64_t> ProcessOutput::Subscribe(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (wakers_.size() >= max_subscribers_) return std::nullopt;
  const uint64_t id = next_id_++;
  wakers_.emplace(id, std::move(wake));
  return id;
}

void ProcessOutput::Unsubscribe(uint64_t id) {
  std::lock_guard lock(mu_);
  wakers_.erase(id);
}

std::size_t ProcessOutput::subscribers() const {
  std::lock_guard lock(mu_);
  return wakers_.size();
}

std::size_t ProcessOutput::retained_bytes() const {
  std::lock_guard lock(mu_);
  return middle_bytes_;
}

LocalProcess::LocalProcess(SpawnedProcess spawned, ProcessConfig config, std::string tag,
                           std::optional<Clock::time_point> deadline, std::size_t max_output_bytes)
    : spawned_(spawned),
      config_(std::move(config)),
      tag_(std::move(tag)),
      deadline_(deadline),
      output_(max_output_bytes) {}

LocalProcess::~LocalProcess() {
  if (running()) Signal(SIGKILL);
  if (monitor_.joinable()) monitor_.join();
  CloseFd(spawned_.stdin_fd);
  CloseFd(spawned_.stdout_fd);
  CloseFd(spawned_.stderr_fd);
}

void LocalProcess::Start() {
  ProcessEvent start;
  start.kind = ProcessEvent::Kind::kStart;
  output_.Append(std::move(start));
  monitor_ = std::thread([this] { Monitor(); });
}

bool LocalProcess::Signal(int signal) {
  std::lock_guard lock(signal_mu_);
  if (exited_.load()) return false;
  // The process started its own session, so its group id is its pid: the signal reaches what
  // it started too (a shell's children), as a kill of a command should.
  ::kill(-spawned_.host_pid, signal);
  ::kill(spawned_.host_pid, signal);
  return true;
}

Result<void> LocalProcess::WriteStdin(std::string_view bytes) {
  std::lock_guard lock(stdin_mu_);
  if (spawned_.stdin_fd < 0) {
    return BadRequest(fmt::format("process {} has no open stdin", spawned_.pid));
  }
  while (!bytes.empty()) {
    ssize_t n = ::write(spawned_.stdin_fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      return MakeError(ErrorCode::kConflict,
                       fmt::format("process {} is not reading its stdin", spawned_.pid));
    }
    if (n < 0) {
      return BadRequest(
          fmt::format("writing to process {}: {}", spawned_.pid, std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> LocalProcess::CloseStdin() {
  std::lock_guard lock(stdin_mu_);
  CloseFd(spawned_.stdin_fd);
  return {};
}

bool LocalProcess::WaitEnded(std::chrono::milliseconds timeout) {
  std::unique_lock lock(ended_mu_);
  return ended_cv_.wait_for(lock, timeout, [this] { return ended_; });
}

void LocalProcess::Monitor() {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, spawned_.host_pid, 0));
  int out = spawned_.stdout_fd;
  int err = spawned_.stderr_fd;
  spawned_.stdout_fd = spawned_.stderr_fd = -1;  // the monitor owns them now
  bool reaped = false;
  bool deadline_hit = false;
  int status = 0;
  Clock::time_point drain_until{};
  std::string buffer(kReadChunk, '\0');

  auto try_reap = [&] {
    std::lock_guard lock(signal_mu_);
    pid_t r;
    do {
      r = waitpid(spawned_.host_pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == spawned_.host_pid || (r < 0 && errno == ECHILD)) {
      exited_.store(true);
      reaped = true;
      drain_until = Clock::now() + kDrainAfterExit;
    }
  };

  while (true) {
    const auto now = Clock::now();
    if (reaped && ((out < 0 && err < 0) || now >= drain_until)) break;
    if (!reaped && deadline_ && !deadline_hit && now >= *deadline_) {
      Signal(SIGKILL);
      deadline_hit = true;
    }
    pollfd fds[3];
    int n = 0;
    if (out >= 0) fds[n++] = {out, POLLIN, 0};
    if (err >= 0) fds[n++] = {err, POLLIN, 0};
    if (!reaped && pidfd >= 0) fds[n++] = {pidfd, POLLIN, 0};
    int timeout_ms = -1;
    auto until_ms = [&](Clock::time_point t) {
      return static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count() + 1, 0, 60'000));
    };
    if (reaped) {
      timeout_ms = until_ms(drain_until);
    } else {
      if (pidfd < 0) timeout_ms = 50;  // no pidfd: look for the exit now and then
      if (deadline_ && !deadline_hit) {
        int d = until_ms(*deadline_);
        timeout_ms = timeout_ms < 0 ? d : std::min(timeout_ms, d);
      }
    }
    int ready = poll(fds, static_cast<nfds_t>(n), timeout_ms);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < n && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == pidfd) {
        try_reap();
        continue;
      }
      ssize_t got = read(fds[i].fd, buffer.data(), buffer.size());
      if (got > 0) {
        ProcessEvent data;
        data.kind = fds[i].fd == out ? ProcessEvent::Kind::kStdout : ProcessEvent::Kind::kStderr;
        data.data.assign(buffer.data(), static_cast<std::size_t>(got));
        output_.Append(std::move(data));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        if (fds[i].fd == out)
          CloseFd(out);
        else
          CloseFd(err);
      }
    }
    if (!reaped && pidfd < 0) try_reap();
  }
  if (!reaped) {
    // poll failed: make sure the process is gone and reaped before reporting its end.
    Signal(SIGKILL);
    std::lock_guard lock(signal_mu_);
    while (waitpid(spawned_.host_pid, &status, 0) < 0 && errno == EINTR) {
    }
    exited_.store(true);
  }
  CloseFd(out);
  CloseFd(err);
  CloseFd(pidfd);
  output_.Append(EndEventForStatus(status));
  {
    std::lock_guard lock(ended_mu_);
    ended_ = true;
  }
  ended_cv_.notify_all();
}

}  // namespace swarm::sandbox
