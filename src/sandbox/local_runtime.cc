#include "sandbox/local_runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "sandbox/local_launch.h"

namespace swarm::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* kHome = "/home/user";
constexpr auto kInitTimeout = 10s;
constexpr auto kKillSweepTimeout = 3s;

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Waits for `pid` (a child) to exit, at most `timeout`; kills it if it does not.
int WaitChild(pid_t pid, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return status;
    if (Clock::now() >= until) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return status;
    }
    std::this_thread::sleep_for(5ms);
  }
}

// Reads from `fd` until EOF or `timeout`.
std::string ReadAll(int fd, std::chrono::milliseconds timeout, std::size_t limit = 4096) {
  std::string text;
  const auto until = Clock::now() + timeout;
  char buf[512];
  while (text.size() < limit) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.find('\n') != std::string::npos && text.find("ready") != std::string::npos) break;
  }
  return text;
}

std::string SandboxMarker(const std::string& id) { return "E2B_SANDBOX_ID=" + id; }

bool HasSandboxMarker(pid_t pid, const std::string& id) {
  std::ifstream file(fmt::format("/proc/{}/environ", pid), std::ios::binary);
  std::string entry;
  const std::string marker = SandboxMarker(id);
  while (std::getline(file, entry, '\0')) {
    if (entry == marker) return true;
  }
  return false;
}

bool Under(std::string_view path, std::string_view dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

// The host directories that must be rebuilt so `binds` find their mount points: for a
// destination missing on the host's (read-only) root, its deepest existing ancestor.
// Destinations under the sandbox's own writable directories need none. Shallowest first.
std::vector<std::string> ShadowDirs(const std::vector<std::pair<std::string, std::string>>& binds) {
  std::vector<std::string> dirs;
  for (const auto& [source, dest] : binds) {
    if (Under(dest, "/tmp") || Under(dest, "/home") || Under(dest, "/proc") ||
        Under(dest, "/dev")) {
      continue;
    }
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(dest, ec))) continue;
    std::filesystem::path dir = std::filesystem::path(dest).parent_path();
    while (dir != dir.root_path() && !std::filesystem::is_directory(dir, ec)) {
      dir = dir.parent_path();
    }
    dirs.push_back(dir.string());
  }
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  return dirs;
}

// Read-only binds (symlinks as symlinks) of every entry of host directory `dir`, except what
// the sandbox mounts of its own at the root.
void AppendEntryBinds(const std::string& dir, std::vector<std::string>* argv) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (dir == "/" && (name == "proc" || name == "dev" || name == "tmp" || name == "home")) {
      continue;
    }
    const std::string path = (dir == "/" ? "" : dir) + "/" + name;
    if (entry.is_symlink(ec)) {
      argv->insert(argv->end(),
                   {"--symlink", std::filesystem::read_symlink(entry.path(), ec).string(), path});
    } else {
      argv->insert(argv->end(), {"--ro-bind", path, path});
    }
  }
}

// Where a path inside a sandbox with directories under `dir` is on the host, for what it
// owns: /home/user (and its workspace) and /tmp; the rest is the host's own.
std::string HostPathIn(const std::string& dir, const std::string& inside) {
  if (Under(inside, "/home/user/workspace")) return dir + "/workspace" + inside.substr(20);
  if (Under(inside, kHome)) return dir + "/home" + inside.substr(10);
  if (Under(inside, "/tmp")) return dir + "/tmp" + inside.substr(4);
  return inside;
}

std::string BwrapPath() { return FindExecutable("bwrap", kDefaultPath); }

}  // namespace

