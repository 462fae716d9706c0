// Where a command's API key comes from. Never argv by default: any process on the machine can
// read another's command line (ps, /proc/PID/cmdline). The environment or a file are the
// ways in; the seed's `--api-key VALUE` belongs only where the seed's CLI has it
// (`e2b start-worker`); elsewhere it is refused without echoing the key.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"

namespace swarm {

inline constexpr char kArgvKeyRefused[] =
    "--api-key is not accepted here: other processes on this machine can read a command "
    "line; set AGENT_SWARM_API_KEY or pass --api-key-file";

// The key in `path`: its first line without surrounding whitespace. An error naming the file
// when it cannot be read or that line is empty.
Result<std::string> ReadApiKeyFile(const std::string& path);

// The key a command uses: --api-key-file, else --api-key (where a command has it), else
// $AGENT_SWARM_API_KEY, else $API_KEY (empty strings count as unset). An error when none is
// set or the file fails.
Result<std::string> ResolveApiKey(const std::string& key_file, const std::string& key_flag,
                                  const std::optional<std::string>& env_key,
                                  const std::optional<std::string>& env_legacy_key);

// ResolveApiKey with this process's $AGENT_SWARM_API_KEY and $API_KEY.
Result<std::string> ResolveApiKeyFromEnvironment(const std::string& key_file,
                                                 const std::string& key_flag);

}  // namespace swarm
