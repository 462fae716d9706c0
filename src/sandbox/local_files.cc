#include "sandbox/local_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace swarm::sandbox {
namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

int OpenInRoot(int root, const std::string& absolute, int flags, mode_t mode = 0) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const std::string relative = absolute.substr(absolute.find_first_not_of('/') == std::string::npos
                                                   ? absolute.size()
                                                   : absolute.find_first_not_of('/'));
  return static_cast<int>(
      syscall(SYS_openat2, root, relative.empty() ? "." : relative.c_str(), &how, sizeof how));
}

tl::unexpected<Error> FileError(int err, const std::string& path) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(fmt::format("path '{}' does not exist", path));
    case EISDIR:
      return BadRequest(fmt::format("path '{}' is a directory", path));
    case EROFS:
    case EACCES:
    case EPERM:
      return Forbidden(fmt::format("path '{}' is not writable in the sandbox", path));
    case EXDEV:
    case ELOOP:
      return BadRequest(fmt::format("path '{}' leads outside the sandbox", path));
    default:
      return BadRequest(fmt::format("path '{}': {}", path, std::strerror(err)));
  }
}

// Makes every missing directory of `absolute_dir` (itself included) one at a time inside the
// root. False (errno set) when one cannot be made.
bool MakeDirsInRoot(int root, const std::string& absolute_dir) {
  std::string prefix;
  for (const auto& part : std::filesystem::path(absolute_dir)) {
    if (part == "/" || part.empty()) continue;
    const std::string dir_of_part = prefix.empty() ? "/" : prefix;
    prefix += "/" + part.string();
    Fd existing(OpenInRoot(root, prefix, O_PATH | O_DIRECTORY));
    if (existing.fd >= 0) continue;
    if (errno != ENOENT) return false;
    Fd holder(OpenInRoot(root, dir_of_part, O_PATH | O_DIRECTORY));
    if (holder.fd < 0) return false;
    // A plain name under a directory resolved in the root: mkdirat follows no symlink.
    if (mkdirat(holder.fd, part.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

// Opens `absolute` for writing, making its missing parents inside the root.
int CreateInRoot(int root, const std::string& absolute) {
  int fd = OpenInRoot(root, absolute, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0644);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (!MakeDirsInRoot(root, std::filesystem::path(absolute).parent_path().string())) return -1;
  return OpenInRoot(root, absolute, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0644);
}

// Opens a path of the sandbox: inside its root, or at its host path without one.
int OpenSandboxPath(const LocalSandbox& sandbox, const std::string& absolute, int flags) {
  Fd root(sandbox.OpenRoot());
  if (root.fd >= 0) return OpenInRoot(root.fd, absolute, flags);
  return open(sandbox.HostPath(absolute).c_str(), flags | O_CLOEXEC);
}

SandboxFileInfo InfoFromStat(const struct stat& st, std::string name, std::string path) {
  SandboxFileInfo info;
  info.name = std::move(name);
  info.path = std::move(path);
  info.type = S_ISREG(st.st_mode)   ? SandboxFileInfo::Type::kFile
              : S_ISDIR(st.st_mode) ? SandboxFileInfo::Type::kDirectory
              : S_ISLNK(st.st_mode) ? SandboxFileInfo::Type::kSymlink
                                    : SandboxFileInfo::Type::kOther;
  info.size = st.st_size;
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.modified_unix_ms = int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  return info;
}

std::string LinkTarget(int dirfd, const char* name) {
  char buffer[4096];
  ssize_t n = readlinkat(dirfd, name, buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

Result<void> ListInto(int dirfd, const std::string& path, int depth, std::size_t max_entries,
                      std::vector<SandboxFileInfo>* out) {
  int copy = dup(dirfd);
  if (copy < 0) return FileError(errno, path);
  DIR* dir = fdopendir(copy);
  if (!dir) {
    close(copy);
    return FileError(errno, path);
  }
  std::vector<std::string> subdirs;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (out->size() >= max_entries) {
      closedir(dir);
      return BadRequest(fmt::format("'{}' has more than {} entries", path, max_entries));
    }
    struct stat st {};
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    auto info = InfoFromStat(st, name, JoinPath(path, name));
    if (info.type == SandboxFileInfo::Type::kSymlink) {
      info.symlink_target = LinkTarget(dirfd, name.c_str());
    }
    if (info.type == SandboxFileInfo::Type::kDirectory && depth > 1) subdirs.push_back(name);
    out->push_back(std::move(info));
  }
  closedir(dir);
  for (const auto& name : subdirs) {
    Fd sub(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.fd < 0) continue;
    if (auto listed = ListInto(sub.fd, JoinPath(path, name), depth - 1, max_entries, out);
        !listed) {
      return listed;
    }
  }
  return {};
}

// Removes `name` under `dirfd`, a directory tree included, never following a symlink.
bool RemoveAt(int dirfd, const std::string& name, int depth_left) {
  struct stat st {};
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (!S_ISDIR(st.st_mode)) return unlinkat(dirfd, name.c_str(), 0) == 0;
  if (depth_left <= 0) {
    errno = ELOOP;
    return false;
  }
  Fd sub(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (sub.fd < 0) return false;
  int copy = dup(sub.fd);
  DIR* dir = copy >= 0 ? fdopendir(copy) : nullptr;
  if (!dir) {
    if (copy >= 0) close(copy);
    return false;
  }
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    const std::string child = entry->d_name;
    if (child != "." && child != "..") names.push_back(child);
  }
  closedir(dir);
  for (const auto& child : names) {
    if (!RemoveAt(sub.fd, child, depth_left - 1)) return false;
  }
  return unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0;
}

}  // namespace

std::string AbsoluteSandboxPath(std::string_view path) {
  if (!path.empty() && path.front() == '/') return std::string(path);
  if (path.empty() || path == "." || path == "~") return "/home/user";
  if (path.substr(0, 2) == "~/") path.remove_prefix(2);
  return "/home/user/" + std::string(path);
}

Result<std::string> ReadSandboxFile(const LocalSandbox& sandbox, std::string_view path,
                                    std::size_t max_bytes) {
  const std::string absolute = AbsoluteSandboxPath(path);
  Fd root(sandbox.OpenRoot());
  // O_NONBLOCK: a FIFO a sandbox put there must not hold a request thread (only regular
  // files are read below).
  Fd file(root.fd >= 0
              ? OpenInRoot(root.fd, absolute, O_RDONLY | O_NONBLOCK)
              : open(sandbox.HostPath(absolute).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.fd < 0) return FileError(errno, std::string(path));
  struct stat st {};
  if (fstat(file.fd, &st) != 0) return FileError(errno, std::string(path));
  if (S_ISDIR(st.st_mode)) return FileError(EISDIR, std::string(path));
  if (!S_ISREG(st.st_mode)) {
    return BadRequest(fmt::format("path '{}' is not a regular file", path));
  }
  std::string content;
  char buffer[65536];
  while (true) {
    ssize_t n = read(file.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(errno, std::string(path));
    if (n == 0) break;
    if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
      return MakeError(ErrorCode::kPayloadTooLarge,
                       fmt::format("path '{}' is larger than the {}-byte limit", path, max_bytes));
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

Result<std::string> WriteSandboxFile(const LocalSandbox& sandbox, std::string_view path,
                                     std::string_view content) {
  const std::string absolute = AbsoluteSandboxPath(path);
  Fd root(sandbox.OpenRoot());
  int fd;
  if (root.fd >= 0) {
    fd = CreateInRoot(root.fd, absolute);
  } else {
    const std::string host = sandbox.HostPath(absolute);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(host).parent_path(), ec);
    fd = open(host.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
  }
  Fd file(fd);
  if (file.fd < 0) return FileError(errno, std::string(path));
  struct stat st {};
  if (fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return BadRequest(fmt::format("path '{}' is not a regular file", path));
  }
  while (!content.empty()) {
    ssize_t n = write(file.fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(errno, std::string(path));
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return absolute;
}

Result<SandboxFileInfo> StatSandboxPath(const LocalSandbox& sandbox, std::string_view path) {
  const std::string absolute = AbsoluteSandboxPath(path);
  Fd fd(OpenSandboxPath(sandbox, absolute, O_PATH | O_NOFOLLOW));
  if (fd.fd < 0) return FileError(errno, std::string(path));
  struct stat st {};
  if (fstatat(fd.fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    return FileError(errno, std::string(path));
  }
  auto name = std::filesystem::path(absolute).filename().string();
  auto info = InfoFromStat(st, name.empty() ? "/" : name, absolute);
  if (info.type == SandboxFileInfo::Type::kSymlink) info.symlink_target = LinkTarget(fd.fd, "");
  return info;
}

Result<std::vector<SandboxFileInfo>> ListSandboxDir(const LocalSandbox& sandbox,
                                                    std::string_view path, int depth,
                                                    std::size_t max_entries) {
  const std::string absolute = AbsoluteSandboxPath(path);
  Fd dir(OpenSandboxPath(sandbox, absolute, O_RDONLY | O_DIRECTORY | O_NONBLOCK));
  if (dir.fd < 0) return FileError(errno, std::string(path));
  std::vector<SandboxFileInfo> entries;
  auto listed = ListInto(dir.fd, absolute, std::clamp(depth, 1, 16), max_entries, &entries);
  if (!listed) return tl::unexpected(listed.error());
  return entries;
}

Result<SandboxFileInfo> MakeSandboxDir(const LocalSandbox& sandbox, std::string_view path) {
  const std::string absolute = AbsoluteSandboxPath(path);
  if (StatSandboxPath(sandbox, absolute)) {
    return Conflict(fmt::format("path '{}' already exists", path));
  }
  Fd root(sandbox.OpenRoot());
  if (root.fd >= 0) {
    if (!MakeDirsInRoot(root.fd, absolute)) return FileError(errno, std::string(path));
  } else {
    std::error_code ec;
    std::filesystem::create_directories(sandbox.HostPath(absolute), ec);
    if (ec) return FileError(ec.value(), std::string(path));
  }
  return StatSandboxPath(sandbox, absolute);
}

Result<void> RemoveSandboxPath(const LocalSandbox& sandbox, std::string_view path) {
  const std::string absolute = AbsoluteSandboxPath(path);
  const auto as_path = std::filesystem::path(absolute).lexically_normal();
  const std::string name = as_path.filename().string();
  if (name.empty() || name == "." || name == "..") {
    return BadRequest(fmt::format("path '{}' cannot be removed", path));
  }
  Fd parent(OpenSandboxPath(sandbox, as_path.parent_path().string(), O_PATH | O_DIRECTORY));
  if (parent.fd < 0) return FileError(errno, std::string(path));
  if (!RemoveAt(parent.fd, name, 64)) return FileError(errno, std::string(path));
  return {};
}

}  // namespace swarm::sandbox
