#include "api/schema_regex.h"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(SchemaRegex, SearchesAnywhereLikeEcma) {
  EXPECT_TRUE(SchemaRegexSearch("b+", "abbc"));
  EXPECT_FALSE(SchemaRegexSearch("^b", "abbc"));
  EXPECT_TRUE(SchemaRegexSearch("\\d{2}-\\w", "x12-y"));
}

TEST(SchemaRegex, TranslatesEcmaUnicodeEscapesOnly) {
  EXPECT_TRUE(SchemaRegexSearch("^\\u00e9$", "\xc3\xa9"));
  EXPECT_TRUE(SchemaRegexSearch("^\\\\u00e9$", "\\u00e9"));  // an escaped backslash, then "u00e9"
  EXPECT_FALSE(CompileSchemaRegex("\\u12"));                 // too short to be an escape
}

TEST(SchemaRegex, BacktrackingPatternsRunInLinearTime) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(SchemaRegexSearch("^(a+)+$", std::string(100000, 'a') + "!"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(SchemaRegex, UnsupportedPatternsSayWhy) {
  auto r = CompileSchemaRegex("(?!x)y");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_THAT(r.error().message, HasSubstr("no lookaround and no backreferences"));
  EXPECT_FALSE(SchemaRegexSearch("(?!x)y", "y"));  // never matches rather than throwing
}

TEST(SchemaRegex, HugeRepetitionsAreRefusedNotCompiled) {
  EXPECT_FALSE(CompileSchemaRegex("((a{1000}){1000}){1000}"));
}

TEST(SchemaRegex, CheckNamesThePlaceOfTheFirstBadRegex) {
  auto r = CheckSchemaRegexes(
      json::parse(R"({"properties":{"a":{"items":[{"type":"string"},{"pattern":"(["}]}}})"));
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("outputSchema.properties.a.items.1.pattern: "));
  EXPECT_TRUE(CheckSchemaRegexes(json::parse(R"({"const":{"pattern":"(["}})")));
}

}  // namespace
}  // namespace swarm
