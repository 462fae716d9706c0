#include "core/json_fields.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

using nlohmann::json;

TEST(JsonFields, ReadFieldsOfTheirType) {
  const json o = json::parse(R"({"s":"ok","b":true,"i":-7,"u":42,"a":[1,2]})");
  EXPECT_EQ(TextField(o, "s"), "ok");
  EXPECT_TRUE(BoolField(o, "b", false));
  EXPECT_EQ(Int64Field(o, "i"), -7);
  EXPECT_EQ(Int64Field(o, "u"), 42);
  EXPECT_EQ(ArrayField(o, "a").size(), 2u);
}

TEST(JsonFields, AnythingElseIsTheFallbackAndNeverAThrow) {
  const json o = json::parse(
      R"({"s":1,"b":"yes","i":1e300,"f":1.0,"u":18446744073709551615,"a":{"x":1},"n":null})");
  EXPECT_EQ(TextField(o, "s", "none"), "none");
  EXPECT_EQ(TextField(o, "missing"), "");
  EXPECT_FALSE(BoolField(o, "b", false));
  EXPECT_TRUE(BoolField(o, "n", true));
  EXPECT_FALSE(Int64Field(o, "i"));  // value("i", 0) would be an undefined cast
  EXPECT_FALSE(Int64Field(o, "f"));
  EXPECT_FALSE(Int64Field(o, "u"));  // would wrap to -1
  EXPECT_TRUE(ArrayField(o, "a").empty());
  for (const json& other : {json::array({1}), json("text"), json(3), json()}) {
    EXPECT_EQ(TextField(other, "s", "none"), "none");
    EXPECT_TRUE(BoolField(other, "b", true));
    EXPECT_FALSE(Int64Field(other, "i"));
    EXPECT_TRUE(ArrayField(other, "a").empty());
  }
}

}  // namespace
}  // namespace swarm
