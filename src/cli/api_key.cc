#include "cli/api_key.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace swarm {
namespace {

// A key is a line, not a document: reading stops here whatever the file holds.
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

std::string Trimmed(std::string text) {
  constexpr char kSpace[] = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string::npos) return "";
  text.erase(text.find_last_not_of(kSpace) + 1);
  text.erase(0, first);
  return text;
}

}  // namespace

Result<std::string> ReadApiKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return BadRequest(
        fmt::format("--api-key-file {}: cannot be read ({})", path, std::strerror(errno)));
  }
  std::string head(kMaxKeyFileBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  if (in.bad()) return BadRequest(fmt::format("--api-key-file {}: cannot be read", path));
  head.resize(static_cast<std::size_t>(in.gcount()));
  std::string key = Trimmed(head.substr(0, head.find('\n')));
  if (key.empty()) {
    return BadRequest(fmt::format("--api-key-file {}: the first line holds no key", path));
  }
  return key;
}

Result<std::string> ResolveApiKey(const std::string& key_file, const std::string& key_flag,
                                  const std::optional<std::string>& env_key,
                                  const std::optional<std::string>& env_legacy_key) {
  if (!key_file.empty()) return ReadApiKeyFile(key_file);
  if (!key_flag.empty()) return key_flag;
  if (env_key && !env_key->empty()) return *env_key;
  if (env_legacy_key && !env_legacy_key->empty()) return *env_legacy_key;
  return BadRequest("no API key: set AGENT_SWARM_API_KEY (or API_KEY), or pass --api-key-file");
}

Result<std::string> ResolveApiKeyFromEnvironment(const std::string& key_file,
                                                 const std::string& key_flag) {
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  return ResolveApiKey(key_file, key_flag, env("AGENT_SWARM_API_KEY"), env("API_KEY"));
}

}  // namespace swarm
