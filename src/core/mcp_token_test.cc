#include "core/mcp_token.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

constexpr const char* kKey = "swarm-key";
constexpr const char* kTask = "3f1c9a2e-0000-4000-8000-000000000001";

TEST(McpTokenTest, RoundTripsForTheSameAgentAndKey) {
  const std::string token = MintMcpTaskToken(kKey, "agent-1", kTask);
  EXPECT_TRUE(token.starts_with("mcpt." + std::string(kTask) + "."));
  EXPECT_EQ(token.find(kKey), std::string::npos);
  EXPECT_EQ(VerifyMcpTaskToken(kKey, "agent-1", token), std::optional<std::string>(kTask));
}

TEST(McpTokenTest, IsWorthNothingForAnotherAgentKeyOrTask) {
  const std::string token = MintMcpTaskToken(kKey, "agent-1", kTask);
  EXPECT_FALSE(VerifyMcpTaskToken(kKey, "agent-2", token));
  EXPECT_FALSE(VerifyMcpTaskToken("other-key", "agent-1", token));
  EXPECT_FALSE(VerifyMcpTaskToken("", "agent-1", token));
  std::string other_task = token;
  other_task[5] = other_task[5] == '3' ? '4' : '3';
  EXPECT_FALSE(VerifyMcpTaskToken(kKey, "agent-1", other_task));
}

TEST(McpTokenTest, RefusesMalformedTokens) {
  const std::string token = MintMcpTaskToken(kKey, "agent-1", kTask);
  for (const std::string& bad :
       {std::string(), std::string("mcpt."), std::string("mcpt..") + std::string(64, 'a'),
        token.substr(0, token.size() - 1), token + "0", std::string(kKey), "Bearer " + token,
        "mcpt.a.b." + token.substr(token.rfind('.') + 1),
        "mcpt." + std::string(300, 'x') + token.substr(token.rfind('.'))}) {
    EXPECT_FALSE(VerifyMcpTaskToken(kKey, "agent-1", bad)) << bad;
  }
}

}  // namespace
}  // namespace swarm
