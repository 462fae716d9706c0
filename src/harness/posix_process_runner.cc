#include "harness/posix_process_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

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

// Whether any process other than a zombie is still in the group. nullopt when /proc cannot
// tell (not mounted).
std::optional<bool> GroupHasLiveMembers(pid_t pgid) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return std::nullopt;
  bool live = false;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream stat_file(std::string("/proc/") + entry->d_name + "/stat");
    std::string stat;
    if (!std::getline(stat_file, stat)) continue;  // it ended meanwhile
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so parse after
    // the last ')'.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') {
      live = true;
      break;
    }
  }
  ::closedir(dir);
  return live;
}

// Splits the stdout stream into lines (without "\n" or a trailing "\r").
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line) {}

  void Append(const char* data, size_t size, const std::function<void(std::string_view)>& on_line) {
    buffer_.append(data, size);
    size_t start = 0;
    while (true) {
      const size_t nl = buffer_.find('\n', start);
      if (nl == std::string::npos) break;
      Emit(std::string_view(buffer_).substr(start, nl - start), on_line);
      start = nl + 1;
    }
    buffer_.erase(0, start);
    if (buffer_.size() > max_line_) Flush(on_line);
  }

  void Flush(const std::function<void(std::string_view)>& on_line) {
    if (!buffer_.empty()) Emit(buffer_, on_line);
    buffer_.clear();
  }

 private:
  static void Emit(std::string_view line, const std::function<void(std::string_view)>& on_line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (on_line) on_line(line);
  }

  size_t max_line_;
  std::string buffer_;
};

std::string TailOf(const std::string& text, size_t max) {
  return text.size() <= max ? text : text.substr(text.size() - max);
}

// One running child and the loop that services its pipes.
class Child {
 public:
  Child(pid_t pid, Fd out, Fd err, Fd in, std::string stdin_data,
        const PosixProcessRunner::Options& options,
        const std::function<void(std::string_view)>& on_line)
      : pid_(pid),
        out_(std::move(out)),
        err_(std::move(err)),
        in_(std::move(in)),
        stdin_data_(std::move(stdin_data)),
        options_(options),
        on_line_(on_line),
        lines_(options.max_line_bytes) {
    // A pidfd wakes poll the moment the child exits; without one (old kernel, seccomp) the
    // loop notices within a tick.
#ifdef SYS_pidfd_open
    const long fd = ::syscall(SYS_pidfd_open, pid_, 0);
    if (fd >= 0) pidfd_ = Fd(static_cast<int>(fd));
#endif
    if (in_.open() && stdin_data_.empty()) in_.Close();
  }

