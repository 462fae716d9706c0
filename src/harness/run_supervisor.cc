#include "harness/run_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <initializer_list>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace swarm::harness::supervisor {
namespace {

// How many processes one run may have that the supervisor still sees; more are killed in
// later rounds (every killed parent hands its children to the supervisor).
constexpr int kMaxTree = 4096;
// While killing, how often the subtree is swept again (a process may fork meanwhile).
constexpr int kKillRoundMs = 20;

struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

pid_t ParsePid(const char* text) {
  long value = 0;
  if (*text == '\0') return -1;
  for (; *text != '\0'; ++text) {
    if (*text < '0' || *text > '9') return -1;
    value = value * 10 + (*text - '0');
    if (value > INT_MAX) return -1;
  }
  return static_cast<pid_t>(value);
}

// "/proc/<pid>/stat" into `out` (at least 32 bytes).
void StatPath(pid_t pid, char* out) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  const char prefix[] = "/proc/";
  int i = 0;
  for (const char* p = prefix; *p != '\0'; ++p) out[i++] = *p;
  while (n > 0) out[i++] = digits[--n];
  for (const char* p = "/stat"; *p != '\0'; ++p) out[i++] = *p;
  out[i] = '\0';
}

// The parent pid from /proc/<pid>/stat, or -1 when the process is gone or a zombie (a zombie
// needs no signal; its parent reaps it).
pid_t ParentOf(pid_t pid) {
  char path[32];
  StatPath(pid, path);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  ssize_t got;
  do {
    got = ::read(fd, buf, sizeof buf - 1);
  } while (got < 0 && errno == EINTR);
  ::close(fd);
  if (got <= 0) return -1;
  buf[got] = '\0';
  // "pid (comm) state ppid ...": comm may hold anything, so parse after the last ')'.
  const char* close = nullptr;
  for (const char* p = buf; *p != '\0'; ++p) {
    if (*p == ')') close = p;
  }
  if (close == nullptr || close[1] != ' ' || close[2] == '\0' || close[3] != ' ') return -1;
  if (close[2] == 'Z' || close[2] == 'X') return -1;
  long ppid = 0;
  for (const char* p = close + 4; *p >= '0' && *p <= '9'; ++p) ppid = ppid * 10 + (*p - '0');
  return static_cast<pid_t>(ppid);
}

bool Contains(const pid_t* pids, int n, pid_t pid) {
  for (int i = 0; i < n; ++i) {
    if (pids[i] == pid) return true;
  }
  return false;
}

// Every live descendant of `root`, by repeated passes over /proc until no pass adds one.
int CollectDescendants(pid_t root, pid_t* out, int max) {
  int n = 0;
  bool grew = true;
  while (grew) {
    grew = false;
    const int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return n;
    alignas(8) char buf[8192];
    for (;;) {
      const long got = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
      if (got <= 0) break;
      for (long off = 0; off < got;) {
        const auto* entry = reinterpret_cast<const Dirent64*>(buf + off);
        off += entry->d_reclen;
        const pid_t pid = ParsePid(entry->d_name);
        if (pid <= 0 || pid == root || Contains(out, n, pid)) continue;
        const pid_t ppid = ParentOf(pid);
        if (ppid <= 0 || (ppid != root && !Contains(out, n, ppid))) continue;
        if (n < max) {
          out[n++] = pid;
          grew = true;
        }
      }
    }
    ::close(dir);
  }
  return n;
}

void WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the runner is gone; nobody to tell
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void Report(int fd, int32_t stage, int32_t error) {
  const StartError record{stage, error};
  WriteAll(fd, &record, sizeof record);
}

void CloseRange(unsigned first, unsigned last, unsigned flags) {
  if (first > last) return;
  if (::syscall(SYS_close_range, first, last, flags) == 0) return;
  // Kernels before 5.9 (5.11 for CLOEXEC): one descriptor at a time.
  const unsigned end = last > 65535 ? 65535 : last;
  for (unsigned fd = first; fd <= end; ++fd) {
    if (flags & CLOSE_RANGE_CLOEXEC) {
      ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    } else {
      ::close(static_cast<int>(fd));
    }
  }
}

// Closes every descriptor from 3 up except those in `keep`: the worker's sockets and files
// have no business in the supervisor.
void CloseAllExcept(int* keep, int n) {
  for (int i = 1; i < n; ++i) {  // insertion sort: a handful of descriptors
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      const int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  unsigned next = 3;
  for (int i = 0; i < n; ++i) {
    if (keep[i] < 3 || static_cast<unsigned>(keep[i]) < next) continue;
    if (static_cast<unsigned>(keep[i]) > next) CloseRange(next, keep[i] - 1, 0);
    next = static_cast<unsigned>(keep[i]) + 1;
  }
  CloseRange(next, ~0U, 0);
}

// The CLI's process: a session of its own, default signals, its stdio, its user, then exec.
[[noreturn]] void ExecCli(const Plan& plan, pid_t supervisor_pid) {
  ::setsid();
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  if (plan.stdin_fd >= 0) {
    ::dup2(plan.stdin_fd, STDIN_FILENO);
  } else {
    const int null = ::open("/dev/null", O_RDONLY);
    if (null < 0) {
      Report(plan.start_error_fd, StartError::kStdin, errno);
      ::_exit(127);
    }
    if (null != STDIN_FILENO) {
      ::dup2(null, STDIN_FILENO);
      ::close(null);
    }
  }
  ::dup2(plan.stdout_fd, STDOUT_FILENO);
  ::dup2(plan.stderr_fd, STDERR_FILENO);
  if (plan.run_as) {
    // Raw system calls: this process has one thread, and glibc's wrappers would try to
    // synchronise the credentials of threads that only exist in the parent.
    const gid_t groups[1] = {plan.gid};
    if (::syscall(SYS_setgroups, 1, groups) != 0 ||
        ::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0 ||
        ::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
      Report(plan.start_error_fd, StartError::kRunAs, errno);
      ::_exit(127);
    }
  }
  // After the credential change, which clears it. The check closes the race with a
  // supervisor that died before the setting took effect.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != supervisor_pid) {
    Report(plan.start_error_fd, StartError::kParentGone, ESRCH);
    ::_exit(127);
  }
  // As the CLI's user: a directory it cannot enter fails here, with a reason.
  if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) {
    Report(plan.start_error_fd, StartError::kChdir, errno);
    ::_exit(127);
  }
  CloseRange(3, ~0U, CLOSE_RANGE_CLOEXEC);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(plan.program, plan.argv, plan.envp);
  Report(plan.start_error_fd, StartError::kExec, errno);
  ::_exit(127);
}

}  // namespace

