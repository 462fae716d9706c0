#include "core/json_writer.h"

#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace swarm {
namespace {

TEST(JsonWriter, NestedContainersAndCommas) {
  JsonWriter w;
  w.BeginObject()
      .Field("a", int64_t{1})
      .Key("list")
      .BeginArray()
      .String("x")
      .Null()
      .BeginObject()
      .EndObject()
      .EndArray()
      .Field("b", true)
      .Field("none", std::optional<std::string>())
      .Key("pi")
      .Double(3.25)
      .Key("raw")
      .Raw(R"({"k":[1]})")
      .EndObject();
  EXPECT_EQ(w.str(),
            R"({"a":1,"list":["x",null,{}],"b":true,"none":null,"pi":3.25,"raw":{"k":[1]}})");
}

TEST(JsonWriter, EscapesLikeAParserExpects) {
  const std::string nasty = std::string("quote\" back\\ nl\n tab\t bell\x07 nul") + '\0' + "é€😀";
  JsonWriter w;
  w.String(nasty);
  EXPECT_EQ(nlohmann::json::parse(w.str()).get<std::string>(), nasty);
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  JsonWriter w;
  w.String("ok\xff\xc3(end");
  auto parsed = nlohmann::json::parse(w.str());  // throws on invalid UTF-8
  EXPECT_EQ(parsed.get<std::string>(), "ok\xEF\xBF\xBD\xEF\xBF\xBD(end");
}

TEST(JsonWriter, NonFiniteNumbersAreNull) {
  JsonWriter w;
  w.BeginArray().Double(std::nan("")).Double(INFINITY).Double(0.1).EndArray();
  EXPECT_EQ(w.str(), "[null,null,0.1]");
}

}  // namespace
}  // namespace swarm