  // Only reached unreaped when on_line threw: the run is abandoned, so is its process group.
  ~Child() {
    if (reaped_) return;
    SignalGroup(SIGKILL);
    // Members die asynchronously; hold the leader's pid (the group id) until they have.
    const auto until = Clock::now() + milliseconds(1000);
    while (GroupHasLiveMembers(pid_).value_or(false) && Clock::now() < until) {
      ::poll(nullptr, 0, 10);
    }
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  ProcessOutcome RunToEnd(Clock::time_point deadline, const std::atomic<bool>* cancel) {
    enum class Stop { kNone, kCancel, kTimeout } stop = Stop::kNone;
    Clock::time_point term_at;
    bool killed = false;

    // 1. Until the leader exits: stream, and enforce cancel and the deadline.
    while (!exited_) {
      const auto now = Clock::now();
      if (stop == Stop::kNone) {
        if (cancel != nullptr && cancel->load()) {
          stop = Stop::kCancel;
        } else if (now >= deadline) {
          stop = Stop::kTimeout;
        }
        if (stop != Stop::kNone) {
          SignalGroup(SIGTERM);
          term_at = now;
        }
      } else if (!killed && now >= term_at + options_.kill_grace) {
        SignalGroup(SIGKILL);
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

    // 2. Output the leader wrote just before exiting, or that a descendant still writes.
    const auto drain_end = Clock::now() + (stop == Stop::kNone ? options_.drain : kTick * 4);
    while ((out_.open() || err_.open()) && Clock::now() < drain_end &&
           !(cancel != nullptr && cancel->load())) {
      Pump(kTick);
    }

    // 3. Whatever is left of the group goes, the same way.
    EndLeftovers();

    // The group is empty: the leader's pid may now be released.
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    lines_.Flush(on_line_);

    ProcessOutcome outcome;
    if (exit_info_.si_code == CLD_EXITED) {
      outcome.exit_code = exit_info_.si_status;
    } else {
      outcome.signal = exit_info_.si_status;
    }
    outcome.cancelled = stop == Stop::kCancel;
    outcome.timed_out = stop == Stop::kTimeout;
    outcome.stderr_tail = TailOf(stderr_, options_.stderr_tail_bytes);
    return outcome;
  }

 private:
  void SignalGroup(int sig) { ::kill(-pid_, sig); }

  void EndLeftovers() {
    const auto live = GroupHasLiveMembers(pid_);
    if (live.has_value() && !*live) return;
    if (!live.has_value()) {
      // Cannot look: nothing else of a finished task has any business running.
      SignalGroup(SIGKILL);
    } else {
      SignalGroup(SIGTERM);
      if (!AwaitGroupGone(options_.kill_grace)) {
        SignalGroup(SIGKILL);
        AwaitGroupGone(kTick * 20);  // SIGKILL is delivered asynchronously
      }
    }
    // The pipes close as the members die, unless something that left the group holds them.
    const auto until = Clock::now() + kTick * 10;
    while ((out_.open() || err_.open()) && Clock::now() < until) Pump(kTick);
  }

  // Whether the group emptied within `limit`; keeps reading the pipes meanwhile so a member
  // blocked on a full pipe can reach its signal handler.
  bool AwaitGroupGone(milliseconds limit) {
    const auto until = Clock::now() + limit;
    while (GroupHasLiveMembers(pid_).value_or(false)) {
      if (Clock::now() >= until) return false;
      Pump(milliseconds(10));
    }
    return true;
  }

  // Waits up to `wait` for output, stdin space or the leader's exit, and services them.
  void Pump(milliseconds wait) {
    pollfd fds[4];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_.open()) fds[out_i = n++] = {out_.get(), POLLIN, 0};
    if (err_.open()) fds[err_i = n++] = {err_.get(), POLLIN, 0};
    if (in_.open()) fds[in_i = n++] = {in_.get(), POLLOUT, 0};
    if (pidfd_.open() && !exited_) fds[n++] = {pidfd_.get(), POLLIN, 0};
    const int ready = ::poll(fds, n, static_cast<int>(wait.count()));
    if (ready > 0) {
      if (out_i >= 0 && fds[out_i].revents != 0) ReadOut();
      if (err_i >= 0 && fds[err_i].revents != 0) ReadErr();
      if (in_i >= 0 && fds[in_i].revents != 0) WriteIn();
    }
    CheckExited();
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

  void CheckExited() {
    if (exited_) return;
    siginfo_t info{};
    // WNOWAIT leaves the leader a zombie so its pid, the group id, stays reserved.
    const int rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == pid_) {
      exited_ = true;
      exit_info_ = info;
    } else if (rc != 0 && errno == ECHILD) {
      // Someone else reaped it (SIGCHLD ignored, or a waitpid(-1) elsewhere): it has ended,
      // with a status we cannot know.
      exited_ = true;
      exit_info_.si_code = CLD_EXITED;
      exit_info_.si_status = -1;
    }
  }

  pid_t pid_;
  Fd out_, err_, in_, pidfd_;
  std::string stdin_data_;
  size_t stdin_written_ = 0;
  const PosixProcessRunner::Options& options_;
  const std::function<void(std::string_view)>& on_line_;
  LineSplitter lines_;
  std::string stderr_;
  bool exited_ = false;
  bool reaped_ = false;
  siginfo_t exit_info_{};
};

// posix_spawn's file actions and attributes, freed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

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
  Pipe in;
  if (spec.stdin_data) {
    auto made = MakePipe();
    if (!made) return tl::unexpected(made.error());
    in = std::move(*made);
  }

  SpawnSetup setup;
  if (spec.stdin_data) {
    posix_spawn_file_actions_adddup2(&setup.actions, in.read.get(), STDIN_FILENO);
  } else {
    // Never an inherited or open pipe: codex, opencode and pi wait for EOF on stdin.
    posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&setup.actions, out->write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err->write.get(), STDERR_FILENO);
  if (!spec.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, spec.cwd.c_str());
  }
  // Other threads may open descriptors without O_CLOEXEC; none of them reach the child.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);

  // A session of its own makes the child the leader of a new process group (pgid == pid) and
  // cuts it from any terminal. Signals start at their defaults and unblocked whatever the
  // worker did with its own (an ignored SIGPIPE would otherwise be inherited).
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);

  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  env_strings.reserve(spec.env.size());
  for (const auto& [key, value] : spec.env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc =
      ::posix_spawn(&pid, program->c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) return Unavailable("cannot start " + *program + ": " + ErrnoText(rc));

  // Only the child keeps its ends: EOF on stdout/stderr then means the child side closed.
  out->write.Close();
  err->write.Close();
  in.read.Close();
  SetNonBlocking(out->read.get());
  SetNonBlocking(err->read.get());
  if (in.write.open()) SetNonBlocking(in.write.get());

  const auto deadline = Clock::now() + spec.timeout;
  Child child(pid, std::move(out->read), std::move(err->read), std::move(in.write),
              spec.stdin_data.value_or(""), options_, on_line);
  return child.RunToEnd(deadline, cancel);
}

}  // namespace swarm::harness
