#include "worker/task_dirs.h"

#include <stdlib.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "core/log.h"

namespace swarm::worker {
namespace {

namespace fs = std::filesystem;

// Task ids are server-made UUIDs, but a path segment must never climb out of the root; a long
// one is cut (the random suffix keeps it unique).
std::string Segment(const std::string& id) {
  std::string out;
  for (unsigned char c : id) {
    if (out.size() == 100) break;
    out += std::isalnum(c) || c == '-' || c == '_' ? static_cast<char>(c) : '_';
  }
  return out.empty() ? "_" : out;
}

void RemoveLogged(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) log::Warn("cannot remove task dir", {{"dir", dir.string()}, {"error", ec.message()}});
}

}  // namespace

Result<TaskDirs> PrepareTaskDirs(const fs::path& root, const std::string& task_id) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", root.string(), ec.message()));
  std::string pattern = (root / (Segment(task_id) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Internal(
        fmt::format("cannot create a task dir in {}: {}", root.string(), std::strerror(errno)));
  }
  const fs::path base = pattern;
  TaskDirs dirs{base, base / "work", base / "home"};
  // Traverse-only for others: the CLI's user reaches work and home, which it is handed.
  fs::permissions(base, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::replace, ec);
  for (const fs::path& dir : {dirs.work, dirs.home}) {
    fs::create_directory(dir, ec);
    if (ec) {
      RemoveLogged(base);
      return Internal(fmt::format("cannot create task dir {}: {}", dir.string(), ec.message()));
    }
    // Owner only: the home dir receives the CLI's credentials.
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  return dirs;
}

void RemoveTaskDirs(const TaskDirs& dirs) { RemoveLogged(dirs.base); }

void RemoveTaskHome(const TaskDirs& dirs) { RemoveLogged(dirs.home); }

}  // namespace swarm::worker
