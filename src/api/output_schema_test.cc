#include "api/output_schema.h"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
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

using ::testing::HasSubstr;

double SecondsToCheck(const OutputSchema& schema, const json& value,
                      std::optional<std::string>* out) {
  const auto start = std::chrono::steady_clock::now();
  *out = schema.Check(value);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

json ReplySchema(const json& reply) {
  return json{{"type", "object"}, {"properties", {{"reply", reply}}}};
}

TEST(OutputSchemaRegex, CatastrophicPatternIsJudgedQuickly) {
  // std::regex backtracks exponentially on (a+)+$ and recurses once per character.
  auto schema = OutputSchema::Compile(ReplySchema({{"pattern", "(a+)+$"}}));
  ASSERT_TRUE(schema) << schema.error().message;
  std::optional<std::string> mismatch;
  const double seconds =
      SecondsToCheck(*schema, json{{"reply", std::string(30000, 'a') + "!"}}, &mismatch);
  ASSERT_TRUE(mismatch);
  EXPECT_THAT(*mismatch, HasSubstr("pattern"));
  EXPECT_LT(seconds, 0.1);
  EXPECT_EQ(schema->Check(json{{"reply", "xaaa"}}), std::nullopt);
}

TEST(OutputSchemaRegex, PatternsSearchUnanchoredLikeEcma) {
  auto schema = OutputSchema::Compile(ReplySchema({{"pattern", "\\d{3}"}}));
  ASSERT_TRUE(schema) << schema.error().message;
  EXPECT_EQ(schema->Check(json{{"reply", "ab123cd"}}), std::nullopt);
  EXPECT_TRUE(schema->Check(json{{"reply", "ab12cd"}}));
}

TEST(OutputSchemaRegex, EcmaUnicodeEscapesAreUnderstood) {
  auto schema = OutputSchema::Compile(ReplySchema({{"pattern", "^\\u00e9$"}}));
  ASSERT_TRUE(schema) << schema.error().message;
  EXPECT_EQ(schema->Check(json{{"reply", "\u00e9"}}), std::nullopt);
  EXPECT_TRUE(schema->Check(json{{"reply", "e"}}));
}

TEST(OutputSchemaRegex, InvalidPatternIsABadRequestNamingItsPlace) {
  auto schema = OutputSchema::Compile(ReplySchema({{"pattern", "(["}}));
  ASSERT_FALSE(schema);
  EXPECT_EQ(schema.error().code, ErrorCode::kBadRequest);
  EXPECT_THAT(schema.error().message, HasSubstr("outputSchema.properties.reply.pattern"));
}

TEST(OutputSchemaRegex, LookaroundAndBackreferencesAreRejectedSayingWhy) {
  for (const char* pattern : {"a(?=b)", "(?<!x)y", "(a)\\1"}) {
    auto schema = OutputSchema::Compile(ReplySchema({{"pattern", pattern}}));
    ASSERT_FALSE(schema) << pattern;
    EXPECT_THAT(schema.error().message, HasSubstr("no lookaround and no backreferences"));
  }
}

TEST(OutputSchemaRegex, PatternPropertiesUseRe2AndAreCheckedAtCreation) {
  auto bad = OutputSchema::Compile(json::parse(R"({"patternProperties":{"([":{}}})"));
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("outputSchema.patternProperties.(["));

  auto schema = OutputSchema::Compile(json::parse(
      R"({"patternProperties":{"^x_":{"type":"integer"}},"additionalProperties":false})"));
  ASSERT_TRUE(schema) << schema.error().message;
  EXPECT_EQ(schema->Check(json::parse(R"({"x_a":1,"x_b":2})")), std::nullopt);
  EXPECT_TRUE(schema->Check(json::parse(R"({"x_a":"one"})")));
  EXPECT_TRUE(schema->Check(json::parse(R"({"y":1})")));
}

TEST(OutputSchemaRegex, RegexesInsideCombinatorsAndDefinitionsAreChecked) {
  for (const char* text : {
           R"({"anyOf":[{"type":"integer"},{"pattern":"(["}]})",
           R"({"definitions":{"d":{"pattern":"(["}}})",
           R"({"items":[{"not":{"pattern":"(["}}]})",
           R"({"propertyNames":{"pattern":"(["}})",
       }) {
    EXPECT_FALSE(OutputSchema::Compile(json::parse(text))) << text;
  }
}

TEST(OutputSchemaRegex, OnlySchemaPositionsAreReadAsRegexes) {
  // A property called "pattern", or an enum value holding the key, is not a regex.
  EXPECT_TRUE(
      OutputSchema::Compile(json::parse(R"({"properties":{"pattern":{"type":"string"}}})")));
  EXPECT_TRUE(OutputSchema::Compile(json::parse(R"({"enum":[{"pattern":"(["}]})")));
}

TEST(OutputSchemaRegex, PropertyNamesPatternsRunOnKeys) {
  auto schema = OutputSchema::Compile(json::parse(R"({"propertyNames":{"pattern":"^[a-z]+$"}})"));
  ASSERT_TRUE(schema) << schema.error().message;
  EXPECT_EQ(schema->Check(json::parse(R"({"abc":1})")), std::nullopt);
  EXPECT_TRUE(schema->Check(json::parse(R"({"ABC":1})")));
}

TEST(OutputSchemaLimits, DateFormatsOnHugeStringsDoNotOverflowTheStack) {
  // libstdc++'s std::regex recursed once per digit here and crashed.
  for (const char* format : {"date", "date-time", "time"}) {
    auto schema = OutputSchema::Compile(json{{"format", format}});
    ASSERT_TRUE(schema);
    EXPECT_TRUE(schema->Check(json(std::string(200000, '1')))) << format;
  }
  auto date = OutputSchema::Compile(json{{"format", "date"}});
  EXPECT_EQ(date->Check(json("2024-02-29")), std::nullopt);
  EXPECT_TRUE(date->Check(json("2024-02-30")));
  auto datetime = OutputSchema::Compile(json{{"format", "date-time"}});
  EXPECT_EQ(datetime->Check(json("2022-07-18T16:52:45Z")), std::nullopt);
  auto time = OutputSchema::Compile(json{{"format", "time"}});
  EXPECT_EQ(time->Check(json("16:52:45+02:00")), std::nullopt);
  EXPECT_TRUE(time->Check(json("25:00:00Z")));
}

TEST(OutputSchemaLimits, RecursiveReferenceFailsInsteadOfCrashing) {
  for (const char* text :
       {R"({"allOf":[{"$ref":"#"}]})", R"({"anyOf":[{"$ref":"#"},{"$ref":"#"}]})",
        R"({"definitions":{"a":{"not":{"$ref":"#/definitions/a"}}},
                               "$ref":"#/definitions/a"})"}) {
    auto schema = OutputSchema::Compile(json::parse(text));
    ASSERT_TRUE(schema) << text << ": " << schema.error().message;
    auto mismatch = schema->Check(json(1));
    ASSERT_TRUE(mismatch) << text;
    EXPECT_THAT(*mismatch, HasSubstr("limit")) << text;
  }
}

TEST(OutputSchemaLimits, NonFragmentReferencesAreRejected) {
  // Found by fuzz_output_judge: valijson's parser recursed forever on a relative $ref.
  for (const char* text : {
           R"({"definitions":{"n":{"items":{"$ref":"3/definitions/n"}}},"$ref":"#/definitions/n"})",
           R"({"$ref":"other.json"})",
           R"({"$id":"http://example.invalid/s.json","properties":{"a":{"$ref":"#"}}})",
       }) {
    auto schema = OutputSchema::Compile(json::parse(text));
    ASSERT_FALSE(schema) << text;
    EXPECT_THAT(schema.error().message, HasSubstr("only references within the schema")) << text;
  }
  EXPECT_TRUE(OutputSchema::Compile(json::parse(R"({"items":{"$ref":"#"}})")));
}

TEST(OutputSchemaLimits, ReferenceOnlyCyclesAreRejected) {
  // Found by fuzz_output_judge: {"$ref":"#"} at the root recursed forever in valijson's parser.
  for (const char* text : {
           R"({"definitions":{},"$ref":"#"})",
           R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},
               "properties":{"x":{"$ref":"#/definitions/a"}}})",
       }) {
    auto schema = OutputSchema::Compile(json::parse(text));
    ASSERT_FALSE(schema) << text;
    EXPECT_THAT(schema.error().message, HasSubstr("refers back to itself")) << text;
  }
  for (const char* text : {R"({"definitions":{},"$ref":"#/"})", R"({"$ref":"#/nowhere"})",
                           R"({"definitions":{"a b":{}},"$ref":"#/definitions/a%20b"})"}) {
    auto schema = OutputSchema::Compile(json::parse(text));
    ASSERT_FALSE(schema) << text;
    EXPECT_THAT(schema.error().message, HasSubstr("does not point into the schema")) << text;
  }
}

TEST(OutputSchemaLimits, UniqueItemsIsNotQuadratic) {
  auto schema = OutputSchema::Compile(json{{"uniqueItems", true}});
  ASSERT_TRUE(schema);
  json items = json::array();
  for (int i = 0; i < 40000; ++i) items.push_back(i);
  std::optional<std::string> mismatch;
  EXPECT_LT(SecondsToCheck(*schema, items, &mismatch), 0.5);  // 35 s before
  EXPECT_EQ(mismatch, std::nullopt);
  EXPECT_TRUE(schema->Check(json::parse("[1, 2, 1.0]")));
  EXPECT_TRUE(schema->Check(json::parse(R"([{"a":1,"b":[2]}, {"b":[2],"a":1}])")));
  EXPECT_EQ(schema->Check(json::parse(R"([{"a":1}, {"a":2}, [1], [1,1]])")), std::nullopt);
}

TEST(OutputSchemaLimits, ManyMismatchesAreReportedQuicklyAndBriefly) {
  auto schema = OutputSchema::Compile(json::parse(R"({"items":{"type":"string"}})"));
  ASSERT_TRUE(schema);
  json items = json::array();
  for (int i = 0; i < 40000; ++i) items.push_back(i);
  std::optional<std::string> mismatch;
  EXPECT_LT(SecondsToCheck(*schema, items, &mismatch), 2.0);  // 18 s before
  ASSERT_TRUE(mismatch);
  EXPECT_THAT(*mismatch, HasSubstr("and 39980 more"));
  EXPECT_LT(mismatch->size(), 8000u);
}

TEST(OutputSchemaLimits, DeepSchemasAreRejectedNamingTheLimit) {
  json schema = json::object();
  for (int i = 0; i < 100; ++i) schema = json{{"items", schema}};
  auto compiled = OutputSchema::Compile(schema);
  ASSERT_FALSE(compiled);
  EXPECT_THAT(compiled.error().message, HasSubstr("64-level limit"));
}

TEST(OutputSchemaLimits, DeepValuesFailTheCheckNamingTheLimit) {
  auto schema = OutputSchema::Compile(json::object());
  ASSERT_TRUE(schema);
  json value = 1;
  for (int i = 0; i < 100; ++i) value = json::array({value});
  auto mismatch = schema->Check(value);
  ASSERT_TRUE(mismatch);
  EXPECT_THAT(*mismatch, HasSubstr("64-level limit"));
}

const char kSeedText[] =
    R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})";

TEST(OutputSchemaJudgeText, MatchingOutputPasses) {
  EXPECT_EQ(OutputSchema::JudgeText(kSeedText, R"({"reply":"pong"})"), std::nullopt);
}

TEST(OutputSchemaJudgeText, OutputOverTheSizeCapFailsNamingTheCap) {
  const std::string big = R"({"reply":")" + std::string(300 * 1024, 'x') + R"("})";
  auto reason = OutputSchema::JudgeText(kSeedText, big);
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("262144-byte limit"));
}

std::string DeepReply(std::size_t levels) {
  return R"({"reply":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

TEST(OutputSchemaJudgeText, TheIssuesDeepOutputFailsNamingALimit) {
  // {"reply":[[[…]]]} nested 200,000 levels (400 KB): the API crashed on it.
  auto reason = OutputSchema::JudgeText(kSeedText, DeepReply(200000));
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("262144-byte limit"));
}

TEST(OutputSchemaJudgeText, DeepOutputWithinTheSizeCapFailsNamingTheDepthLimit) {
  auto reason = OutputSchema::JudgeText(kSeedText, DeepReply(100000));
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("output is nested deeper than the 64-level limit"));
  EXPECT_TRUE(OutputSchema::JudgeText(kSeedText, DeepReply(63)));  // a mismatch, not a limit
  EXPECT_THAT(*OutputSchema::JudgeText(kSeedText, DeepReply(63)), HasSubstr("const"));
}

TEST(OutputSchemaJudgeText, OutputThatIsNotJsonFails) {
  auto reason = OutputSchema::JudgeText(kSeedText, "pong");
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("not valid JSON"));
}

TEST(OutputSchemaJudgeText, UnusableStoredSchemaFailsWithAReason) {
  auto reason = OutputSchema::JudgeText("{not json", R"({"reply":"pong"})");
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("stored outputSchema cannot be used"));
}

}  // namespace
}  // namespace swarm
