#include "stub_llm/request_log.h"

#include <gtest/gtest.h>

#include "core/redact.h"

namespace swarm::stub_llm {
namespace {

class RequestLogTest : public testing::Test {
 protected:
  void TearDown() override { ClearSecretsForTest(); }
};

TEST_F(RequestLogTest, CredentialHeadersShowOnlyTheirLength) {
  nlohmann::json h = RedactedHeaders({{"authorization", "Bearer sk-secret-abcdef"},
                                      {"x-api-key", "sk-ant-fake-000"},
                                      {"cookie", "session=zzz"},
                                      {"anthropic-version", "2023-06-01"},
                                      {"x-claude-code-session-id", "1a63"}});
  EXPECT_EQ(h["authorization"], "[REDACTED] (23 bytes)");
  EXPECT_EQ(h["x-api-key"], "[REDACTED] (15 bytes)");
  EXPECT_EQ(h["cookie"], "[REDACTED] (11 bytes)");
  EXPECT_EQ(h["anthropic-version"], "2023-06-01");
  EXPECT_EQ(h["x-claude-code-session-id"], "1a63");
  EXPECT_EQ(h.dump().find("sk-"), std::string::npos);
}

TEST_F(RequestLogTest, KeysSeenInHeadersAreRedactedEverywhere) {
  RedactedHeaders({{"authorization", "Bearer sk-echoed-key-123"}});
  EXPECT_EQ(Redact("the prompt quotes sk-echoed-key-123"), "the prompt quotes [REDACTED]");
}

TEST_F(RequestLogTest, SensitiveNames) {
  EXPECT_TRUE(IsSensitiveHeader("proxy-authorization"));
  EXPECT_TRUE(IsSensitiveHeader("x-goog-api-key"));
  EXPECT_TRUE(IsSensitiveHeader("set-cookie"));
  EXPECT_TRUE(IsSensitiveHeader("x-auth-token"));
  EXPECT_FALSE(IsSensitiveHeader("content-type"));
  EXPECT_FALSE(IsSensitiveHeader("user-agent"));
}

TEST_F(RequestLogTest, Query) {
  EXPECT_EQ(RedactedQuery("beta=true"), "beta=true");
  EXPECT_EQ(RedactedQuery("key=abc&beta=true&Access_Token=x"),
            "key=[REDACTED]&beta=true&Access_Token=[REDACTED]");
  EXPECT_EQ(RedactedQuery("flag&x=1"), "flag&x=1");
  EXPECT_EQ(RedactedQuery(""), "");
}

}  // namespace
}  // namespace swarm::stub_llm
