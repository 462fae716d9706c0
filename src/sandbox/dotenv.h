// Dotenv files (`.env`, `--env-file`) read the way the seed's E2B commands read them, so one
// file means the same environment to both.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

// A dotenv file is configuration, not data: reading stops with an error past this size.
inline constexpr std::size_t kMaxDotenvBytes = 1024 * 1024;

// True for a name the shell and the seed accept: ^[A-Za-z_][A-Za-z0-9_]*$.
bool IsValidEnvKey(std::string_view key);

// The variables of dotenv `text`, later lines winning. One `KEY=VALUE` a line; blank lines
// and lines starting with `#` are skipped, so are lines without `=` or with an invalid key
// (as the seed does: a dotenv file often holds lines meant for other tools). An optional
// `export ` prefix; the value trimmed; "double quoted" values take the escapes \n \r \t \" \\;
// 'single quoted' values are literal; an unquoted value ends at a ` #` comment.
StringMap ParseDotenv(std::string_view text);

// ParseDotenv of the file at `path`: an error naming the path when it cannot be read or is
// larger than kMaxDotenvBytes.
Result<StringMap> ReadDotenvFile(const std::string& path);

}  // namespace swarm::sandbox
