#include "core/redact.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace swarm
