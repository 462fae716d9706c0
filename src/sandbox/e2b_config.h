// Where E2B is and how to reach it, resolved from the environment the way the official SDKs
// resolve it (E2B_API_KEY, E2B_API_URL, E2B_DOMAIN, E2B_SANDBOX_URL), so pointing the variables
// at sandboxd works for our client exactly as it does for the SDK.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

inline constexpr std::string_view kDefaultE2bDomain = "e2b.app";
inline constexpr int kEnvdPort = 49983;

struct E2bConfig {
  std::string api_key;      // secret: sent as X-API-Key, never logged
  std::string api_url;      // control plane base, no trailing slash
  std::string domain;       // E2B_DOMAIN, else e2b.app
  std::string sandbox_url;  // E2B_SANDBOX_URL: envd base for every sandbox; empty: per sandbox

  // Reads the variables from `env` (a copy of the process environment, or a test's map).
  // E2B_API_URL is used verbatim (trailing '/' dropped), else https://api.<domain>.
  static E2bConfig FromEnv(const std::map<std::string, std::string>& env);

  // The envd base URL for `sandbox`: E2B_SANDBOX_URL verbatim when set; the shared host
  // https://sandbox.<domain> for E2B's own domains (routing then rides on the E2b-Sandbox-Id
  // header); else https://49983-<id>.<domain>. <domain> is the sandbox's own, else ours.
  std::string EnvdUrl(const SandboxHandle& sandbox) const;
};

// The process environment as a map, for E2bConfig::FromEnv.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace swarm::sandbox
