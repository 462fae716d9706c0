#include "harness/posix_process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "harness/orphan_sweep.h"
#include "harness/run_supervisor.h"

namespace swarm::harness {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often the loop wakes without I/O, to notice a cancel flag set by another thread.
constexpr milliseconds kTick{50};

std::string ErrnoText(int err) { return std::strerror(err); }

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// A descriptor of 3 or more: if the worker runs with stdin/stdout/stderr closed, a pipe end
// could land on 0-2 and be overwritten by the child's dup2s before being duplicated itself.
Result<Fd> AboveStdio(int fd) {
  Fd owned(fd);
  if (fd > STDERR_FILENO) return owned;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) return Internal("fcntl: " + ErrnoText(errno));
  return Fd(moved);
}

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Internal("pipe: " + ErrnoText(errno));
  auto read = AboveStdio(fds[0]);
  auto write = AboveStdio(fds[1]);
  if (!read) return tl::unexpected(read.error());
  if (!write) return tl::unexpected(write.error());
  return Pipe{std::move(*read), std::move(*write)};
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Writes without letting a child that closed its stdin kill us with SIGPIPE: the signal is
// blocked on this thread for the write and a SIGPIPE it raised is consumed.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE);
  const ssize_t n = ::write(fd, data, size);
  const int err = errno;
  if (n < 0 && err == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = err;
  return n;
}

// Splits the stdout stream into lines (without "\n" or a trailing "\r"). A line longer than
// the limit is delivered cut to it, and the rest of it, up to its newline, is dropped: a CLI
// (or a model's output it echoes) cannot make us buffer without bound.
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line) {}

  void Append(const char* data, size_t size, const std::function<void(std::string_view)>& on_line) {
    std::string_view input(data, size);
    while (!input.empty()) {
      const size_t nl = input.find('\n');
      const std::string_view piece = input.substr(0, nl);
      if (!skipping_) {
        const size_t room = max_line_ - buffer_.size();
        buffer_.append(piece.substr(0, room));
        if (piece.size() > room) {
          // Over the limit: what fits goes out now as the line, the rest of it is dropped.
          ++cut_lines_;
          Emit(buffer_, on_line);
          buffer_.clear();
          skipping_ = true;
        }
      }
      if (nl == std::string_view::npos) return;
      if (!skipping_) Emit(buffer_, on_line);
      buffer_.clear();
      skipping_ = false;
      input.remove_prefix(nl + 1);
    }
  }

  void Flush(const std::function<void(std::string_view)>& on_line) {
    if (!buffer_.empty() && !skipping_) Emit(buffer_, on_line);
    buffer_.clear();
    skipping_ = false;
  }

  int cut_lines() const { return cut_lines_; }

 private:
  static void Emit(std::string_view line, const std::function<void(std::string_view)>& on_line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (on_line) on_line(line);
  }

  size_t max_line_;
  std::string buffer_;     // the current line, at most max_line_ bytes
  bool skipping_ = false;  // the current line was cut and delivered; drop up to its newline
  int cut_lines_ = 0;
};

std::string TailOf(const std::string& text, size_t max) {
  return text.size() <= max ? text : text.substr(text.size() - max);
}

// One running supervisor (see run_supervisor.h), its CLI, and the loop that services the
// CLI's pipes and the supervisor's status pipe.
class Child {
 public:
  Child(pid_t supervisor, Fd out, Fd err, Fd in, Fd command, Fd status, std::string stdin_data,
        const PosixProcessRunner::Options& options,
        const std::function<void(std::string_view)>& on_line)
      : supervisor_(supervisor),
        out_(std::move(out)),
        err_(std::move(err)),
        in_(std::move(in)),
        command_(std::move(command)),
        status_(std::move(status)),
        stdin_data_(std::move(stdin_data)),
        options_(options),
        on_line_(on_line),
        lines_(options.max_line_bytes) {
    if (in_.open() && stdin_data_.empty()) in_.Close();
  }

