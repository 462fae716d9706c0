// Files of a local sandbox as its processes see them, for envd's GET/POST /files. With
// bubblewrap, paths resolve inside the sandbox's root (openat2 RESOLVE_IN_ROOT on the
// namespace init's root), so a symlink in the sandbox cannot point sandboxd at a host file
// outside it; without, /home/user and /tmp map to the sandbox's directories.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "sandbox/local_runtime.h"

namespace swarm::sandbox {

// `path` made absolute: a relative path is under /home/user, as envd resolves it.
std::string AbsoluteSandboxPath(std::string_view path);

// The file's bytes. kNotFound "path '<p>' does not exist", kBadRequest for a directory,
// kPayloadTooLarge over `max_bytes`.
Result<std::string> ReadSandboxFile(const LocalSandbox& sandbox, std::string_view path,
                                    std::size_t max_bytes);

// Creates or replaces the file (and its missing parent directories); returns its absolute
// path. kForbidden where the sandbox cannot write (the read-only root).
Result<std::string> WriteSandboxFile(const LocalSandbox& sandbox, std::string_view path,
                                     std::string_view content);

// One directory entry as envd's EntryInfo describes it.
struct SandboxFileInfo {
  enum class Type { kOther, kFile, kDirectory, kSymlink };
  std::string name;
  std::string path;  // absolute, inside the sandbox
  Type type = Type::kOther;
  int64_t size = 0;
  uint32_t mode = 0;  // permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t modified_unix_ms = 0;
  std::string symlink_target;
};

// The entry at `path` itself (a symlink is reported as one). kNotFound when missing.
Result<SandboxFileInfo> StatSandboxPath(const LocalSandbox& sandbox, std::string_view path);
// The entries under directory `path`, `depth` levels down (1: its children), at most
// `max_entries`.
Result<std::vector<SandboxFileInfo>> ListSandboxDir(const LocalSandbox& sandbox,
                                                    std::string_view path, int depth,
                                                    std::size_t max_entries = 10000);
// Makes the directory and its missing parents. kConflict when it exists already.
Result<SandboxFileInfo> MakeSandboxDir(const LocalSandbox& sandbox, std::string_view path);
// Removes a file, symlink or whole directory tree. kNotFound when missing.
Result<void> RemoveSandboxPath(const LocalSandbox& sandbox, std::string_view path);

}  // namespace swarm::sandbox
