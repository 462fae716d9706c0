#include "sandbox/local_launch.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

namespace swarm::sandbox {
namespace {

// What a failing child reports through the error pipe before _exit.
struct ChildFailure {
  int stage = 0;
  int err = 0;
};

enum Stage { kCgroup = 1, kEnterNs, kChroot, kClone, kStdio, kChdir, kCaps, kExec };

const char* StageName(int stage) {
  switch (stage) {
    case kCgroup:
      return "joining the cgroup";
    case kEnterNs:
      return "entering the sandbox's namespaces";
    case kChroot:
      return "entering the sandbox's root";
    case kClone:
      return "starting the process in the sandbox";
    case kStdio:
      return "setting up standard input and output";
    case kChdir:
      return "changing to the working directory";
    case kCaps:
      return "dropping capabilities";
    case kExec:
      return "executing the command";
    default:
      return "starting the process";
  }
}

// Only async-signal-safe calls from here to exec: the parent is multi-threaded.
[[noreturn]] void Fail(int error_fd, int stage) {
  ChildFailure failure{stage, errno};
  [[maybe_unused]] auto n = write(error_fd, &failure, sizeof failure);
  _exit(127);
}

// Root's capabilities after exec come from the bounding set, and under no_new_privs no more
// than the permitted set before it: both are cut to `kept`.
bool DropCapabilities(uint64_t kept) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  for (int cap = 0; cap <= 63; ++cap) {
    if ((kept & (uint64_t{1} << cap)) == 0) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    const auto bits = static_cast<uint32_t>(kept >> (32 * i));
    data[i].effective = bits;
    data[i].permitted = bits;
    data[i].inheritable = bits;
  }
  // Root keeps them across exec; a program of another user gets none (no ambient set).
  if (syscall(SYS_capset, &header, data) != 0) return false;
  return true;
}

}  // namespace

uint64_t SandboxRootCapabilities() {
  uint64_t mask = 0;
  for (int cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID,
                  CAP_SETUID, CAP_NET_BIND_SERVICE}) {
    mask |= uint64_t{1} << cap;
  }
  return mask;
}

namespace {

// The exec'ing child: descriptors, session, directory, capabilities, then exec.
[[noreturn]] void ExecChild(const LaunchSpec& spec, int error_fd, int devnull, char* const* argv,
                            char* const* envp, const char* cwd) {
  setsid();
  const int in = spec.stdin_fd >= 0 ? spec.stdin_fd : devnull;
  const int out = spec.stdout_fd >= 0 ? spec.stdout_fd : devnull;
  const int err = spec.stderr_fd >= 0 ? spec.stderr_fd : devnull;
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) Fail(error_fd, kStdio);
  for (int fd : spec.keep_fds) {
    if (fcntl(fd, F_SETFD, 0) != 0) Fail(error_fd, kStdio);
  }
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (chdir(cwd) != 0) Fail(error_fd, kChdir);
  if (spec.drop_capabilities && !DropCapabilities(spec.kept_capabilities)) {
    Fail(error_fd, kCaps);
  }
  execve(argv[0], argv, envp);
  Fail(error_fd, kExec);
}

std::string EnvValue(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=') {
      return entry.substr(name.size() + 1);
    }
  }
  return "";
}

}  // namespace

