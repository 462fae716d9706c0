#include "sandbox/e2b_config.h"

#include <gtest/gtest.h>

namespace swarm::sandbox {
namespace {

SandboxHandle Handle(std::string id, std::string domain = "") {
  return SandboxHandle{std::move(id), "", std::move(domain)};
}

TEST(E2bConfig, DefaultsToE2bAppWithTheSharedEnvdHost) {
  auto config = E2bConfig::FromEnv({{"E2B_API_KEY", "e2b_k"}});
  EXPECT_EQ(config.api_key, "e2b_k");
  EXPECT_EQ(config.domain, "e2b.app");
  EXPECT_EQ(config.api_url, "https://api.e2b.app");
  EXPECT_EQ(config.sandbox_url, "");
  EXPECT_EQ(config.EnvdUrl(Handle("iabc")), "https://sandbox.e2b.app");
}

TEST(E2bConfig, ACustomDomainGivesPerSandboxEnvdHosts) {
  auto config = E2bConfig::FromEnv({{"E2B_DOMAIN", "foo.test"}});
  EXPECT_EQ(config.api_url, "https://api.foo.test");
  EXPECT_EQ(config.EnvdUrl(Handle("iabc")), "https://49983-iabc.foo.test");
  // The sandbox's own domain (from the create reply) wins over the configured one.
  EXPECT_EQ(config.EnvdUrl(Handle("iabc", "bar.test")), "https://49983-iabc.bar.test");
  EXPECT_EQ(config.EnvdUrl(Handle("iabc", "e2b.dev")), "https://sandbox.e2b.dev");
}

TEST(E2bConfig, SharedHostForEveryE2bDomain) {
  for (const char* domain : {"e2b.app", "e2b.dev", "e2b.pro", "e2b-staging.dev"}) {
    auto config = E2bConfig::FromEnv({{"E2B_DOMAIN", domain}});
    EXPECT_EQ(config.EnvdUrl(Handle("i1")), std::string("https://sandbox.") + domain);
  }
}

TEST(E2bConfig, UrlsFromTheEnvironmentAreUsedVerbatim) {
  auto config = E2bConfig::FromEnv({{"E2B_API_URL", "http://127.0.0.1:4000/"},
                                    {"E2B_SANDBOX_URL", "http://127.0.0.1:4001"},
                                    {"E2B_DOMAIN", "foo.test"}});
  EXPECT_EQ(config.api_url, "http://127.0.0.1:4000");
  EXPECT_EQ(config.EnvdUrl(Handle("iabc", "bar.test")), "http://127.0.0.1:4001");
}

TEST(E2bConfig, EmptyVariablesCountAsUnset) {
  auto config = E2bConfig::FromEnv({{"E2B_API_URL", ""}, {"E2B_DOMAIN", ""}});
  EXPECT_EQ(config.api_url, "https://api.e2b.app");
}

TEST(E2bConfig, ProcessEnvironmentReadsEnviron) {
  ::setenv("SWARM_E2B_CONFIG_TEST", "x=y", 1);
  auto env = ProcessEnvironment();
  EXPECT_EQ(env["SWARM_E2B_CONFIG_TEST"], "x=y");
  ::unsetenv("SWARM_E2B_CONFIG_TEST");
}

}  // namespace
}  // namespace swarm::sandbox
