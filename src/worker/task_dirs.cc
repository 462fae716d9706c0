#include "worker/task_dirs.h"

#include <cctype>
#include <system_error>

#include <fmt/format.h>

#include "core/log.h"

namespace swarm::worker {
namespace {

namespace fs = std::filesystem;

// Task ids are server-made UUIDs, but a path segment must never climb out of the root.
std::string Segment(const std::string& id) {
  std::string out;
  for (unsigned char c : id) {
    out += std::isalnum(c) || c == '-' || c == '_' ? static_cast<char>(c) : '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

Result<TaskDirs> PrepareTaskDirs(const fs::path& root, const std::string& task_id) {
  const fs::path base = root / Segment(task_id);
  TaskDirs dirs{base / "work", base / "home"};
  std::error_code ec;
  fs::remove_all(base, ec);
  if (ec) {
    return Internal(fmt::format("cannot clear task dir {}: {}", base.string(), ec.message()));
  }
  for (const fs::path& dir : {dirs.work, dirs.home}) {
    fs::create_directories(dir, ec);
    if (ec) {
      return Internal(fmt::format("cannot create task dir {}: {}", dir.string(), ec.message()));
    }
    // Owner only: the home dir receives the CLI's credentials.
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  return dirs;
}

void RemoveTaskHome(const TaskDirs& dirs) {
  std::error_code ec;
  fs::remove_all(dirs.home, ec);
  if (ec) {
    log::Warn("cannot remove task home", {{"dir", dirs.home.string()}, {"error", ec.message()}});
  }
}

}  // namespace swarm::worker
