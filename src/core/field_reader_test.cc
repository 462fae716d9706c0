#include "core/field_reader.h"

#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace swarm {
namespace {

using nlohmann::json;

TEST(ParseJsonObject, RejectsMalformedAndNonObjects) {
  EXPECT_THAT(ParseJsonObject("{\"task\":").error().message,
              ::testing::StartsWith("malformed JSON in request body: "));
  EXPECT_EQ(ParseJsonObject("[1]").error().message, "request body must be a JSON object");
  EXPECT_EQ(ParseJsonObject("").error().code, ErrorCode::kBadRequest);
  EXPECT_TRUE(ParseJsonObject("{}"));
}

TEST(FieldReader, ReadsEachType) {
  const json body = json::parse(R"({"s":"x","i":7,"n":1.5,"b":true,"a":["p","q"],"nul":null})");
  FieldReader r(body);
  EXPECT_EQ(r.RequiredString("s"), "x");
  EXPECT_EQ(r.OptionalString("nul"), std::nullopt);
  EXPECT_EQ(r.OptionalInt("i", 0, 10), 7);
  EXPECT_EQ(r.OptionalNumber("n", 0), 1.5);
  EXPECT_EQ(r.OptionalBool("b"), true);
  EXPECT_EQ(r.StringArray("a"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(r.OptionalInt("absent", 0, 1), std::nullopt);
  EXPECT_TRUE(r.ok());
}

TEST(FieldReader, FirstErrorNamesTheField) {
  const json body = json::parse(R"({"task":5,"priority":"high"})");
  FieldReader r(body);
  r.RequiredString("task");
  r.OptionalInt("priority", 0, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "task must be a string");
}

TEST(FieldReader, RangeAndPresenceRules) {
  {
    const json body = json::parse(R"({"priority":101})");
    FieldReader r(body);
    r.OptionalInt("priority", 0, 100);
    EXPECT_EQ(r.error().message, "priority must be between 0 and 100");
  }
  {
    const json body = json::object();
    FieldReader r(body);
    r.RequiredString("task");
    EXPECT_EQ(r.error().message, "task is required");
  }
  {
    const json body = json::parse(R"({"task":""})");
    FieldReader r(body);
    r.RequiredString("task");
    EXPECT_EQ(r.error().message, "task must not be empty");
  }
  {
    const json body = json::parse(R"({"tags":["a",1]})");
    FieldReader r(body);
    r.StringArray("tags");
    EXPECT_EQ(r.error().message, "tags must be an array of strings");
  }
  {
    const json body = json::parse(R"({"lines":[]})");
    FieldReader r(body);
    r.StringArray("lines", 1);
    EXPECT_EQ(r.error().message, "lines must have at least 1 item(s)");
  }
  {
    const json body = json::parse(R"({"i":1.5})");
    FieldReader r(body);
    r.OptionalInt("i", 0, 10);
    EXPECT_EQ(r.error().message, "i must be an integer");
  }
}

TEST(ParseJsonObject, DeepBodiesAreRefusedNamingTheLimit) {
  const std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = ParseJsonObject(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(r.error().message, "request body: JSON is nested deeper than the 128-level limit");
  // An outputSchema at its own 64-level limit still fits inside a body.
  const std::string fits = R"({"a":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_TRUE(ParseJsonObject(fits));
}

TEST(FieldReader, UnsignedIntegersPastInt64AreOutOfRangeNotWrapped) {
  // 2^64 - 1 used to read back as -1, 2^63 as INT64_MIN.
  for (const char* text : {R"({"i":18446744073709551615})", R"({"i":9223372036854775808})"}) {
    const json body = json::parse(text);
    FieldReader r(body);
    EXPECT_EQ(r.OptionalInt("i", std::numeric_limits<int64_t>::min(), 100), std::nullopt) << text;
    EXPECT_FALSE(r.ok()) << text;
  }
  const json max = json::parse(R"({"i":9223372036854775807})");
  FieldReader ok(max);
  EXPECT_EQ(ok.OptionalInt("i", 0, std::numeric_limits<int64_t>::max()),
            std::numeric_limits<int64_t>::max());
}

TEST(FieldReader, HugeAndFractionalNumbersAreNotIntegers) {
  const json body = json::parse(R"({"i":1e300,"j":-1e300,"k":1.5})");
  for (const char* name : {"i", "j", "k"}) {
    FieldReader r(body);
    EXPECT_EQ(r.OptionalInt(name, 0, 100), std::nullopt);
    EXPECT_THAT(r.error().message, ::testing::HasSubstr("must be an integer"));
  }
}

TEST(FieldReader, NonFiniteNumbersAreRefused) {
  const json body = {{"n", std::numeric_limits<double>::infinity()}};
  FieldReader r(body);
  EXPECT_EQ(r.OptionalNumber("n", 0), std::nullopt);
  EXPECT_FALSE(r.ok());
}

TEST(FieldReader, StringsMustBeValidUtf8) {
  // The parser refuses such bytes; values built in code are checked too, since dump() throws.
  const json body = {{"s", "ok\xff"}, {"a", {"fine", "bad\xc3"}}};
  {
    FieldReader r(body);
    r.RequiredString("s");
    EXPECT_EQ(r.error().message, "s must be valid UTF-8");
  }
  {
    FieldReader r(body);
    EXPECT_EQ(r.OptionalString("s"), std::nullopt);
    EXPECT_FALSE(r.ok());
  }
  {
    FieldReader r(body);
    EXPECT_TRUE(r.StringArray("a").empty());
    EXPECT_EQ(r.error().message, "a must be valid UTF-8");
  }
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a UTF-16 surrogate
}

}  // namespace
}  // namespace swarm
