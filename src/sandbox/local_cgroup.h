// CPU and memory limits for one local sandbox through cgroups, where the machine lets
// sandboxd write them: cgroup v2 (one directory with cpu.max and memory.max) or v1 (a
// directory in the cpu and in the memory hierarchy). Each group is made below sandboxd's own
// group, so it nests under whatever limits sandboxd runs with. Where nothing is writable the
// sandbox runs without limits and the reason is logged once per sandbox.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace swarm::sandbox {

struct CgroupRequest {
  std::string name;              // the directory name, unique per sandbox
  std::optional<int> cpu_count;  // whole CPUs of quota
  std::optional<int> memory_mb;
};

class SandboxCgroup {
 public:
  // Makes the groups; never fails: a group that cannot be made is skipped (see skipped()).
  // `fs_root` is normally /sys/fs/cgroup (tests pass a fake tree).
  static SandboxCgroup Create(const CgroupRequest& request,
                              const std::string& fs_root = "/sys/fs/cgroup");
  SandboxCgroup() = default;
  ~SandboxCgroup();
  SandboxCgroup(SandboxCgroup&& other) noexcept;
  SandboxCgroup& operator=(SandboxCgroup&& other) noexcept;

  // Opened cgroup.procs files: a process writes "0" to join (see LaunchSpec).
  const std::vector<int>& procs_fds() const { return procs_fds_; }
  const std::vector<std::string>& dirs() const { return dirs_; }
  // Why limits are missing, for the log; empty when every requested limit is set.
  const std::string& skipped() const { return skipped_; }
  // Pids still in the groups (to kill what escaped everything else).
  std::vector<pid_t> Members() const;
  // Removes the (empty) groups; retried by the destructor.
  void Remove();
  // Removes the groups named `name` that an earlier sandboxd left (after killing their
  // processes), wherever Create would have made them. True when none is left.
  static bool RemoveLeftover(const std::string& name,
                             const std::string& fs_root = "/sys/fs/cgroup");

 private:
  std::vector<std::string> dirs_;
  std::vector<int> procs_fds_;
  std::string skipped_;
};

}  // namespace swarm::sandbox
