#include "sandboxd/create_request.h"

#include <gtest/gtest.h>

namespace swarm::sandboxd {
namespace {

using nlohmann::json;

TEST(CreateRequestTest, ReadsTheSdksFieldsWithE2bsDefaults) {
  auto request = ParseCreateRequest(
      {{"templateID", "worker"}, {"envVars", {{"A", "1"}}}, {"metadata", {{"app", "x"}}}}, false);
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->template_id, "worker");
  EXPECT_EQ(request->timeout, std::chrono::seconds(15));
  EXPECT_EQ(request->env_vars.at("A"), "1");
  EXPECT_EQ(request->metadata.at("app"), "x");
  EXPECT_FALSE(request->secure);
  EXPECT_FALSE(request->cpu_count);

  auto v2 = ParseCreateRequest({{"templateID", "base"}, {"timeout", 60}, {"cpuCount", 4}}, true);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2->timeout, std::chrono::seconds(60));
  EXPECT_TRUE(v2->secure);
  EXPECT_EQ(v2->cpu_count, 4);
}

TEST(CreateRequestTest, RefusesMalformedFieldsAsBadRequest) {
  for (const json& body :
       {json::array(), json{{"timeout", 5}}, json{{"templateID", 7}},
        json{{"templateID", "b"}, {"timeout", "5"}},
        json{{"templateID", "b"}, {"envVars", {{"A", 1}}}},
        json{{"templateID", "b"}, {"metadata", "k=v"}}, json{{"templateID", "b"}, {"cpuCount", 0}},
        json{{"templateID", "b"}, {"memoryMB", 1ll << 40}}}) {
    auto request = ParseCreateRequest(body, true);
    ASSERT_FALSE(request) << body.dump();
    EXPECT_EQ(request.error().code, ErrorCode::kBadRequest) << body.dump();
  }
}

}  // namespace
}  // namespace swarm::sandboxd
