#include "harness/orphan_sweep.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string_view>

namespace swarm::harness {
namespace {

// A process's environment is at most a few MiB; a marker comes from the runner, near the end.
constexpr std::streamsize kMaxEnviron = 4 << 20;

// Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. Together
// with the pid it names one process for good (a pid alone is reused).
std::optional<std::string> StartTime(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  // After "(comm)" come fields 3, 4, ...: the start time is the 20th of them.
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  return field;
}

std::optional<std::string> MarkerOf(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/environ", std::ios::binary);
  if (!in) return std::nullopt;
  std::string environ(static_cast<size_t>(kMaxEnviron), '\0');
  in.read(environ.data(), kMaxEnviron);
  environ.resize(static_cast<size_t>(in.gcount()));
  const std::string prefix = std::string(kWorkerRunEnv) + "=";
  size_t start = 0;
  while (start < environ.size()) {
    size_t end = environ.find('\0', start);
    if (end == std::string::npos) end = environ.size();
    const std::string_view entry(environ.data() + start, end - start);
    if (entry.substr(0, prefix.size()) == prefix) return std::string(entry.substr(prefix.size()));
    start = end + 1;
  }
  return std::nullopt;
}

// The inode of this process's PID namespace: pids mean something only inside one.
std::string PidNamespace() {
  struct stat st {};
  return ::stat("/proc/self/ns/pid", &st) == 0 ? std::to_string(st.st_ino) : "0";
}

// Whether the marker's worker still runs, or may: a worker in another PID namespace (a
// sandbox's, seen from its host) cannot be looked up here by its pid, so its processes are
// not this sweep's to judge. Markers without a namespace are judged here.
bool WorkerAlive(const std::string& marker) {
  const size_t colon = marker.find(':');
  if (colon == std::string::npos) return false;
  const std::string pid = marker.substr(0, colon);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return false;
  const size_t ns_colon = marker.find(':', colon + 1);
  if (ns_colon != std::string::npos && marker.substr(ns_colon + 1) != PidNamespace()) return true;
  const auto start = StartTime(pid);
  return start && *start == marker.substr(colon + 1, ns_colon - colon - 1);
}

}  // namespace

std::string WorkerRunMarker() {
  const std::string pid = std::to_string(::getpid());
  return pid + ":" + StartTime(pid).value_or("0") + ":" + PidNamespace();
}

int SweepOrphanedRuns() {
  const std::string self = std::to_string(::getpid());
  int killed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (pid == self) continue;
    const auto marker = MarkerOf(pid);
    if (!marker || WorkerAlive(*marker)) continue;
    if (::kill(static_cast<pid_t>(std::stol(pid)), SIGKILL) == 0) ++killed;
  }
  return killed;
}

}  // namespace swarm::harness
