#include "core/bounded_json.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace swarm {
namespace {

using ::testing::HasSubstr;

std::string NestedArrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(BoundedJsonTest, ParsesAnOrdinaryDocument) {
  auto v = ParseBoundedJson(R"({"a":[1,2,{"b":"c"}],"d":null})");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ((*v)["a"][2]["b"], "c");
}

TEST(BoundedJsonTest, ParsesScalarsAtTheTopLevel) {
  EXPECT_EQ(*ParseBoundedJson("42"), 42);
  EXPECT_EQ(*ParseBoundedJson("\"x\""), "x");
}

TEST(BoundedJsonTest, AcceptsNestingExactlyAtTheLimit) {
  auto v = ParseBoundedJson(NestedArrays(64));
  ASSERT_TRUE(v) << v.error().message;
}

TEST(BoundedJsonTest, RejectsNestingOneLevelPastTheLimit) {
  auto v = ParseBoundedJson(NestedArrays(65));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(v.error().message, "JSON is nested deeper than the 64-level limit");
}

TEST(BoundedJsonTest, RejectsTheIssuesDeepDocumentsWithoutCrashing) {
  // The two documents from issue 6: an outputSchema ~60,000 levels deep and an output
  // {"reply":[[[…]]]} 200,000 levels deep.
  std::string schema;
  for (int i = 0; i < 60000; ++i) schema += R"({"items":)";
  schema += "{}" + std::string(60000, '}');
  auto a = ParseBoundedJson(schema);
  ASSERT_FALSE(a);
  EXPECT_THAT(a.error().message, HasSubstr("64-level limit"));

  auto b = ParseBoundedJson(R"({"reply":)" + NestedArrays(200000) + "}");
  ASSERT_FALSE(b);
  EXPECT_THAT(b.error().message, HasSubstr("64-level limit"));
}

TEST(BoundedJsonTest, RejectsDeepDocumentsEvenWhenTheyAreAlsoMalformed) {
  auto v = ParseBoundedJson(std::string(100000, '['));
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error().message, HasSubstr("nested deeper"));
}

TEST(BoundedJsonTest, CountsObjectsAndArraysAlike) {
  JsonLimits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(ParseBoundedJson(R"({"a":[1]})", limits));
  EXPECT_FALSE(ParseBoundedJson(R"({"a":[{}]})", limits));
  EXPECT_FALSE(ParseBoundedJson(R"([{"a":{}}])", limits));
}

TEST(BoundedJsonTest, BracketsInsideStringsDoNotCount) {
  JsonLimits limits;
  limits.max_depth = 1;
  auto v = ParseBoundedJson(R"(["[[[[{{{{\"]]]"])", limits);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ((*v)[0], "[[[[{{{{\"]]]");
}

TEST(BoundedJsonTest, RejectsInputOverTheByteLimit) {
  JsonLimits limits;
  limits.max_bytes = 10;
  auto v = ParseBoundedJson(R"(["0123456789"])", limits);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message, "JSON is larger than the 10-byte limit");
  EXPECT_TRUE(ParseBoundedJson("[1234567]", limits));
}

TEST(BoundedJsonTest, MalformedJsonSaysWhere) {
  auto v = ParseBoundedJson(R"({"a":})");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kBadRequest);
  EXPECT_THAT(v.error().message, HasSubstr("malformed JSON: "));
  EXPECT_THAT(v.error().message, HasSubstr("column 6"));
  EXPECT_THAT(v.error().message, ::testing::Not(HasSubstr("[json.exception")));
}

TEST(BoundedJsonTest, RejectsTrailingGarbageEmptyInputAndBadUtf8) {
  EXPECT_FALSE(ParseBoundedJson("{} x"));
  EXPECT_FALSE(ParseBoundedJson(""));
  EXPECT_FALSE(ParseBoundedJson("\"\xff\""));
}

TEST(BoundedJsonTest, RejectsNumbersThatOverflowADouble) {
  auto v = ParseBoundedJson("[1e400]");
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error().message, HasSubstr("malformed JSON"));
}

TEST(BoundedJsonTest, CommentsOnlyWhenAllowed) {
  const char* text = "// a note\n{\"a\": 1 /* one */}";
  EXPECT_FALSE(ParseBoundedJson(text));
  JsonLimits limits;
  limits.allow_comments = true;
  auto v = ParseBoundedJson(text, limits);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ((*v)["a"], 1);
}

TEST(BoundedJsonTest, DepthUpToMeasuresBuiltValues) {
  EXPECT_EQ(JsonDepthUpTo(nlohmann::json(3), 10), 0u);
  EXPECT_EQ(JsonDepthUpTo(nlohmann::json::parse(R"({"a":[[1]]})"), 10), 3u);
  // Stops as soon as the limit is passed.
  EXPECT_EQ(JsonDepthUpTo(nlohmann::json::parse(NestedArrays(50)), 5), 6u);
}

}  // namespace
}  // namespace swarm
