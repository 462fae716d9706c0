#include "sandbox/local_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// Opens `absolute` for writing, making its missing parents one at a time inside the root.
int CreateInRoot(int root, const std::string& absolute) {
  int fd = OpenInRoot(root, absolute, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0644);
  if (fd >= 0 || errno != ENOENT) return fd;
  std::filesystem::path parent = std::filesystem::path(absolute).parent_path();
  std::string prefix;
  for (const auto& part : parent) {
    if (part == "/") continue;
    const std::string dir_of_part = prefix.empty() ? "/" : prefix;
    prefix += "/" + part.string();
    Fd existing(OpenInRoot(root, prefix, O_PATH | O_DIRECTORY));
    if (existing.fd >= 0) continue;
    if (errno != ENOENT) return -1;
    Fd holder(OpenInRoot(root, dir_of_part, O_PATH | O_DIRECTORY));
    if (holder.fd < 0) return -1;
    // A plain name under a directory resolved in the root: mkdirat follows no symlink.
    if (mkdirat(holder.fd, part.c_str(), 0755) != 0 && errno != EEXIST) return -1;
  }
  return OpenInRoot(root, absolute, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0644);
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

}  // namespace swarm::sandbox
