#include "api/requests.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(ValidateAgentId, AcceptsOrdinaryIds) {
  EXPECT_EQ(*ValidateAgentId("worker-1"), "worker-1");
  EXPECT_EQ(*ValidateAgentId("3f0c9a5e-aaaa-bbbb-cccc-0123456789ab"),
            "3f0c9a5e-aaaa-bbbb-cccc-0123456789ab");
  EXPECT_TRUE(ValidateAgentId("agent-\xc3\xa9"));  // é
  EXPECT_TRUE(ValidateAgentId(std::string(256, 'a')));
}

TEST(ValidateAgentId, RefusesEachBrokenRule) {
  struct Case {
    std::string id;
    const char* says;
  };
  for (const Case& c : {
           Case{"", "must not be empty"}, Case{std::string(257, 'a'), "at most 256 bytes"},
           Case{"bad\xff", "valid UTF-8"}, Case{"cut\xc3", "valid UTF-8"},
           Case{"tab\there", "control characters"},
           Case{std::string("nul\0x", 5), "control characters"},
           Case{"del\x7f", "control characters"},
           Case{"c1\xc2\x85", "control characters"},  // U+0085 NEXT LINE
       }) {
    auto r = ValidateAgentId(c.id);
    ASSERT_FALSE(r) << c.id;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_THAT(r.error().message, HasSubstr(c.says)) << c.id;
  }
  EXPECT_TRUE(ValidateAgentId("nbsp\xc2\xa0ok"));  // U+00A0 is not a control
}

TEST(RequestFields, NamesAndCapabilitiesMustBeUtf8) {
  auto bad_name = ParseRegisterAgent(json{{"name", "w\xff"}}, "a1");
  ASSERT_FALSE(bad_name);
  EXPECT_THAT(bad_name.error().message, HasSubstr("name must be valid UTF-8"));
  auto bad_cap = ParseRegisterAgent(json{{"name", "w"}, {"capabilities", {"x\xfe"}}}, "a1");
  ASSERT_FALSE(bad_cap);
  EXPECT_THAT(bad_cap.error().message, HasSubstr("capabilities must be valid UTF-8"));
  EXPECT_TRUE(ParseRegisterAgent(json{{"name", "w\xc3\xa9"}, {"capabilities", {"go"}}}, "a1"));
}

TEST(RequestFields, RegistrationCarriesTheWorkerAndCliVersions) {
  auto given = ParseRegisterAgent(
      json{{"name", "w"}, {"version", "0.8.0+abc1234"}, {"cliVersion", "2.1.3 (Claude Code)"}},
      "a1");
  ASSERT_TRUE(given) << given.error().message;
  EXPECT_EQ(given->version, "0.8.0+abc1234");
  EXPECT_EQ(given->cli_version, "2.1.3 (Claude Code)");

  auto absent = ParseRegisterAgent(json{{"name", "w"}, {"cliVersion", nullptr}}, "a1");
  ASSERT_TRUE(absent) << absent.error().message;
  EXPECT_EQ(absent->version, std::nullopt);  // kept by the store on a re-registration
  EXPECT_EQ(absent->cli_version, std::nullopt);

  EXPECT_TRUE(ParseRegisterAgent(json{{"name", "w"}, {"version", std::string(200, 'v')}}, "a1"));
}

TEST(RequestFields, VersionsAreBoundedUtf8Strings) {
  struct Case {
    json body;
    std::string says;
  };
  for (const Case& c : {
           Case{json{{"name", "w"}, {"version", std::string(201, 'v')}},
                "version must be at most 200 bytes"},
           Case{json{{"name", "w"}, {"cliVersion", std::string(201, 'c')}},
                "cliVersion must be at most 200 bytes"},
           Case{json{{"name", "w"}, {"version", "1.0\xff"}}, "version must be valid UTF-8"},
           Case{json{{"name", "w"}, {"cliVersion", "\xc3"}}, "cliVersion must be valid UTF-8"},
           Case{json{{"name", "w"}, {"version", 8}}, "version"},
           Case{json{{"name", "w"}, {"cliVersion", json::array({"2.1"})}}, "cliVersion"},
       }) {
    auto r = ParseRegisterAgent(c.body, "a1");
    ASSERT_FALSE(r) << c.says;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_THAT(r.error().message, HasSubstr(c.says));
  }
}

TEST(RequestFields, HugeNumbersAreRangeErrorsNotWrapped) {
  for (const char* text :
       {R"({"task":"t","priority":1e300})", R"({"task":"t","priority":18446744073709551615})",
        R"({"task":"t","priority":-1e300})"}) {
    auto r = ParseCreateTask(json::parse(text));
    ASSERT_FALSE(r) << text;
    EXPECT_THAT(r.error().message, HasSubstr("priority")) << text;
  }
  auto cost = ParseSessionCost(json::parse(
      R"({"sessionId":"s","agentId":"a","totalCostUsd":1,"inputTokens":18446744073709551615})"));
  ASSERT_FALSE(cost);
  EXPECT_THAT(cost.error().message, HasSubstr("inputTokens"));
  auto logs = ParseSessionLogs(json::parse(R"({"sessionId":"s","lines":["x"],"iteration":1e300})"));
  ASSERT_FALSE(logs);
  EXPECT_THAT(logs.error().message, HasSubstr("iteration"));
}

TEST(RequestFields, OutputSchemaRegexesAreCheckedAtCreation) {
  auto r = ParseCreateTask(
      json::parse(R"({"task":"t","outputSchema":{"properties":{"reply":{"pattern":"(["}}}})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_THAT(r.error().message, HasSubstr("outputSchema.properties.reply.pattern"));
}

}  // namespace
}  // namespace swarm
