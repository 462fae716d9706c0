#include "api/output_schema.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;

const json kSeedSchema = json::parse(
    R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})");

TEST(OutputSchema, SeedSchemaAcceptsPong) {
  auto schema = OutputSchema::Compile(kSeedSchema);
  ASSERT_TRUE(schema) << schema.error().message;
  EXPECT_EQ(schema->Check(json{{"reply", "pong"}}), std::nullopt);
}

TEST(OutputSchema, SeedSchemaNamesTheConstMismatch) {
  auto schema = OutputSchema::Compile(kSeedSchema);
  ASSERT_TRUE(schema);
  auto mismatch = schema->Check(json{{"reply", "ping"}});
  ASSERT_TRUE(mismatch);
  EXPECT_NE(mismatch->find("reply"), std::string::npos) << *mismatch;
  EXPECT_NE(mismatch->find("const"), std::string::npos) << *mismatch;
  EXPECT_NE(mismatch->find("\"ping\""), std::string::npos) << *mismatch;
}

TEST(OutputSchema, MissingRequiredPropertyIsReported) {
  auto schema = OutputSchema::Compile(kSeedSchema);
  ASSERT_TRUE(schema);
  auto mismatch = schema->Check(json::object());
  ASSERT_TRUE(mismatch);
  EXPECT_NE(mismatch->find("reply"), std::string::npos) << *mismatch;
}

TEST(OutputSchema, WrongRootTypeIsReported) {
  auto schema = OutputSchema::Compile(kSeedSchema);
  ASSERT_TRUE(schema);
  auto mismatch = schema->Check(json("pong"));
  ASSERT_TRUE(mismatch);
  EXPECT_NE(mismatch->find("<root>"), std::string::npos) << *mismatch;
}

TEST(OutputSchema, NestedArraysResolveTheOffendingValue) {
  auto schema = OutputSchema::Compile(json::parse(
      R"({"type":"object","properties":{"xs":{"type":"array","items":{"type":"integer"}}}})"));
  ASSERT_TRUE(schema);
  auto mismatch = schema->Check(json::parse(R"({"xs":[1,"two",3]})"));
  ASSERT_TRUE(mismatch);
  EXPECT_NE(mismatch->find("xs.1"), std::string::npos) << *mismatch;
  EXPECT_NE(mismatch->find("\"two\""), std::string::npos) << *mismatch;
}

TEST(OutputSchema, RejectsSchemasThatAreNotJsonSchema) {
  // Each of these breaks a rule of the draft-07 meta-schema.
  for (const char* bad : {
           R"({"type":"text"})",                       // not a simple type
           R"({"type":"object","required":"reply"})",  // required must be an array
           R"({"properties":{"a":5}})",                // a subschema must be an object or boolean
           R"({"minLength":-1})",                      // non-negative integer
           R"({"enum":"pong"})",                       // enum must be an array
       }) {
    auto schema = OutputSchema::Compile(json::parse(bad));
    EXPECT_FALSE(schema) << bad;
    if (!schema) {
      EXPECT_EQ(schema.error().code, ErrorCode::kBadRequest);
      EXPECT_NE(schema.error().message.find("outputSchema"), std::string::npos);
    }
  }
}

TEST(OutputSchema, RejectsNonObjectSchemas) {
  EXPECT_FALSE(OutputSchema::Compile(json("a string")));
  EXPECT_FALSE(OutputSchema::Compile(json::array()));
  EXPECT_FALSE(OutputSchema::Compile(json(42)));
}

TEST(OutputSchema, RejectsRemoteReferences) {
  auto schema = OutputSchema::Compile(json::parse(R"({"$ref":"http://example.invalid/s.json"})"));
  EXPECT_FALSE(schema);
}

TEST(OutputSchema, LocalReferencesWork) {
  auto schema = OutputSchema::Compile(json::parse(
      R"({"definitions":{"r":{"const":"pong"}},"properties":{"reply":{"$ref":"#/definitions/r"}}})"));
  ASSERT_TRUE(schema) << schema.error().message;
  EXPECT_EQ(schema->Check(json{{"reply", "pong"}}), std::nullopt);
  EXPECT_TRUE(schema->Check(json{{"reply", "ping"}}));
}

}  // namespace
}  // namespace swarm
