#include "core/version.h"

#include <cstdlib>

namespace swarm {

std::string BuildVersion(std::string_view build_sha) {
  std::string version = SWARM_VERSION;
  if (build_sha.empty() || build_sha.size() > 64) return version;
  for (char c : build_sha) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return version;
  }
  return version + "+" + std::string(build_sha);
}

const std::string& BuildVersion() {
  static const std::string version = [] {
    const char* sha = std::getenv("AGENT_SWARM_BUILD_SHA");
    return BuildVersion(sha ? std::string_view(sha) : std::string_view());
  }();
  return version;
}

}  // namespace swarm