Isolation ProbeIsolation(std::string* why) {
  if (geteuid() != 0) {
    // Commands join a sandbox through setns(2) into its namespaces, which takes root.
    if (why) *why = "sandboxd is not running as root, so it cannot enter sandboxes' namespaces";
    return Isolation::kProcessGroup;
  }
  const std::string bwrap = BwrapPath();
  if (bwrap.empty()) {
    if (why) *why = "bwrap (bubblewrap) is not installed";
    return Isolation::kProcessGroup;
  }
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) {
    if (why) *why = "cannot make a pipe to probe bwrap";
    return Isolation::kProcessGroup;
  }
  LaunchSpec probe;
  probe.argv = {bwrap,
                "--unshare-pid",
                "--unshare-ipc",
                "--die-with-parent",
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--tmpfs",
                "/tmp",
                "--clearenv",
                "/bin/true"};
  probe.env = {std::string("PATH=") + kDefaultPath};
  probe.stderr_fd = err[1];
  auto pid = Launch(probe);
  close(err[1]);
  if (!pid) {
    close(err[0]);
    if (why) *why = pid.error().message;
    return Isolation::kProcessGroup;
  }
  std::string message = ReadAll(err[0], kInitTimeout);
  close(err[0]);
  int status = WaitChild(*pid, kInitTimeout);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (why) *why = "bwrap cannot make a sandbox here: " + message;
    return Isolation::kProcessGroup;
  }
  return Isolation::kBubblewrap;
}

LocalSandbox::LocalSandbox(Isolation isolation, LocalSandboxSpec spec)
    : isolation_(isolation), spec_(std::move(spec)) {}

Result<std::unique_ptr<LocalSandbox>> LocalSandbox::Create(Isolation isolation,
                                                           LocalSandboxSpec spec) {
  std::error_code ec;
  for (const char* sub : {"tmp", "home", "workspace"}) {
    std::filesystem::create_directories(spec.dir + "/" + sub, ec);
    if (ec) {
      return Internal(fmt::format("cannot create the sandbox directory {}/{}: {}", spec.dir, sub,
                                  ec.message()));
    }
  }
  chmod((spec.dir + "/tmp").c_str(), 01777);
  if (Under(spec.default_cwd, "/home/user") || Under(spec.default_cwd, "/tmp")) {
    // The template's working directory exists from the start, as WORKDIR makes it.
    std::filesystem::create_directories(HostPathIn(spec.dir, spec.default_cwd), ec);
  }
  std::unique_ptr<LocalSandbox> sandbox(new LocalSandbox(isolation, std::move(spec)));
  sandbox->cgroup_ = SandboxCgroup::Create(
      {"agent-swarm-" + sandbox->spec_.id, sandbox->spec_.cpu_count, sandbox->spec_.memory_mb});
  if (isolation == Isolation::kBubblewrap) {
    if (auto started = sandbox->StartInit(); !started) {
      sandbox->Kill();
      return tl::unexpected(started.error());
    }
  }
  return sandbox;
}

LocalSandbox::~LocalSandbox() { Kill(); }

