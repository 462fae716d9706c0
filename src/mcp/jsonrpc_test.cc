#include "mcp/jsonrpc.h"

#include <gtest/gtest.h>

namespace swarm::mcp::jsonrpc {
namespace {

using nlohmann::json;

TEST(JsonRpcTest, ClassifiesTheSpecsRequest) {
  const auto message = Classify(json::parse(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call",
          "params":{"name":"get_weather","arguments":{"location":"New York"}}})"));
  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->kind, Kind::kRequest);
  EXPECT_EQ(message->id, json(2));
  EXPECT_EQ(message->method, "tools/call");
  EXPECT_EQ(message->params["arguments"]["location"], "New York");
}

TEST(JsonRpcTest, AcceptsStringIdsAndAbsentParams) {
  const auto message = Classify(json::parse(R"({"jsonrpc":"2.0","id":"abc-1","method":"ping"})"));
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, Kind::kRequest);
  EXPECT_EQ(message->id, json("abc-1"));
  EXPECT_TRUE(message->params.is_null());
}

TEST(JsonRpcTest, ClassifiesNotifications) {
  const auto message =
      Classify(json::parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, Kind::kNotification);
  EXPECT_EQ(message->method, "notifications/initialized");
  EXPECT_TRUE(message->id.is_null());
}

TEST(JsonRpcTest, ClassifiesResponses) {
  for (const char* text :
       {R"({"jsonrpc":"2.0","id":1,"result":{}})",
        R"({"jsonrpc":"2.0","id":"x","error":{"code":-1,"message":"no"}})",
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"?"}})"}) {
    const auto message = Classify(json::parse(text));
    ASSERT_TRUE(message) << text;
    EXPECT_EQ(message->kind, Kind::kResponse) << text;
  }
}

TEST(JsonRpcTest, RefusesBatches) {
  const auto message = Classify(json::parse(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])"));
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().code, kInvalidRequest);
  EXPECT_EQ(message.error().message, "batches are not supported");
  EXPECT_TRUE(message.error().id.is_null());
}

TEST(JsonRpcTest, RefusesWhatIsNotJsonRpcAndEchoesAUsableId) {
  struct Case {
    const char* text;
    json echoed_id;
  };
  const Case cases[] = {
      {R"("ping")", nullptr},
      {R"(42)", nullptr},
      {R"(null)", nullptr},
      {R"({"id":1,"method":"ping"})", 1},
      {R"({"jsonrpc":"1.0","id":"a","method":"ping"})", "a"},
      {R"({"jsonrpc":2.0,"id":1,"method":"ping"})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":7})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":null})", 1},
      {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", nullptr},
      {R"({"jsonrpc":"2.0","id":true,"method":"ping"})", nullptr},
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", nullptr},
      {R"({"jsonrpc":"2.0","id":[1],"method":"ping"})", nullptr},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1,2]})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":"x"})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":null})", 1},
      {R"({"jsonrpc":"2.0","method":"notifications/x","params":3})", nullptr},
      {R"({"jsonrpc":"2.0","id":1})", 1},
      {R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}})", 1},
      {R"({"jsonrpc":"2.0","id":1,"error":"bad"})", 1},
      {R"({"jsonrpc":"2.0","result":{}})", nullptr},
      {R"({"jsonrpc":"2.0","id":true,"result":{}})", nullptr},
      {R"({})", nullptr},
  };
  for (const Case& c : cases) {
    const auto message = Classify(json::parse(c.text));
    ASSERT_FALSE(message) << c.text;
    EXPECT_EQ(message.error().code, kInvalidRequest) << c.text;
    EXPECT_EQ(message.error().id, c.echoed_id) << c.text;
    EXPECT_FALSE(message.error().message.empty());
  }
}

TEST(JsonRpcTest, WritesTheSpecsResultAndErrorResponses) {
  EXPECT_EQ(json::parse(ResultResponse(1, json::object())),
            json::parse(R"({"jsonrpc":"2.0","id":1,"result":{}})"));
  EXPECT_EQ(json::parse(RawResultResponse("a", R"({"tools":[]})")),
            json::parse(R"({"jsonrpc":"2.0","id":"a","result":{"tools":[]}})"));
  EXPECT_EQ(json::parse(ErrorResponse(3, kInvalidParams, "Unknown tool: invalid_tool_name")),
            json::parse(R"({"jsonrpc":"2.0","id":3,"error":{"code":-32602,
                            "message":"Unknown tool: invalid_tool_name"}})"));
  EXPECT_EQ(json::parse(ErrorResponse(nullptr, kParseError, "bad", {{"at", 1}})),
            json::parse(R"({"jsonrpc":"2.0","id":null,
                            "error":{"code":-32700,"message":"bad","data":{"at":1}}})"));
}

TEST(JsonRpcTest, WritesInvalidUtf8AsReplacementCharacters) {
  const std::string bad = "caf\xC3 \xFF";
  const json parsed = json::parse(ResultResponse(1, {{"text", bad}}));
  EXPECT_EQ(parsed["result"]["text"], "caf\xEF\xBF\xBD \xEF\xBF\xBD");
  EXPECT_TRUE(json::accept(ErrorResponse(1, kInternalError, bad)));
}

}  // namespace
}  // namespace swarm::mcp::jsonrpc
