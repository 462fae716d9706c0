#include "sandbox/env_redaction.h"

#include <gtest/gtest.h>

#include "core/redact.h"

namespace swarm::sandbox {
namespace {

TEST(EnvRedactionTest, SensitiveKeys) {
  for (const char* key : {"API_KEY", "AGENT_SWARM_API_KEY", "GITHUB_TOKEN", "MY_SERVICE_API_KEY",
                          "X_TOKEN", "DB_PASSWORD", "SIGNING_SECRET", "SSH_PRIVATE_KEY",
                          "codex_oauth", "codex_oauth_2", "OTEL_EXPORTER_OTLP_HEADERS"}) {
    EXPECT_TRUE(IsSensitiveKey(key)) << key;
  }
  for (const char* key : {"MCP_BASE_URL", "API_URL", "APP_URL", "TEMPLATE_REGISTRY_URL",
                          "HARNESS_PROVIDER", "AGENT_ID", "codex_oauth_x", "TOKENS_USED"}) {
    EXPECT_FALSE(IsSensitiveKey(key)) << key;
  }
}

TEST(EnvRedactionTest, ReplacesSensitiveValuesLongestFirstWithTheirKey) {
  const StringMap env = {{"OPENAI_API_KEY", "abcdefgh"},
                         {"AGENT_SWARM_API_KEY", "abcdefgh-longer"},
                         {"SHORT_TOKEN", "1234567"},
                         {"HARNESS_PROVIDER", "codex-provider"}};
  const std::string out =
      RedactWithEnv("k=abcdefgh-longer o=abcdefgh s=1234567 p=codex-provider", env);
  EXPECT_EQ(out,
            "k=[REDACTED:AGENT_SWARM_API_KEY] o=[REDACTED:OPENAI_API_KEY] s=1234567 "
            "p=codex-provider");
}

TEST(EnvRedactionTest, ScrubsTokenShapesAndTheControllersOwnSecrets) {
  ClearSecretsForTest();
  const std::string token = "sk-ant-" + std::string(30, 'a');
  const StringMap controller = {{"E2B_API_KEY", "e2bkey-controller-1"}, {"SHORT_KEY", "short"}};
  const std::string out =
      RedactWithEnv("a " + token + " b e2bkey-controller-1 c sk-learn d", {}, controller);
  EXPECT_EQ(out, "a [REDACTED] b [REDACTED] c sk-learn d");
}

TEST(EnvRedactionTest, ScrubsRegisteredSecrets) {
  ClearSecretsForTest();
  RegisterSecret("registered-secret");
  EXPECT_EQ(RedactWithEnv("x registered-secret y", {}), "x [REDACTED] y");
  ClearSecretsForTest();
}

TEST(EnvRedactionTest, ObjectsLoseTokensAndSensitiveMembers) {
  const nlohmann::json in = {
      {"sandboxId", "sbx1"},
      {"envdAccessToken", "tok"},
      {"trafficAccessToken", "tok2"},
      {"apiKey", "swarm-key"},
      {"nested", {{"githubToken", "ghp"}, {"agentId", "a1"}}},
      {"list", nlohmann::json::array({{{"clientSecret", "s"}}})},
  };
  const nlohmann::json out = RedactObjectWithEnv(in);
  EXPECT_FALSE(out.contains("envdAccessToken"));
  EXPECT_FALSE(out.contains("trafficAccessToken"));
  EXPECT_EQ(out["sandboxId"], "sbx1");
  EXPECT_EQ(out["apiKey"], "[REDACTED:apiKey]");
  EXPECT_EQ(out["nested"]["githubToken"], "[REDACTED:githubToken]");
  EXPECT_EQ(out["nested"]["agentId"], "a1");
  EXPECT_EQ(out["list"][0]["clientSecret"], "[REDACTED:clientSecret]");
}

TEST(EnvRedactionTest, EnvJsonHidesSensitiveValues) {
  const nlohmann::json out =
      RedactedEnvJson({{"API_KEY", "k"}, {"MCP_BASE_URL", "http://x"}, {"SOME_PASSWORD", "p"}});
  EXPECT_EQ(out["API_KEY"], "[REDACTED:API_KEY]");
  EXPECT_EQ(out["SOME_PASSWORD"], "[REDACTED:SOME_PASSWORD]");
  EXPECT_EQ(out["MCP_BASE_URL"], "http://x");
}

}  // namespace
}  // namespace swarm::sandbox
