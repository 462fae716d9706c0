#include "core/role_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace swarm {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr milliseconds kPollInterval{20};

std::optional<uint16_t> ListeningPort(const std::string& log) {
  // Roles log one JSON object per line; the line with "msg":"listening" carries "port":N.
  std::istringstream lines(log);
  std::string line;
  static const std::regex kPort(R"("port":([0-9]{1,5}))");
  while (std::getline(lines, line)) {
    if (line.find("\"msg\":\"listening\"") == std::string::npos) continue;
    std::smatch m;
    if (std::regex_search(line, m, kPort)) {
      const unsigned long port = std::stoul(m[1].str());
      if (port > 0 && port <= 65535) return static_cast<uint16_t>(port);
    }
  }
  return std::nullopt;
}

std::string ReadWhole(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string out(max_bytes, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max_bytes));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string FileTail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes)
                                   ? size - static_cast<std::streamoff>(max_bytes)
                                   : 0;
  in.seekg(start);
  std::string out(static_cast<std::size_t>(size - start), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (start > 0) {
    if (auto nl = out.find('\n'); nl != std::string::npos && nl + 1 < out.size()) {
      out.erase(0, nl + 1);
    }
  }
  return out;
}

Result<std::string> SelfExecutable() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("cannot find this program's path: {}", std::strerror(errno)));
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

Result<std::unique_ptr<RoleProcess>> RoleProcess::Start(const RoleProcessSpec& spec) {
  const int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("cannot open {}: {}", spec.log_path, std::strerror(errno)));
  }
  std::vector<std::string> argv_storage{spec.executable};
  argv_storage.insert(argv_storage.end(), spec.args.begin(), spec.args.end());
  std::vector<std::string> env_storage;
  for (const auto& [key, value] : spec.env) env_storage.push_back(key + "=" + value);
  std::vector<char*> argv, envp;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  // fork rather than posix_spawn: the child must ask for a death signal before exec.
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    return MakeError(ErrorCode::kInternal,
                     fmt::format("cannot start {}: {}", spec.executable, std::strerror(err)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    if (spec.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
    }
    if (spec.own_process_group) ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDOUT_FILENO);
    }
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(spec.executable.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  std::unique_ptr<RoleProcess> child(new RoleProcess(pid, spec.log_path));
  const auto deadline = Steady::now() + spec.start_timeout;
  for (;;) {
    if (auto port = ListeningPort(ReadWhole(spec.log_path, 1 << 20))) {
      child->port_ = *port;
      return child;
    }
    if (auto status = child->Reap(milliseconds(0))) {
      return MakeError(
          ErrorCode::kUnavailable,
          fmt::format("{} {} exited (status {}) before listening; its log:\n{}", spec.executable,
                      spec.args.empty() ? "" : spec.args[0], *status, FileTail(spec.log_path)));
    }
    if (Steady::now() >= deadline) {
      child->Kill();
      return MakeError(ErrorCode::kUnavailable,
                       fmt::format("{} {} did not start listening within {} ms; its log:\n{}",
                                   spec.executable, spec.args.empty() ? "" : spec.args[0],
                                   spec.start_timeout.count(), FileTail(spec.log_path)));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

RoleProcess::~RoleProcess() { Stop(); }

std::optional<int> RoleProcess::Reap(milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = Steady::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = DecodeStatus(status);
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;  // not our child any more (reaped elsewhere): nothing left to wait for
      return status_;
    }
    if (Steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool RoleProcess::Running() { return !Reap(milliseconds(0)); }

int RoleProcess::Stop(milliseconds grace) {
  if (status_) return *status_;
  ::kill(pid_, SIGTERM);
  if (auto status = Reap(grace)) return *status;
  return Kill();
}

int RoleProcess::Kill() {
  if (status_) return *status_;
  ::kill(pid_, SIGKILL);
  // SIGKILL cannot be caught: the reap is prompt unless the child is stuck in the kernel.
  return Reap(std::chrono::seconds(30)).value_or(-1);
}

}  // namespace swarm
