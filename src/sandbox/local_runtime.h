// sandboxd's local sandboxes. Each sandbox is an isolated process tree:
//  - with bubblewrap: one long-lived bwrap "init" per sandbox owns new PID, IPC and mount
//    namespaces over the host's root mounted read-only, with its own writable /tmp,
//    /home/user and /home/user/workspace (directories under sandboxd's --root, which itself is
//    hidden from sandboxes), /dev, /proc of its own namespace, and no environment. Commands
//    are started inside those namespaces (local_launch.h) with only the sandbox's envVars,
//    without capabilities. Killing the init ends the PID namespace, so the kernel kills every
//    process in it; the init also dies with sandboxd (--die-with-parent, and its stdin is a
//    pipe from sandboxd whose end closes when sandboxd dies).
//  - without it (bwrap missing or failing its probe): every command in a session of its own,
//    killed by session; sandboxd logs that the sandbox is not isolated.
// Optional cgroup CPU and memory limits (local_cgroup.h) hold the whole tree.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "sandbox/local_cgroup.h"
#include "sandbox/local_process.h"

namespace swarm::sandbox {

enum class Isolation { kBubblewrap, kProcessGroup };

// Finds bwrap and checks that it can make a sandbox here (sandboxd must run as root to start
// commands inside one); otherwise kProcessGroup with the reason in `why`.
Isolation ProbeIsolation(std::string* why);

struct LocalSandboxSpec {
  std::string id;
  std::string dir;       // where its writable directories live (made here, removed by Kill)
  std::string hide_dir;  // sandboxd's state directory, hidden from inside
  std::map<std::string, std::string> env_vars;
  std::optional<int> cpu_count;
  std::optional<int> memory_mb;
  // Host files or directories shown read-only at a path inside (template files).
  std::vector<std::pair<std::string, std::string>> ro_binds;
  std::string default_cwd;  // empty: /home/user
  std::size_t max_processes = 64;
  std::size_t max_output_bytes = 1 << 20;
};

struct StartSpec {
  ProcessConfig config;
  std::string tag;
  bool stdin = false;  // keep a pipe to its stdin (SendInput); else /dev/null
  std::optional<std::chrono::milliseconds> timeout;  // its deadline; none: runs until killed
};

// What finds a sandbox's processes again from another sandboxd run (its record on disk).
struct SandboxTrace {
  std::string id;  // every process of the sandbox has E2B_SANDBOX_ID=<id> in its environment
  pid_t bwrap_pid = 0;
  pid_t init_pid = 0;
  unsigned long pid_ns_inode = 0;  // kBubblewrap
  std::vector<pid_t> sessions;     // kProcessGroup
};

// Kills every process still alive of a sandbox an earlier sandboxd left; returns how many.
// Only processes that carry the sandbox's id in their environment are touched: after a
// restart, pids and namespace inodes may belong to someone else.
std::size_t KillLeftovers(const SandboxTrace& trace);

class LocalSandbox {
 public:
  static Result<std::unique_ptr<LocalSandbox>> Create(Isolation isolation, LocalSandboxSpec spec);
  ~LocalSandbox();  // Kill()
  LocalSandbox(const LocalSandbox&) = delete;
  LocalSandbox& operator=(const LocalSandbox&) = delete;

  Result<std::shared_ptr<LocalProcess>> Start(const StartSpec& start);
  std::shared_ptr<LocalProcess> FindPid(int pid) const;
  std::shared_ptr<LocalProcess> FindTag(const std::string& tag) const;
  std::vector<std::shared_ptr<LocalProcess>> Running() const;

  // Ends the whole tree, waits (bounded) until no process of it is left in /proc, and removes
  // its directories. Idempotent.
  void Kill();
  // False once its init is gone (killed, or died): the sandbox is over.
  bool alive();
  // Host pids of processes of this sandbox still alive (nothing, after Kill).
  std::vector<pid_t> LeftoverPids() const;

  Isolation isolation() const { return isolation_; }
  const std::string& id() const { return spec_.id; }
  const std::string& dir() const { return spec_.dir; }
  pid_t init_pid() const { return init_pid_; }  // host pid of the namespace's pid 1; 0: none
  // How the sandbox's files are reached from sandboxd: an O_PATH descriptor of its root (to
  // resolve paths in it, RESOLVE_IN_ROOT), or -1 when the sandbox sees the host's root.
  int OpenRoot() const;
  // Where a path inside maps for a sandbox without its own root: /home/user and /tmp are its
  // directories; the rest is the host's.
  std::string HostPath(const std::string& inside) const;
  SandboxTrace trace() const;
  const std::string& skipped_limits() const { return cgroup_.skipped(); }
  const std::vector<std::string>& cgroup_dirs() const { return cgroup_.dirs(); }

 private:
  LocalSandbox(Isolation isolation, LocalSandboxSpec spec);
  Result<void> StartInit();
  std::vector<std::string> Environment(const std::map<std::string, std::string>& extra) const;

  const Isolation isolation_;
  const LocalSandboxSpec spec_;
  SandboxCgroup cgroup_;
  pid_t bwrap_pid_ = 0;  // the bwrap we started (host pid namespace)
  pid_t init_pid_ = 0;   // its child, pid 1 of the sandbox's namespace
  unsigned long pid_ns_inode_ = 0;
  int keepalive_fd_ = -1;  // write end of the init's stdin: its EOF ends the sandbox
  mutable std::mutex mu_;
  bool killed_ = false;
  bool bwrap_reaped_ = false;
  std::map<int, std::shared_ptr<LocalProcess>> processes_;  // by sandbox pid
  std::vector<pid_t> sessions_;                             // kProcessGroup: the sessions to kill
};

}  // namespace swarm::sandbox