Result<void> LocalSandbox::StartInit() {
  int keep[2], info[2], ready[2];
  if (pipe2(keep, O_CLOEXEC) != 0) return Internal("pipe failed");
  if (pipe2(info, O_CLOEXEC) != 0) {
    close(keep[0]);
    close(keep[1]);
    return Internal("pipe failed");
  }
  if (pipe2(ready, O_CLOEXEC) != 0) {
    for (int fd : {keep[0], keep[1], info[0], info[1]}) close(fd);
    return Internal("pipe failed");
  }
  const std::string& dir = spec_.dir;
  std::vector<std::string> argv = {BwrapPath(),         "--unshare-pid", "--unshare-ipc",
                                   "--die-with-parent", "--info-fd",     std::to_string(info[1])};
  // Template files land on the read-only root where no mount point may exist for them: each
  // directory that needs one is rebuilt as a tmpfs holding read-only binds of the host's
  // entries (see ShadowDirs), then made read-only again.
  // A working directory outside the writable places (a template's WORKDIR /app) is the
  // sandbox's workspace, bound there writable, as Docker would have made it.
  const std::string& cwd = spec_.default_cwd;
  std::error_code cwd_ec;
  const bool bind_cwd = !cwd.empty() && cwd.front() == '/' && !Under(cwd, "/tmp") &&
                        !Under(cwd, "/home") && !std::filesystem::is_directory(cwd, cwd_ec);
  auto needs = spec_.ro_binds;
  if (bind_cwd) needs.emplace_back(dir + "/workspace", cwd);
  const auto shadows = ShadowDirs(needs);
  const bool shadow_root = !shadows.empty() && shadows.front() == "/";
  if (!shadow_root) argv.insert(argv.end(), {"--ro-bind", "/", "/"});
  for (const auto& shadow : shadows) {
    if (shadow != "/") argv.insert(argv.end(), {"--tmpfs", shadow});
    AppendEntryBinds(shadow, &argv);
  }
  argv.insert(argv.end(), {"--dev", "/dev", "--proc", "/proc"});
  // sandboxd's state (other sandboxes' directories, records) is not for sandboxes to read.
  if (!spec_.hide_dir.empty()) argv.insert(argv.end(), {"--tmpfs", spec_.hide_dir});
  argv.insert(argv.end(),
              {"--bind", dir + "/tmp", "/tmp", "--tmpfs", "/home", "--bind", dir + "/home", kHome,
               "--bind", dir + "/workspace", std::string(kHome) + "/workspace"});
  if (bind_cwd) argv.insert(argv.end(), {"--bind", dir + "/workspace", cwd});
  for (const auto& [source, dest] : spec_.ro_binds) {
    argv.insert(argv.end(), {"--ro-bind", source, dest});
  }
  for (auto it = shadows.rbegin(); it != shadows.rend(); ++it) {
    argv.insert(argv.end(), {"--remount-ro", *it});
  }
  // The init only waits: for EOF on its stdin, which comes when sandboxd closes its end or
  // dies. "ready" tells sandboxd the namespaces and mounts are in place.
  argv.insert(argv.end(), {"--chdir", "/", "--clearenv", "/bin/sh", "-c",
                           "echo ready; read -r _ignored; exit 0"});
  LaunchSpec launch;
  launch.argv = std::move(argv);
  // The id marks the init as this sandbox's for a later sandboxd (KillLeftovers).
  launch.env = {std::string("PATH=") + kDefaultPath, SandboxMarker(spec_.id)};
  launch.stdin_fd = keep[0];
  launch.stdout_fd = ready[1];
  launch.keep_fds = {info[1]};
  launch.cgroup_procs_fds = cgroup_.procs_fds();
  auto pid = Launch(launch);
  close(keep[0]);
  close(info[1]);
  close(ready[1]);
  if (!pid) {
    close(keep[1]);
    close(info[0]);
    close(ready[0]);
    return tl::unexpected(pid.error());
  }
  bwrap_pid_ = *pid;
  keepalive_fd_ = keep[1];
  std::string said = ReadAll(ready[0], kInitTimeout);
  close(ready[0]);
  std::string info_text = ReadAll(info[0], 1s);
  close(info[0]);
  if (said.find("ready") == std::string::npos) {
    return Unavailable("the sandbox did not start (bubblewrap failed to set it up)");
  }
  // bwrap writes {"child-pid": N} (pretty-printed) on the info fd.
  auto info_json = nlohmann::json::parse(info_text, nullptr, false);
  if (info_json.is_object() && info_json.contains("child-pid") &&
      info_json["child-pid"].is_number_integer()) {
    init_pid_ = info_json["child-pid"].get<pid_t>();
  }
  if (init_pid_ <= 0) return Internal("bubblewrap did not report the sandbox's init");
  pid_ns_inode_ = PidNamespaceInode(init_pid_);
  return {};
}

std::vector<std::string> LocalSandbox::Environment(
    const std::map<std::string, std::string>& extra) const {
  std::map<std::string, std::string> env = {
      {"PATH", kDefaultPath},
      {"HOME", isolation_ == Isolation::kBubblewrap ? kHome : spec_.dir + "/home"},
      {"LANG", "C.UTF-8"},
      {"E2B_SANDBOX", "true"},
      {"E2B_SANDBOX_ID", spec_.id}};
  for (const auto& [k, v] : spec_.env_vars) env[k] = v;
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> entries;
  for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
  return entries;
}

std::string LocalSandbox::HostPath(const std::string& inside) const {
  return HostPathIn(spec_.dir, inside);
}

