#include "stub_llm/anthropic_wire.h"

#include <gtest/gtest.h>

#include "stub_llm/sse_test_support.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;
using test_support::ParseSse;

ModelReply Text(std::string text) {
  ModelReply r;
  r.model = "claude-opus-4-8";
  r.text = std::move(text);
  r.input_tokens = 3219;
  r.output_tokens = 9;
  return r;
}

ModelReply Call() {
  ModelReply r = Text("");
  r.tool_call = ToolCall{"Bash", R"({"command":"echo hello > made_by_tool.txt && echo done"})"};
  return r;
}

TEST(AnthropicWireTest, TextStream) {
  http::HttpResponse res = EncodeAnthropic(Text("a reply long enough to be split in pieces"), true);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "text/event-stream");
  auto sse = ParseSse(res.body);
  ASSERT_EQ(sse.error, "");
  auto names = sse.Names();
  ASSERT_GE(names.size(), 8u);
  EXPECT_EQ(names.front(), "message_start");
  EXPECT_EQ(names[1], "ping");
  EXPECT_EQ(names[2], "content_block_start");
  EXPECT_EQ(names[names.size() - 3], "content_block_stop");
  EXPECT_EQ(names[names.size() - 2], "message_delta");
  EXPECT_EQ(names.back(), "message_stop");
  EXPECT_EQ(sse.Names(), sse.Types());  // every event's name is its data's type

  const json& start = sse.events[0].json["message"];
  EXPECT_TRUE(start["id"].get<std::string>().starts_with("msg_"));
  EXPECT_EQ(start["model"], "claude-opus-4-8");
  EXPECT_EQ(start["role"], "assistant");
  EXPECT_TRUE(start["stop_reason"].is_null());
  EXPECT_EQ(start["usage"]["input_tokens"], 3219);
  EXPECT_EQ(sse.events[2].json["content_block"], json({{"type", "text"}, {"text", ""}}));

  std::string text;
  for (std::size_t i = 3; i < names.size() - 3; ++i) {
    EXPECT_EQ(names[i], "content_block_delta");
    EXPECT_EQ(sse.events[i].json["delta"]["type"], "text_delta");
    text += sse.events[i].json["delta"]["text"].get<std::string>();
  }
  EXPECT_GT(names.size() - 6, 1u);  // several deltas
  EXPECT_EQ(text, "a reply long enough to be split in pieces");
  const json& delta = sse.events[names.size() - 2].json;
  EXPECT_EQ(delta["delta"]["stop_reason"], "end_turn");
  EXPECT_EQ(delta["usage"]["output_tokens"], 9);
}

TEST(AnthropicWireTest, ToolUseStream) {
  auto sse = ParseSse(EncodeAnthropic(Call(), true).body);
  ASSERT_EQ(sse.error, "");
  const json& block = sse.events[2].json["content_block"];
  EXPECT_EQ(block["type"], "tool_use");
  EXPECT_EQ(block["name"], "Bash");
  EXPECT_TRUE(block["id"].get<std::string>().starts_with("toolu_"));
  EXPECT_EQ(block["input"], json::object());
  std::string partial;
  for (const auto& e : sse.events) {
    if (e.name == "content_block_delta") {
      EXPECT_EQ(e.json["delta"]["type"], "input_json_delta");
      partial += e.json["delta"]["partial_json"].get<std::string>();
    }
  }
  EXPECT_EQ(json::parse(partial),
            json({{"command", "echo hello > made_by_tool.txt && echo done"}}));
  EXPECT_EQ(sse.events[sse.events.size() - 2].json["delta"]["stop_reason"], "tool_use");
}

TEST(AnthropicWireTest, NonStreaming) {
  json text = json::parse(EncodeAnthropic(Text("pong"), false).body);
  EXPECT_EQ(text["type"], "message");
  EXPECT_EQ(text["content"], json::parse(R"([{"type":"text","text":"pong"}])"));
  EXPECT_EQ(text["stop_reason"], "end_turn");
  EXPECT_EQ(text["usage"]["input_tokens"], 3219);
  EXPECT_EQ(text["usage"]["output_tokens"], 9);

  json call = json::parse(EncodeAnthropic(Call(), false).body);
  EXPECT_EQ(call["stop_reason"], "tool_use");
  EXPECT_EQ(call["content"][0]["type"], "tool_use");
  EXPECT_EQ(call["content"][0]["input"]["command"], "echo hello > made_by_tool.txt && echo done");
}

TEST(AnthropicWireTest, CountTokens) {
  EXPECT_EQ(json::parse(AnthropicCountTokens(400).body), json({{"input_tokens", 100}}));
}

}  // namespace
}  // namespace swarm::stub_llm
