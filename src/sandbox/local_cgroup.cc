#include "sandbox/local_cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace swarm::sandbox {
namespace {

bool WriteFile(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  close(fd);
  return ok;
}

// sandboxd's own group in hierarchy `controller` ("" for v2's unified line "0::").
std::string OwnGroup(const std::string& controller) {
  std::ifstream file("/proc/self/cgroup");
  std::string line;
  while (std::getline(file, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controller.empty()
            ? controllers.empty()
            : ("," + controllers + ",").find("," + controller + ",") != std::string::npos) {
      return path == "/" ? "" : path;
    }
  }
  return "";
}

}  // namespace

SandboxCgroup SandboxCgroup::Create(const CgroupRequest& request, const std::string& fs_root) {
  SandboxCgroup group;
  if (!request.cpu_count && !request.memory_mb) return group;
  auto make = [&](const std::string& dir) {
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      group.skipped_ += fmt::format("cannot create {}: {}; ", dir, std::strerror(errno));
      return false;
    }
    group.dirs_.push_back(dir);
    int fd = open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) group.procs_fds_.push_back(fd);
    return true;
  };
  struct stat st {};
  if (stat((fs_root + "/cgroup.controllers").c_str(), &st) == 0) {
    // v2: one group with both controllers (when the parent delegates them).
    std::string dir = fs_root + OwnGroup("") + "/" + request.name;
    if (!make(dir)) return group;
    if (request.cpu_count &&
        !WriteFile(dir + "/cpu.max", fmt::format("{} 100000", *request.cpu_count * 100000))) {
      group.skipped_ += "cpu.max is not writable; ";
    }
    if (request.memory_mb &&
        !WriteFile(dir + "/memory.max", std::to_string(int64_t{*request.memory_mb} << 20))) {
      group.skipped_ += "memory.max is not writable; ";
    }
    return group;
  }
  if (request.cpu_count) {
    std::string dir = fs_root + "/cpu" + OwnGroup("cpu") + "/" + request.name;
    if (make(dir) &&
        !(WriteFile(dir + "/cpu.cfs_period_us", "100000") &&
          WriteFile(dir + "/cpu.cfs_quota_us", std::to_string(*request.cpu_count * 100000)))) {
      group.skipped_ += "cpu.cfs_quota_us is not writable; ";
    }
  }
  if (request.memory_mb) {
    std::string dir = fs_root + "/memory" + OwnGroup("memory") + "/" + request.name;
    if (make(dir) && !WriteFile(dir + "/memory.limit_in_bytes",
                                std::to_string(int64_t{*request.memory_mb} << 20))) {
      group.skipped_ += "memory.limit_in_bytes is not writable; ";
    }
  }
  return group;
}

SandboxCgroup::~SandboxCgroup() { Remove(); }

SandboxCgroup::SandboxCgroup(SandboxCgroup&& other) noexcept { *this = std::move(other); }

SandboxCgroup& SandboxCgroup::operator=(SandboxCgroup&& other) noexcept {
  if (this != &other) {
    Remove();
    dirs_ = std::move(other.dirs_);
    procs_fds_ = std::move(other.procs_fds_);
    skipped_ = std::move(other.skipped_);
    other.dirs_.clear();
    other.procs_fds_.clear();
  }
  return *this;
}

std::vector<pid_t> SandboxCgroup::Members() const {
  std::vector<pid_t> pids;
  for (const auto& dir : dirs_) {
    std::ifstream procs(dir + "/cgroup.procs");
    pid_t pid;
    while (procs >> pid) pids.push_back(pid);
  }
  return pids;
}

bool SandboxCgroup::RemoveLeftover(const std::string& name, const std::string& fs_root) {
  bool all = true;
  for (const auto& dir :
       {fs_root + OwnGroup("") + "/" + name, fs_root + "/cpu" + OwnGroup("cpu") + "/" + name,
        fs_root + "/memory" + OwnGroup("memory") + "/" + name}) {
    if (rmdir(dir.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) all = false;
  }
  return all;
}

void SandboxCgroup::Remove() {
  for (int fd : procs_fds_) close(fd);
  procs_fds_.clear();
  std::vector<std::string> left;
  for (const auto& dir : dirs_) {
    if (rmdir(dir.c_str()) != 0 && errno != ENOENT) left.push_back(dir);
  }
  dirs_ = std::move(left);
}

}  // namespace swarm::sandbox