int LocalSandbox::OpenRoot() const {
  if (isolation_ != Isolation::kBubblewrap || init_pid_ <= 0) return -1;
  return open(fmt::format("/proc/{}/root", init_pid_).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

Result<std::shared_ptr<LocalProcess>> LocalSandbox::Start(const StartSpec& start) {
  std::lock_guard lock(mu_);
  if (killed_) return Unavailable("the sandbox is gone");
  std::size_t running = 0;
  for (const auto& [pid, process] : processes_) running += process->running() ? 1 : 0;
  if (running >= spec_.max_processes) {
    return Unavailable(
        fmt::format("the sandbox already runs {} processes, its limit", spec_.max_processes));
  }
  if (start.config.cmd.empty()) return BadRequest("process.cmd is required");

  int out[2], err[2], in[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0) return Internal("pipe failed");
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return Internal("pipe failed");
  }
  if (start.stdin && pipe2(in, O_CLOEXEC) != 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
    return Internal("pipe failed");
  }
  LaunchSpec launch;
  launch.argv.push_back(start.config.cmd);
  launch.argv.insert(launch.argv.end(), start.config.args.begin(), start.config.args.end());
  launch.env = Environment(start.config.envs);
  std::string cwd = start.config.cwd.empty()
                        ? (spec_.default_cwd.empty() ? std::string(kHome) : spec_.default_cwd)
                        : start.config.cwd;
  if (!cwd.empty() && cwd[0] != '/') cwd = std::string(kHome) + "/" + cwd;
  launch.cwd = isolation_ == Isolation::kBubblewrap ? cwd : HostPath(cwd);
  launch.stdin_fd = in[0];
  launch.stdout_fd = out[1];
  launch.stderr_fd = err[1];
  launch.cgroup_procs_fds = cgroup_.procs_fds();
  launch.enter_pid = isolation_ == Isolation::kBubblewrap ? init_pid_ : 0;
  launch.drop_capabilities = true;
  // Outside a PID namespace (the fallback) a kept CAP_KILL would reach the host's processes.
  if (isolation_ == Isolation::kBubblewrap) launch.kept_capabilities = SandboxRootCapabilities();
  auto pid = Launch(launch);
  close(out[1]);
  close(err[1]);
  CloseFd(in[0]);
  if (!pid) {
    close(out[0]);
    close(err[0]);
    CloseFd(in[1]);
    return tl::unexpected(pid.error());
  }
  if (in[1] >= 0) fcntl(in[1], F_SETFL, O_NONBLOCK);
  SpawnedProcess spawned;
  spawned.host_pid = *pid;
  spawned.pid = isolation_ == Isolation::kBubblewrap ? NamespacePid(*pid) : *pid;
  spawned.stdin_fd = in[1];
  spawned.stdout_fd = out[0];
  spawned.stderr_fd = err[0];
  std::optional<Clock::time_point> deadline;
  if (start.timeout && start.timeout->count() > 0) deadline = Clock::now() + *start.timeout;
  auto process = std::make_shared<LocalProcess>(spawned, start.config, start.tag, deadline,
                                                spec_.max_output_bytes);
  process->Start();
  if (isolation_ == Isolation::kProcessGroup) sessions_.push_back(*pid);
  // Ended processes stay for Connect to replay, the oldest dropped beyond the limit.
  if (processes_.size() >= spec_.max_processes * 2) {
    for (auto it = processes_.begin(); it != processes_.end(); ++it) {
      if (!it->second->running()) {
        processes_.erase(it);
        break;
      }
    }
  }
  processes_[spawned.pid] = process;
  return process;
}

std::shared_ptr<LocalProcess> LocalSandbox::FindPid(int pid) const {
  std::lock_guard lock(mu_);
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : it->second;
}

std::shared_ptr<LocalProcess> LocalSandbox::FindTag(const std::string& tag) const {
  std::lock_guard lock(mu_);
  std::shared_ptr<LocalProcess> found;
  for (const auto& [pid, process] : processes_) {
    if (!tag.empty() && process->tag() == tag && (!found || process->running())) found = process;
  }
  return found;
}

std::vector<std::shared_ptr<LocalProcess>> LocalSandbox::Running() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LocalProcess>> running;
  for (const auto& [pid, process] : processes_) {
    if (process->running()) running.push_back(process);
  }
  return running;
}

