#include "harness/json_extract.h"

#include <gtest/gtest.h>

#include "core/bounded_json.h"

namespace swarm::harness {
namespace {

TEST(ExtractJsonValue, TakesTheWholeTextWhenItParses) {
  EXPECT_EQ(ExtractJsonValue(R"({"reply":"pong"})"), R"({"reply":"pong"})");
  EXPECT_EQ(ExtractJsonValue("  \n{\"reply\": \"pong\"}\n"), "{\"reply\": \"pong\"}");
  EXPECT_EQ(ExtractJsonValue("[1, 2]"), "[1, 2]");
  EXPECT_EQ(ExtractJsonValue("42"), "42");
  EXPECT_EQ(ExtractJsonValue("\"pong\""), "\"pong\"");
}

TEST(ExtractJsonValue, TakesAFencedJsonBlock) {
  EXPECT_EQ(ExtractJsonValue("Here it is:\n```json\n{\"reply\":\"pong\"}\n```\nDone."),
            "{\"reply\":\"pong\"}");
  EXPECT_EQ(ExtractJsonValue("```JSON\n[true]\n```"), "[true]");
}

TEST(ExtractJsonValue, SkipsAFenceThatDoesNotParse) {
  EXPECT_EQ(ExtractJsonValue("```json\n{oops}\n```\n```json\n{\"a\":1}\n```"), "{\"a\":1}");
}

TEST(ExtractJsonValue, TakesTheFirstBalancedValueThatParses) {
  EXPECT_EQ(ExtractJsonValue(R"(Sure! {"reply":"pong"} Anything else?)"), R"({"reply":"pong"})");
  EXPECT_EQ(ExtractJsonValue(R"(I {think} so: {"reply":"a } in a string"} ok)"),
            R"({"reply":"a } in a string"})");
  EXPECT_EQ(ExtractJsonValue(R"(nested {"a":{"b":[1,{"c":"\"}"}]}} tail)"),
            R"({"a":{"b":[1,{"c":"\"}"}]}})");
  EXPECT_EQ(ExtractJsonValue("list: [1, 2] and {\"x\":1}"), "[1, 2]");
  EXPECT_EQ(ExtractJsonValue("```\n{\"plain\":\"fence\"}\n```"), "{\"plain\":\"fence\"}");
}

TEST(ExtractJsonValue, FindsNothingInPlainText) {
  EXPECT_EQ(ExtractJsonValue("pong"), std::nullopt);
  EXPECT_EQ(ExtractJsonValue(""), std::nullopt);
  EXPECT_EQ(ExtractJsonValue("{ unbalanced"), std::nullopt);
  EXPECT_EQ(ExtractJsonValue("{not: json}"), std::nullopt);
  EXPECT_EQ(ExtractJsonValue(std::string(100000, '{')), std::nullopt);  // bounded, not quadratic
}

TEST(ExtractJsonValue, NeverAnswersWithAValueNestedDeeperThanTheLimit) {
  // At most a part of it that is within the limit (the server judges that against the schema).
  for (const size_t depth : {65, 200'000}) {
    const std::string deep =
        "{\"reply\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    const auto found = ExtractJsonValue(deep);
    if (found) {
      EXPECT_NE(*found, deep);
      EXPECT_TRUE(ParseBoundedJson(*found).has_value());
    }
  }
  const std::string shallow = std::string(60, '[') + std::string(60, ']');
  EXPECT_EQ(ExtractJsonValue(shallow), shallow);
}

}  // namespace
}  // namespace swarm::harness
