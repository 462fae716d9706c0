// Starting one process for sandboxd's local sandboxes: fork and exec with an explicit
// environment (never sandboxd's own), chosen descriptors, a new session, cgroups joined before
// exec, and optionally inside an existing sandbox's namespaces (IPC, mount, PID) and root.
//
// Entering a PID namespace only takes effect for children, so a process started "inside"
// goes through a short-lived helper: the helper enters the namespaces and clones the real
// process with CLONE_PARENT, making it a child of sandboxd (which can then wait for it and
// read its exit status) while its PID namespace is the sandbox's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace swarm::sandbox {

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH of `env` if it has no '/'
  std::vector<std::string> env;   // "K=V" entries: the whole environment of the process
  std::string cwd;                // empty: "/"
  // The child's standard descriptors; -1: /dev/null.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Descriptors the child keeps open across exec at their own numbers (close-on-exec cleared).
  std::vector<int> keep_fds;
  // Opened cgroup.procs files the child writes itself into before exec.
  std::vector<int> cgroup_procs_fds;
  // The sandbox to enter: /proc/<pid>/ns/{ipc,mnt,pid} and /proc/<pid>/root of a process in
  // it; 0: start the process on the host.
  pid_t enter_pid = 0;
  // Drops every capability but `kept_capabilities` (a mask of CAP_* bits) and sets
  // no_new_privs, so root inside a sandbox cannot remount the read-only root.
  bool drop_capabilities = false;
  uint64_t kept_capabilities = 0;
};

// What root keeps inside a bubblewrap sandbox: a container's file-ownership and user-switching
// rights (a worker hands each CLI run to an unprivileged user) and signals within its own PID
// namespace, but nothing that reaches past the namespaces: no mount, no device nodes, no raw
// sockets on the shared network, no ptrace, no module or admin calls.
uint64_t SandboxRootCapabilities();

// Starts the process and returns its pid (in sandboxd's PID namespace), once exec succeeded.
Result<pid_t> Launch(const LaunchSpec& spec);

// The pid of `host_pid` as its own PID namespace numbers it (the last NSpid field of
// /proc/<pid>/status), or host_pid when that is unknown.
pid_t NamespacePid(pid_t host_pid);

// The inode of /proc/<pid>/ns/pid, 0 if unreadable: two processes share a PID namespace iff
// these match.
unsigned long PidNamespaceInode(pid_t pid);

// Host pids of every live process in the PID namespace with inode `ns_inode`.
std::vector<pid_t> ProcessesInPidNamespace(unsigned long ns_inode);

// Host pids of every live process whose session id is one of `sessions`.
std::vector<pid_t> ProcessesInSessions(const std::vector<pid_t>& sessions);

// True for a process that exited and waits to be reaped (it holds nothing but a pid).
bool IsZombie(pid_t pid);

// Finds `name` in the PATH directories of `path_value`; "" when absent.
std::string FindExecutable(const std::string& name, const std::string& path_value);

}  // namespace swarm::sandbox