std::string FindExecutable(const std::string& name, const std::string& path_value) {
  std::stringstream dirs(path_value.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_value);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Result<pid_t> Launch(const LaunchSpec& spec) {
  if (spec.argv.empty()) return BadRequest("no command to run");
  // Everything the child needs is built before fork: it may not allocate.
  std::vector<std::string> args = spec.argv;
  if (args[0].find('/') == std::string::npos) {
    std::string found = FindExecutable(args[0], EnvValue(spec.env, "PATH"));
    // Inside a sandbox the host's view of PATH is the same (read-only root), so a lookup here
    // holds there; an unknown name is left to fail in exec with a clear error.
    if (!found.empty()) args[0] = found;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = spec.env;
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd = spec.cwd.empty() ? "/" : spec.cwd;

  int ns_fds[3] = {-1, -1, -1};
  int root_fd = -1;
  auto close_ns = [&] {
    for (int& fd : ns_fds) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    if (root_fd >= 0) close(root_fd);
    root_fd = -1;
  };
  if (spec.enter_pid > 0) {
    const char* names[3] = {"ipc", "pid", "mnt"};
    for (int i = 0; i < 3; ++i) {
      auto path = fmt::format("/proc/{}/ns/{}", spec.enter_pid, names[i]);
      ns_fds[i] = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns_fds[i] < 0) {
        close_ns();
        return Unavailable(
            fmt::format("the sandbox's namespaces are gone ({}: {})", path, std::strerror(errno)));
      }
    }
    auto root = fmt::format("/proc/{}/root", spec.enter_pid);
    root_fd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
      close_ns();
      return Unavailable("the sandbox's root is gone");
    }
  }

  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int error_pipe[2];
  int pid_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0 || pipe2(pid_pipe, O_CLOEXEC) != 0) {
    close_ns();
    if (devnull >= 0) close(devnull);
    return Internal(fmt::format("pipe: {}", std::strerror(errno)));
  }

  const pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close_ns();
    close(devnull);
    for (int fd : {error_pipe[0], error_pipe[1], pid_pipe[0], pid_pipe[1]}) close(fd);
    return Unavailable(fmt::format("fork: {}", std::strerror(e)));
  }
  if (child == 0) {
    close(error_pipe[0]);
    close(pid_pipe[0]);
    for (int fd : spec.cgroup_procs_fds) {
      if (write(fd, "0", 1) != 1) Fail(error_pipe[1], kCgroup);
    }
    if (spec.enter_pid <= 0)
      ExecChild(spec, error_pipe[1], devnull, argv.data(), envp.data(), cwd.c_str());
    if (setns(ns_fds[0], CLONE_NEWIPC) != 0 || setns(ns_fds[1], CLONE_NEWPID) != 0 ||
        setns(ns_fds[2], CLONE_NEWNS) != 0) {
      Fail(error_pipe[1], kEnterNs);
    }
    if (fchdir(root_fd) != 0 || chroot(".") != 0) Fail(error_pipe[1], kChroot);
    // The real process: a sibling of this helper (a child of sandboxd) in the sandbox's PID
    // namespace.
    const long grandchild = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (grandchild < 0) Fail(error_pipe[1], kClone);
    if (grandchild == 0) {
      ExecChild(spec, error_pipe[1], devnull, argv.data(), envp.data(), cwd.c_str());
    }
    pid_t reported = static_cast<pid_t>(grandchild);
    [[maybe_unused]] auto n = write(pid_pipe[1], &reported, sizeof reported);
    _exit(0);
  }
  close(error_pipe[1]);
  close(pid_pipe[1]);
  close_ns();
  close(devnull);

  pid_t process = child;
  if (spec.enter_pid > 0) {
    pid_t reported = 0;
    ssize_t n;
    do {
      n = read(pid_pipe[0], &reported, sizeof reported);
    } while (n < 0 && errno == EINTR);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    process = n == sizeof reported ? reported : 0;
  }
  close(pid_pipe[0]);

  ChildFailure failure;
  ssize_t got;
  do {
    got = read(error_pipe[0], &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (got == sizeof failure) {
    if (process > 0) {
      int status = 0;
      while (waitpid(process, &status, 0) < 0 && errno == EINTR) {
      }
    }
    return BadRequest(fmt::format("cannot start '{}': {} failed: {}", spec.argv[0],
                                  StageName(failure.stage), std::strerror(failure.err)));
  }
  if (process <= 0) return Internal("the process did not start in the sandbox");
  return process;
}

pid_t NamespacePid(pid_t host_pid) {
  std::ifstream status(fmt::format("/proc/{}/status", host_pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    pid_t value = 0;
    pid_t last = 0;
    while (fields >> value) last = value;
    return last > 0 ? last : host_pid;
  }
  return host_pid;
}

unsigned long PidNamespaceInode(pid_t pid) {
  struct stat st {};
  if (stat(fmt::format("/proc/{}/ns/pid", pid).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

namespace {

template <typename Pred>
std::vector<pid_t> ScanProc(Pred pred) {
  std::vector<pid_t> found;
  DIR* dir = opendir("/proc");
  if (!dir) return found;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (pred(static_cast<pid_t>(pid))) found.push_back(static_cast<pid_t>(pid));
  }
  closedir(dir);
  return found;
}

}  // namespace

bool IsZombie(pid_t pid) {
  std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  auto close_paren = text.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < text.size() &&
         text[close_paren + 2] == 'Z';
}

namespace {

pid_t SessionOf(pid_t pid) {
  std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string state;
  long ppid = 0, pgrp = 0, session = 0;
  fields >> state >> ppid >> pgrp >> session;
  return static_cast<pid_t>(session);
}

}  // namespace

std::vector<pid_t> ProcessesInPidNamespace(unsigned long ns_inode) {
  if (ns_inode == 0) return {};
  return ScanProc([&](pid_t pid) { return PidNamespaceInode(pid) == ns_inode && !IsZombie(pid); });
}

std::vector<pid_t> ProcessesInSessions(const std::vector<pid_t>& sessions) {
  if (sessions.empty()) return {};
  return ScanProc([&](pid_t pid) {
    const pid_t session = SessionOf(pid);
    for (pid_t s : sessions) {
      if (s == session) return !IsZombie(pid);
    }
    return false;
  });
}

}  // namespace swarm::sandbox