bool LocalSandbox::alive() {
  std::lock_guard lock(mu_);
  if (killed_) return false;
  if (isolation_ != Isolation::kBubblewrap) return true;
  if (bwrap_reaped_) return false;
  int status = 0;
  if (waitpid(bwrap_pid_, &status, WNOHANG) == bwrap_pid_) bwrap_reaped_ = true;
  return !bwrap_reaped_;
}

std::vector<pid_t> LocalSandbox::LeftoverPids() const {
  std::vector<pid_t> left;
  if (isolation_ == Isolation::kBubblewrap) {
    left = ProcessesInPidNamespace(pid_ns_inode_);
  } else {
    left = ProcessesInSessions(sessions_);
  }
  return left;
}

SandboxTrace LocalSandbox::trace() const {
  std::lock_guard lock(mu_);
  return SandboxTrace{spec_.id, bwrap_pid_, init_pid_, pid_ns_inode_, sessions_};
}

std::size_t KillLeftovers(const SandboxTrace& trace) {
  std::size_t killed = 0;
  const auto until = Clock::now() + kKillSweepTimeout;
  while (Clock::now() < until) {
    auto left = ProcessesInPidNamespace(trace.pid_ns_inode);
    for (pid_t pid : ProcessesInSessions(trace.sessions)) left.push_back(pid);
    std::erase_if(left, [&](pid_t pid) { return !HasSandboxMarker(pid, trace.id); });
    if (left.empty()) break;
    for (pid_t pid : left) {
      if (kill(pid, SIGKILL) == 0) ++killed;
    }
    std::this_thread::sleep_for(10ms);
  }
  return killed;
}

void LocalSandbox::Kill() {
  std::map<int, std::shared_ptr<LocalProcess>> processes;
  {
    std::lock_guard lock(mu_);
    if (killed_) return;
    killed_ = true;
    processes = processes_;
  }
  // The namespace's pid 1 dying makes the kernel kill every process in it. Its parent, the
  // bwrap sandboxd started, reaps it and exits: killing that bwrap too would orphan the init
  // to the host's pid 1, which may never reap it (WaitChild kills bwrap only if it hangs).
  if (init_pid_ > 0) kill(init_pid_, SIGKILL);
  CloseFd(keepalive_fd_);
  for (pid_t session : sessions_) kill(-session, SIGKILL);
  for (auto& [pid, process] : processes) process->Signal(SIGKILL);
  if (bwrap_pid_ > 0 && !bwrap_reaped_) {
    WaitChild(bwrap_pid_, 2s);
    bwrap_reaped_ = true;
  }
  // Whatever is still there (started by a process that left its session, or a straggler in
  // the cgroup) is found in /proc and killed, until nothing is left.
  const auto until = Clock::now() + kKillSweepTimeout;
  while (true) {
    auto left = LeftoverPids();
    for (pid_t pid : cgroup_.Members()) {
      if (!IsZombie(pid)) left.push_back(pid);
    }
    if (left.empty() || Clock::now() >= until) break;
    for (pid_t pid : left) kill(pid, SIGKILL);
    std::this_thread::sleep_for(10ms);
  }
  for (auto& [pid, process] : processes) process->WaitEnded(2s);
  // A group cannot be removed while an exiting process (the orphaned init, not yet reaped by
  // the host's init) still counts in it: retry for a moment.
  const auto cgroup_until = Clock::now() + 2s;
  while (true) {
    cgroup_.Remove();
    if (cgroup_.dirs().empty() || Clock::now() >= cgroup_until) break;
    std::this_thread::sleep_for(10ms);
  }
  if (!cgroup_.dirs().empty()) {
    log::Warn("cgroup left behind", {{"sandboxID", spec_.id}, {"dir", cgroup_.dirs().front()}});
  }
  std::error_code ec;
  std::filesystem::remove_all(spec_.dir, ec);
}

}  // namespace swarm::sandbox
