#include "sandbox/e2b_config.h"

#include <array>

extern char** environ;  // NOLINT: POSIX

namespace swarm::sandbox {
namespace {

// ConnectionConfig.supportedDomains in the JS SDK: these are served by one shared envd host.
constexpr std::array<std::string_view, 4> kSharedHostDomains = {"e2b.app", "e2b.dev", "e2b.pro",
                                                                "e2b-staging.dev"};

std::string ValueOr(const std::map<std::string, std::string>& env, const std::string& name,
                    std::string fallback) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return fallback;
  return it->second;
}

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

E2bConfig E2bConfig::FromEnv(const std::map<std::string, std::string>& env) {
  E2bConfig config;
  config.api_key = ValueOr(env, "E2B_API_KEY", "");
  config.domain = ValueOr(env, "E2B_DOMAIN", std::string(kDefaultE2bDomain));
  config.api_url =
      WithoutTrailingSlash(ValueOr(env, "E2B_API_URL", "https://api." + config.domain));
  config.sandbox_url = WithoutTrailingSlash(ValueOr(env, "E2B_SANDBOX_URL", ""));
  return config;
}

std::string E2bConfig::EnvdUrl(const SandboxHandle& sandbox) const {
  if (!sandbox_url.empty()) return sandbox_url;
  const std::string& host_domain = sandbox.domain.empty() ? domain : sandbox.domain;
  for (auto shared : kSharedHostDomains) {
    if (host_domain == shared) return "https://sandbox." + host_domain;
  }
  return "https://" + std::to_string(kEnvdPort) + "-" + sandbox.sandbox_id + "." + host_domain;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

}  // namespace swarm::sandbox