const char* StageName(int32_t stage) {
  switch (stage) {
    case StartError::kFork:
      return "fork";
    case StartError::kStdin:
      return "open /dev/null for stdin";
    case StartError::kRunAs:
      return "switch to the CLI user";
    case StartError::kChdir:
      return "enter the working directory";
    case StartError::kExec:
      return "exec";
    case StartError::kParentGone:
      return "supervisor ended";
  }
  return "start";
}

int SignalDescendants(pid_t root, int sig) {
  pid_t tree[kMaxTree];
  const int n = CollectDescendants(root, tree, kMaxTree);
  for (int i = 0; i < n; ++i) ::kill(tree[i], sig);
  return n;
}

void Run(const Plan& plan) {
  // Signals arrive through a signalfd only, and SIGCHLD must not be ignored (the kernel would
  // reap the CLI itself and we would lose its status).
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != plan.runner_pid) {
    Report(plan.start_error_fd, StartError::kParentGone, ESRCH);
    ::_exit(127);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Our memory and environ are the worker's (the swarm key among them): not for the CLI.
  ::prctl(PR_SET_DUMPABLE, 0);

  int keep[] = {plan.stdin_fd,   plan.stdout_fd, plan.stderr_fd,
                plan.command_fd, plan.status_fd, plan.start_error_fd};
  CloseAllExcept(keep, sizeof keep / sizeof keep[0]);

  sigset_t watched;
  sigemptyset(&watched);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&watched, sig);
  const int sigfd = ::signalfd(-1, &watched, SFD_CLOEXEC | SFD_NONBLOCK);

  const pid_t self = ::getpid();
  const pid_t leader = ::fork();
  if (leader == 0) ExecCli(plan, self);
  if (leader < 0) {
    Report(plan.start_error_fd, StartError::kFork, errno);
    ::_exit(127);
  }
  // The CLI holds the pipes now; the runner must see EOF when it (and its descendants) close.
  for (int fd : {plan.stdin_fd, plan.stdout_fd, plan.stderr_fd, plan.start_error_fd}) {
    if (fd >= 0) ::close(fd);
  }

  int command_fd = plan.command_fd;
  bool killing = false;
  for (;;) {
    for (;;) {
      siginfo_t info{};
      const int rc = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG);
      if (rc == 0 && info.si_pid != 0) {
        if (info.si_pid == leader) {
          const Event event{Event::kLeaderExited, info.si_code, info.si_status};
          WriteAll(plan.status_fd, &event, sizeof event);
        }
        continue;
      }
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0 && errno == ECHILD) {
        // Nothing of the run is left (the leader included: it was our child).
        const Event event{Event::kTreeEmpty, 0, 0};
        WriteAll(plan.status_fd, &event, sizeof event);
        ::_exit(0);
      }
      break;  // children remain, none has ended
    }
    if (killing) SignalDescendants(self, SIGKILL);

    pollfd fds[2];
    int n = 0;
    if (sigfd >= 0) fds[n++] = {sigfd, POLLIN, 0};
    const int command_index = command_fd >= 0 ? n : -1;
    if (command_fd >= 0) fds[n++] = {command_fd, POLLIN, 0};
    // Without a signalfd, SIGCHLD cannot wake us: poll with a timeout instead.
    const int timeout = killing ? kKillRoundMs : (sigfd >= 0 ? -1 : 50);
    if (::poll(fds, static_cast<nfds_t>(n), timeout) <= 0) continue;
    if (sigfd >= 0 && fds[0].revents != 0) {
      signalfd_siginfo si[8];
      const ssize_t got = ::read(sigfd, si, sizeof si);
      for (ssize_t i = 0; got > 0 && i < got / static_cast<ssize_t>(sizeof si[0]); ++i) {
        // SIGTERM is our parent-death signal (or someone stopping the run): end it all.
        if (si[i].ssi_signo != SIGCHLD) killing = true;
      }
    }
    if (command_index >= 0 && fds[command_index].revents != 0) {
      char commands[16];
      const ssize_t got = ::read(command_fd, commands, sizeof commands);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        ::close(command_fd);  // the runner is done with us, or gone
        command_fd = -1;
        killing = true;
      }
      for (ssize_t i = 0; i < got; ++i) {
        if (commands[i] == kTerminate) SignalDescendants(self, SIGTERM);
        if (commands[i] == kKill) killing = true;
      }
    }
  }
}

}  // namespace swarm::harness::supervisor
