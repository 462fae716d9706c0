// Where a command's API key comes from. Never argv by default: any process on the machine can
// read another's command line (ps, /proc/PID/cmdline). The environment or a file are the
// ways in; the seed's `--api-key VALUE` is kept on the client commands only, with a warning.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"

namespace swarm {

inline constexpr char kArgvKeyWarning[] =
    "warning: --api-key puts the key on the command line, where other processes on this "
    "machine can read it; prefer AGENT_SWARM_API_KEY or --api-key-file";

// The key in `path`: its first line without surrounding whitespace. An error naming the file
// when it cannot be read or that line is empty.
Result<std::string> ReadApiKeyFile(const std::string& path);

// The key a client command uses: --api-key-file, else --api-key, else $AGENT_SWARM_API_KEY,
// else $API_KEY (empty strings count as unset). An error when none is set or the file fails.
Result<std::string> ResolveApiKey(const std::string& key_file, const std::string& key_flag,
                                  const std::optional<std::string>& env_key,
                                  const std::optional<std::string>& env_legacy_key);

// ResolveApiKey with this process's $AGENT_SWARM_API_KEY and $API_KEY.
Result<std::string> ResolveApiKeyFromEnvironment(const std::string& key_file,
                                                 const std::string& key_flag);

}  // namespace swarm
