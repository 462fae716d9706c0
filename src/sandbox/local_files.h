// Files of a local sandbox as its processes see them, for envd's GET/POST /files. With
// bubblewrap, paths resolve inside the sandbox's root (openat2 RESOLVE_IN_ROOT on the
// namespace init's root), so a symlink in the sandbox cannot point sandboxd at a host file
// outside it; without, /home/user and /tmp map to the sandbox's directories.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace swarm::sandbox
