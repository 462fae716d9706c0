#include "stub_llm/chat_wire.h"

#include <gtest/gtest.h>

#include "stub_llm/sse_test_support.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;
using test_support::ParseSse;

ModelReply Text(std::string text) {
  ModelReply r;
  r.model = "fake-model";
  r.text = std::move(text);
  r.input_tokens = 626;
  r.output_tokens = 3;
  return r;
}

ModelReply Call() {
  ModelReply r = Text("");
  r.tool_call = ToolCall{"bash", R"({"command":"echo hi","description":"Run it"})"};
  return r;
}

TEST(ChatWireTest, TextStream) {
  http::HttpResponse res = EncodeChat(Text("pong and a longer tail of text"), true);
  EXPECT_EQ(res.content_type, "text/event-stream");
  auto sse = ParseSse(res.body);
  ASSERT_EQ(sse.error, "");
  ASSERT_GE(sse.events.size(), 5u);
  for (const auto& e : sse.events) EXPECT_EQ(e.name, "");  // data: lines only
  EXPECT_EQ(sse.events.back().data, "[DONE]");
  const json& role = sse.events[0].json;
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_TRUE(role["id"].get<std::string>().starts_with("chatcmpl-"));
  EXPECT_EQ(role["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
  std::string text;
  for (std::size_t i = 1; i < sse.events.size() - 3; ++i) {
    EXPECT_EQ(sse.events[i].json["id"], role["id"]);
    EXPECT_TRUE(sse.events[i].json["choices"][0]["finish_reason"].is_null());
    text += sse.events[i].json["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, "pong and a longer tail of text");
  const json& finish = sse.events[sse.events.size() - 3].json;
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  const json& usage = sse.events[sse.events.size() - 2].json;
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"],
            json({{"prompt_tokens", 626}, {"completion_tokens", 3}, {"total_tokens", 629}}));
}

TEST(ChatWireTest, ToolCallStream) {
  auto sse = ParseSse(EncodeChat(Call(), true).body);
  ASSERT_EQ(sse.error, "");
  const json& first = sse.events[0].json["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(first["index"], 0);
  EXPECT_EQ(first["type"], "function");
  EXPECT_EQ(first["function"]["name"], "bash");
  EXPECT_TRUE(first["id"].get<std::string>().starts_with("call_"));
  std::string args;
  for (std::size_t i = 1; i < sse.events.size() - 3; ++i) {
    const json& piece = sse.events[i].json["choices"][0]["delta"]["tool_calls"][0];
    EXPECT_EQ(piece["index"], 0);
    args += piece["function"]["arguments"].get<std::string>();
  }
  EXPECT_EQ(json::parse(args), json({{"command", "echo hi"}, {"description", "Run it"}}));
  EXPECT_EQ(sse.events[sse.events.size() - 3].json["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(sse.events.back().data, "[DONE]");
}

TEST(ChatWireTest, NonStreaming) {
  json text = json::parse(EncodeChat(Text("pong"), false).body);
  EXPECT_EQ(text["object"], "chat.completion");
  EXPECT_EQ(text["choices"][0]["message"], json({{"role", "assistant"}, {"content", "pong"}}));
  EXPECT_EQ(text["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(text["usage"]["total_tokens"], 629);
  json call = json::parse(EncodeChat(Call(), false).body);
  EXPECT_EQ(call["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(call["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(call["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "bash");
}

}  // namespace
}  // namespace swarm::stub_llm
