#include "core/redact.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/json_writer.h"

namespace swarm {
namespace {

class RedactTest : public testing::Test {
 protected:
  void TearDown() override { ClearSecretsForTest(); }
};

TEST_F(RedactTest, ReplacesEveryOccurrence) {
  RegisterSecret("sk-secret-123");
  EXPECT_EQ(Redact("key=sk-secret-123 again sk-secret-123"), "key=[REDACTED] again [REDACTED]");
}

TEST_F(RedactTest, LeavesOtherTextAlone) {
  RegisterSecret("sk-secret-123");
  EXPECT_EQ(Redact("nothing here"), "nothing here");
}

TEST_F(RedactTest, IgnoresTinySecrets) {
  RegisterSecret("ab");
  EXPECT_EQ(Redact("abc"), "abc");
}

TEST_F(RedactTest, SeveralSecrets) {
  RegisterSecret("first-secret");
  RegisterSecret("second-secret");
  RegisterSecret("first-secret");
  EXPECT_EQ(Redact("first-secret/second-secret"), "[REDACTED]/[REDACTED]");
}

TEST_F(RedactTest, ASecretIsFoundAfterJsonEscaping) {
  // Log lines are redacted once serialized: the secret then appears escaped.
  const std::string secret = "sk-\"quoted\\back\nslash-77";
  RegisterSecret(secret);
  const std::string dumped = nlohmann::json{{"key", secret}}.dump();
  ASSERT_EQ(dumped.find(secret), std::string::npos);  // the test means something
  EXPECT_EQ(Redact(dumped), R"({"key":"[REDACTED]"})");
  std::string written;
  AppendJsonString(written, "x " + secret);
  EXPECT_EQ(Redact(written), "\"x [REDACTED]\"");
  EXPECT_EQ(Redact("raw " + secret), "raw [REDACTED]");
}

TEST_F(RedactTest, UrlCredentials) {
  EXPECT_EQ(RedactUrlCredentials("http://user:p%40ss@host:3013/api"),
            "http://[REDACTED]@host:3013/api");
  EXPECT_EQ(RedactUrlCredentials("https://token@github.com/x and ftp://a:b@c"),
            "https://[REDACTED]@github.com/x and ftp://[REDACTED]@c");
  // No user information: nothing changes.
  EXPECT_EQ(RedactUrlCredentials("http://127.0.0.1:3013/api?x=a@b"),
            "http://127.0.0.1:3013/api?x=a@b");
  EXPECT_EQ(RedactUrlCredentials(R"({"api":"http://host","to":"me@example.com"})"),
            R"({"api":"http://host","to":"me@example.com"})");
  EXPECT_EQ(RedactUrlCredentials("http://@host"), "http://@host");
  EXPECT_EQ(RedactUrlCredentials("trailing ://"), "trailing ://");
  EXPECT_EQ(RedactUrlCredentials("no url"), "no url");
}

TEST_F(RedactTest, RedactAlsoRemovesUrlCredentials) {
  EXPECT_EQ(Redact(R"({"api":"http://admin:hunter2@10.0.0.1:3013"})"),
            R"({"api":"http://[REDACTED]@10.0.0.1:3013"})");
}

}  // namespace
}  // namespace swarm