  // Only reached unreaped when on_line threw: the run is abandoned, so is every process of it.
  ~Child() {
    if (!reaped_) ReapSupervisor();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  ProcessOutcome RunToEnd(Clock::time_point deadline, const std::atomic<bool>* cancel) {
    enum class Stop { kNone, kCancel, kTimeout } stop = Stop::kNone;
    Clock::time_point term_at;
    bool killed = false;

    // 1. Until the CLI exits: stream, and enforce cancel and the deadline.
    while (!exited_) {
      const auto now = Clock::now();
      if (stop == Stop::kNone) {
        if (cancel != nullptr && cancel->load()) {
          stop = Stop::kCancel;
        } else if (now >= deadline) {
          stop = Stop::kTimeout;
        }
        if (stop != Stop::kNone) {
          Command(supervisor::kTerminate);
          term_at = now;
        }
      } else if (!killed && now >= term_at + options_.kill_grace) {
        Command(supervisor::kKill);
        killed = true;
      }
      milliseconds wait = kTick;
      if (!killed) {
        const auto next = stop == Stop::kNone ? deadline : term_at + options_.kill_grace;
        wait = std::clamp(std::chrono::ceil<milliseconds>(next - now), milliseconds(0), kTick);
      }
      Pump(wait);
    }
    in_.Close();

    // 2. Output the CLI wrote just before exiting, or that a descendant still writes.
    const auto drain_end = Clock::now() + (stop == Stop::kNone ? options_.drain : kTick * 4);
    while ((out_.open() || err_.open()) && !tree_empty_ && Clock::now() < drain_end &&
           !(cancel != nullptr && cancel->load())) {
      Pump(kTick);
    }

    // 3. Whatever is left of the run goes, the same way.
    EndLeftovers();
    ReapSupervisor();
    lines_.Flush(on_line_);

    ProcessOutcome outcome;
    if (exit_event_.code == CLD_EXITED) {
      outcome.exit_code = exit_event_.status;
    } else {
      outcome.signal = exit_event_.status;
    }
    outcome.cancelled = stop == Stop::kCancel;
    outcome.timed_out = stop == Stop::kTimeout;
    outcome.cut_lines = lines_.cut_lines();
    outcome.stderr_tail = TailOf(stderr_, options_.stderr_tail_bytes);
    return outcome;
  }

 private:
  void Command(char command) {
    if (!command_.open()) return;
    if (WriteNoSigpipe(command_.get(), &command, 1) != 1) command_.Close();
  }

  void EndLeftovers() {
    if (!tree_empty_) {
      Command(supervisor::kTerminate);
      if (!AwaitTreeEmpty(options_.kill_grace)) {
        Command(supervisor::kKill);
        AwaitTreeEmpty(kTick * 20);  // SIGKILL is delivered asynchronously
      }
    }
    // The pipes close as the processes die, unless something we could not reach holds them.
    const auto until = Clock::now() + kTick * 4;
    while ((out_.open() || err_.open()) && Clock::now() < until) Pump(kTick);
  }

  // Whether every process of the run ended within `limit`; keeps reading the pipes meanwhile
  // so a process blocked on a full pipe can reach its signal handler.
  bool AwaitTreeEmpty(milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (!tree_empty_) {
      if (Clock::now() >= until) return false;
      Pump(milliseconds(10));
    }
    return true;
  }

  // Closing the command pipe tells the supervisor to kill what is left and exit; it is
  // SIGKILLed itself if it has not within a bound (its processes then fall to the sweep).
  void ReapSupervisor() {
    command_.Close();
    const auto until = Clock::now() + options_.kill_grace + milliseconds(1000);
    while (true) {
      const pid_t rc = ::waitpid(supervisor_, nullptr, WNOHANG);
      if (rc == supervisor_ || (rc < 0 && errno != EINTR)) break;  // ECHILD: reaped elsewhere
      if (Clock::now() >= until) {
        ::kill(supervisor_, SIGKILL);
        while (::waitpid(supervisor_, nullptr, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      // The status pipe reaches EOF when it exits: a short wait, not a busy loop.
      if (status_.open()) {
        Pump(milliseconds(10));
      } else {
        ::poll(nullptr, 0, 5);
      }
    }
    reaped_ = true;
    if (!exited_) {
      exited_ = true;
      exit_event_ = {supervisor::Event::kLeaderExited, CLD_EXITED, -1};
    }
  }

  // Waits up to `wait` for output, stdin space or supervisor news, and services them.
  void Pump(milliseconds wait) {
    pollfd fds[4];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1, status_i = -1;
    if (out_.open()) fds[out_i = n++] = {out_.get(), POLLIN, 0};
    if (err_.open()) fds[err_i = n++] = {err_.get(), POLLIN, 0};
    if (in_.open()) fds[in_i = n++] = {in_.get(), POLLOUT, 0};
    if (status_.open()) fds[status_i = n++] = {status_.get(), POLLIN, 0};
    const int ready = ::poll(fds, n, static_cast<int>(wait.count()));
    if (ready > 0) {
      if (out_i >= 0 && fds[out_i].revents != 0) ReadOut();
      if (err_i >= 0 && fds[err_i].revents != 0) ReadErr();
      if (in_i >= 0 && fds[in_i].revents != 0) WriteIn();
      if (status_i >= 0 && fds[status_i].revents != 0) ReadStatus();
    }
  }

  void ReadStatus() {
    supervisor::Event event;
    const ssize_t got = ::read(status_.get(), &event, sizeof event);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (got != static_cast<ssize_t>(sizeof event)) {
      // EOF: the supervisor is gone, and with it everything it could reach. Records are
      // written whole (a pipe write of a few bytes is atomic), so a short one means EOF too.
      status_.Close();
      tree_empty_ = true;
      if (!exited_) {
        exited_ = true;
        exit_event_ = {supervisor::Event::kLeaderExited, CLD_EXITED, -1};
      }
      return;
    }
    if (event.kind == supervisor::Event::kLeaderExited && !exited_) {
      exited_ = true;
      exit_event_ = event;
    } else if (event.kind == supervisor::Event::kTreeEmpty) {
      tree_empty_ = true;
    }
  }

  // Reads what is there now (bounded, so a chatty child cannot starve the other pipes).
  template <typename Sink>
  void Drain(Fd& fd, Sink sink) {
    char buf[65536];
    for (int i = 0; i < 16; ++i) {
      const ssize_t got = ::read(fd.get(), buf, sizeof buf);
      if (got > 0) {
        sink(buf, static_cast<size_t>(got));
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      fd.Close();  // EOF or a read error: either way nothing more comes
      return;
    }
  }

  void ReadOut() {
    Drain(out_, [this](const char* data, size_t size) { lines_.Append(data, size, on_line_); });
  }

  void ReadErr() {
    Drain(err_, [this](const char* data, size_t size) {
      stderr_.append(data, size);
      if (stderr_.size() > 2 * options_.stderr_tail_bytes) {
        stderr_ = TailOf(stderr_, options_.stderr_tail_bytes);
      }
    });
  }

  void WriteIn() {
    while (stdin_written_ < stdin_data_.size()) {
      const ssize_t n = WriteNoSigpipe(in_.get(), stdin_data_.data() + stdin_written_,
                                       stdin_data_.size() - stdin_written_);
      if (n > 0) {
        stdin_written_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      break;  // EPIPE: the child does not want the rest
    }
    in_.Close();  // all written: the child sees EOF
  }

  pid_t supervisor_;
  Fd out_, err_, in_, command_, status_;
  std::string stdin_data_;
  size_t stdin_written_ = 0;
  const PosixProcessRunner::Options& options_;
  const std::function<void(std::string_view)>& on_line_;
  LineSplitter lines_;
  std::string stderr_;
  bool exited_ = false;      // the CLI itself has ended
  bool tree_empty_ = false;  // so has every process it started
  bool reaped_ = false;
  supervisor::Event exit_event_{};
};

// Builds a NULL-terminated array of C strings that point into `strings`.
std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::optional<std::string> ResolveExecutable(const std::string& name, std::string_view path_var) {
  auto executable = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (executable(name)) return name;
    return std::nullopt;
  }
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string_view::npos) end = path_var.size();
    std::string dir(path_var.substr(start, end - start));
    if (dir.empty()) dir = ".";  // an empty PATH entry means the current directory
    const std::string candidate = dir + "/" + name;
    if (executable(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

Result<ProcessOutcome> PosixProcessRunner::Run(
    const ProcessSpec& spec, const std::function<void(std::string_view line)>& on_line,
    const std::atomic<bool>* cancel) {
  if (spec.argv.empty() || spec.argv[0].empty()) return BadRequest("no program to run");
  const auto path_it = spec.env.find("PATH");
  // execvp's fallback when PATH is unset.
  const std::string path_var = path_it != spec.env.end() ? path_it->second : "/usr/bin:/bin";
  const auto program = ResolveExecutable(spec.argv[0], path_var);
  if (!program) {
    if (spec.argv[0].find('/') != std::string::npos) {
      return NotFound("program not found or not executable: " + spec.argv[0]);
    }
    return NotFound("program not found: " + spec.argv[0] + " is not on PATH (" + path_var + ")");
  }
  if (!spec.cwd.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(spec.cwd, ec)) {
      return NotFound("working directory does not exist: " + spec.cwd.string());
    }
  }

  auto out = MakePipe();
  if (!out) return tl::unexpected(out.error());
  auto err = MakePipe();
  if (!err) return tl::unexpected(err.error());
  auto command = MakePipe();
  if (!command) return tl::unexpected(command.error());
  auto status = MakePipe();
  if (!status) return tl::unexpected(status.error());
  auto start_error = MakePipe();
  if (!start_error) return tl::unexpected(start_error.error());
  Pipe in;
  if (spec.stdin_data) {
    auto made = MakePipe();
    if (!made) return tl::unexpected(made.error());
    in = std::move(*made);
  }

  // Everything the forked supervisor needs, built now: after fork it may not allocate.
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<std::string> env_strings;
  env_strings.reserve(spec.env.size() + 1);
  for (const auto& [key, value] : spec.env) {
    if (key != kWorkerRunEnv) env_strings.push_back(key + "=" + value);
  }
  env_strings.push_back(std::string(kWorkerRunEnv) + "=" + WorkerRunMarker());
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  const std::string cwd = spec.cwd.string();

  supervisor::Plan plan;
  plan.program = program->c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.cwd = spec.cwd.empty() ? nullptr : cwd.c_str();
  plan.stdin_fd = in.read.open() ? in.read.get() : -1;
  plan.stdout_fd = out->write.get();
  plan.stderr_fd = err->write.get();
  plan.command_fd = command->read.get();
  plan.status_fd = status->write.get();
  plan.start_error_fd = start_error->write.get();
  if (spec.run_as) {
    plan.run_as = true;
    plan.uid = spec.run_as->uid;
    plan.gid = spec.run_as->gid;
  }
  plan.runner_pid = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) return Unavailable("cannot start " + *program + ": fork: " + ErrnoText(errno));
  if (pid == 0) supervisor::Run(plan);

  // Only the supervisor and the CLI keep their ends: EOF then means they closed.
  out->write.Close();
  err->write.Close();
  in.read.Close();
  command->read.Close();
  status->write.Close();
  start_error->write.Close();
  SetNonBlocking(out->read.get());
  SetNonBlocking(err->read.get());
  if (in.write.open()) SetNonBlocking(in.write.get());

  const auto deadline = Clock::now() + spec.timeout;
  Child child(pid, std::move(out->read), std::move(err->read), std::move(in.write),
              std::move(command->write), std::move(status->read), spec.stdin_data.value_or(""),
              options_, on_line);

  // EOF once the CLI has exec'd (the pipe is close-on-exec); a record if it could not start.
  supervisor::StartError failure;
  ssize_t got;
  do {
    got = ::read(start_error->read.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    std::string reason = "cannot start " + *program + ": " + supervisor::StageName(failure.stage);
    if (failure.stage == supervisor::StartError::kChdir) reason += " " + cwd;
    if (spec.run_as && (failure.stage == supervisor::StartError::kChdir ||
                        failure.stage == supervisor::StartError::kRunAs ||
                        failure.stage == supervisor::StartError::kExec)) {
      reason += " (as user " + spec.run_as->name + ")";
    }
    reason += ": " + ErrnoText(failure.error);
    child.RunToEnd(Clock::now(), nullptr);  // reaps the supervisor
    return Unavailable(reason);
  }
  return child.RunToEnd(deadline, cancel);
}

}  // namespace swarm::harness
