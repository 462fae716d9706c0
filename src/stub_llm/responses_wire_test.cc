#include "stub_llm/responses_wire.h"

#include <gtest/gtest.h>

#include "stub_llm/sse_test_support.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;
using test_support::ParseSse;

ModelReply Text(std::string text) {
  ModelReply r;
  r.model = "gpt-5.5";
  r.text = std::move(text);
  r.input_tokens = 13999;
  r.output_tokens = 4;
  return r;
}

ModelReply Call(bool freeform = false) {
  ModelReply r = Text("");
  r.tool_call = ToolCall{
      freeform ? "apply_patch" : "exec_command",
      freeform ? "*** Begin Patch\n*** End Patch" : R"({"cmd":"echo hi > f.txt"})", freeform};
  return r;
}

void ExpectSequenceNumbers(const test_support::SseParse& sse) {
  for (std::size_t i = 0; i < sse.events.size(); ++i) {
    EXPECT_EQ(sse.events[i].json["sequence_number"], i);
  }
}

TEST(ResponsesWireTest, TextStreamHasTheFullSequence) {
  auto sse = ParseSse(EncodeResponses(Text("pong, and some more text to split"), true).body);
  ASSERT_EQ(sse.error, "");
  EXPECT_EQ(sse.Names(), sse.Types());
  std::vector<std::string> names = sse.Names();
  // Deltas collapse to one entry to compare the order.
  std::vector<std::string> order;
  for (const auto& n : names) {
    if (order.empty() || order.back() != n) order.push_back(n);
  }
  EXPECT_EQ(order, (std::vector<std::string>{
                       "response.created", "response.in_progress", "response.output_item.added",
                       "response.content_part.added", "response.output_text.delta",
                       "response.output_text.done", "response.content_part.done",
                       "response.output_item.done", "response.completed"}));
  ExpectSequenceNumbers(sse);

  const json& created = sse.events[0].json["response"];
  EXPECT_EQ(created["status"], "in_progress");
  EXPECT_TRUE(created["usage"].is_null());
  const std::string response_id = created["id"];
  EXPECT_TRUE(response_id.starts_with("resp_"));

  const json& added = sse.events[2].json["item"];
  EXPECT_EQ(added["type"], "message");
  EXPECT_EQ(added["role"], "assistant");
  const std::string item_id = added["id"];
  std::string text;
  for (const auto& e : sse.events) {
    if (e.name != "response.output_text.delta") continue;
    EXPECT_EQ(e.json["item_id"], item_id);
    text += e.json["delta"].get<std::string>();
  }
  EXPECT_EQ(text, "pong, and some more text to split");

  const json& done = sse.events[sse.events.size() - 2].json["item"];
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["content"][0]["text"], text);

  const json& completed = sse.events.back().json["response"];
  EXPECT_EQ(completed["id"], response_id);
  EXPECT_EQ(completed["status"], "completed");
  EXPECT_EQ(completed["output"][0], done);
  EXPECT_EQ(completed["usage"]["input_tokens"], 13999);
  EXPECT_EQ(completed["usage"]["output_tokens"], 4);
  EXPECT_EQ(completed["usage"]["total_tokens"], 14003);
  EXPECT_EQ(completed["usage"]["input_tokens_details"]["cached_tokens"], 0);
}

TEST(ResponsesWireTest, FunctionCallStream) {
  auto sse = ParseSse(EncodeResponses(Call(), true).body);
  ASSERT_EQ(sse.error, "");
  ExpectSequenceNumbers(sse);
  const json& added = sse.events[2].json["item"];
  EXPECT_EQ(added["type"], "function_call");
  EXPECT_EQ(added["name"], "exec_command");
  EXPECT_EQ(added["arguments"], "");
  EXPECT_TRUE(added["id"].get<std::string>().starts_with("fc_"));
  EXPECT_TRUE(added["call_id"].get<std::string>().starts_with("call_"));
  std::string args;
  for (const auto& e : sse.events) {
    if (e.name == "response.function_call_arguments.delta")
      args += e.json["delta"].get<std::string>();
  }
  EXPECT_EQ(args, R"({"cmd":"echo hi > f.txt"})");
  EXPECT_EQ(sse.events[sse.events.size() - 3].name, "response.function_call_arguments.done");
  EXPECT_EQ(sse.events[sse.events.size() - 3].json["arguments"], args);
  const json& done = sse.events[sse.events.size() - 2].json["item"];
  EXPECT_EQ(done["arguments"], args);
  EXPECT_EQ(done["call_id"], added["call_id"]);
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(sse.events.back().json["response"]["output"][0], done);
}

TEST(ResponsesWireTest, CustomToolCallStream) {
  auto sse = ParseSse(EncodeResponses(Call(/*freeform=*/true), true).body);
  ASSERT_EQ(sse.error, "");
  const json& done = sse.events[sse.events.size() - 2].json["item"];
  EXPECT_EQ(done["type"], "custom_tool_call");
  EXPECT_EQ(done["input"], "*** Begin Patch\n*** End Patch");
  EXPECT_EQ(sse.events[sse.events.size() - 3].name, "response.custom_tool_call_input.done");
}

TEST(ResponsesWireTest, NonStreaming) {
  json body = json::parse(EncodeResponses(Text("pong"), false).body);
  EXPECT_EQ(body["object"], "response");
  EXPECT_EQ(body["status"], "completed");
  EXPECT_EQ(body["output"][0]["content"][0]["text"], "pong");
  EXPECT_EQ(body["output_text"], "pong");
  EXPECT_EQ(body["usage"]["total_tokens"], 14003);
  json call = json::parse(EncodeResponses(Call(), false).body);
  EXPECT_EQ(call["output"][0]["type"], "function_call");
  EXPECT_EQ(call["output"][0]["arguments"], R"({"cmd":"echo hi > f.txt"})");
}

}  // namespace
}  // namespace swarm::stub_llm
