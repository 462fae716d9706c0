#include "api/field_reader.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

using nlohmann::json;

TEST(ParseJsonObject, RejectsMalformedAndNonObjects) {
  EXPECT_EQ(ParseJsonObject("{\"task\":").error().message, "malformed JSON in request body");
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

}  // namespace
}  // namespace swarm
