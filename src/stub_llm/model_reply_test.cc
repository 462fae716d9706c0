#include "stub_llm/model_reply.h"

#include <gtest/gtest.h>

#include "stub_llm/wire_error.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

TEST(ModelReplyTest, TokenEstimate) {
  EXPECT_EQ(EstimateTokens(0), 1);
  EXPECT_EQ(EstimateTokens(4), 1);
  EXPECT_EQ(EstimateTokens(5), 2);
  EXPECT_EQ(EstimateTokens(77'000), 19'250);
}

TEST(ModelReplyTest, Ids) {
  const std::string a = NewId("msg_");
  EXPECT_EQ(a.size(), 4u + 32u);
  EXPECT_EQ(a.find('-'), std::string::npos);
  EXPECT_NE(a, NewId("msg_"));
}

TEST(ModelReplyTest, TextAndToolReplies) {
  ChatRequest request;
  request.body_bytes = 4000;
  Decision text;
  text.text = "pong";
  ModelReply r = MakeReply(request, text);
  EXPECT_EQ(r.model, "stub-model");
  EXPECT_EQ(r.text, "pong");
  EXPECT_FALSE(r.tool_call);
  EXPECT_EQ(r.input_tokens, 1000);
  EXPECT_EQ(r.output_tokens, 1);

  request.model = "gpt-5.5";
  Decision call;
  call.action = Action::kToolCall;
  call.tool = {"exec_command", {{"cmd", "ls"}}};
  r = MakeReply(request, call);
  EXPECT_EQ(r.model, "gpt-5.5");
  ASSERT_TRUE(r.tool_call);
  EXPECT_EQ(r.tool_call->arguments, R"({"cmd":"ls"})");
  EXPECT_EQ(r.output_tokens, EstimateTokens(std::string("exec_command{\"cmd\":\"ls\"}").size()));

  call.freeform = true;
  call.tool = {"apply_patch", "*** Begin Patch"};
  r = MakeReply(request, call);
  EXPECT_TRUE(r.tool_call->freeform);
  EXPECT_EQ(r.tool_call->arguments, "*** Begin Patch");
}

TEST(WireErrorTest, Shapes) {
  http::HttpResponse a = WireError(Wire::kAnthropic, 529, "busy", false);
  EXPECT_EQ(a.status, 529);
  EXPECT_EQ(
      json::parse(a.body),
      json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"busy"}})"));
  EXPECT_EQ(a.headers, (http::HeaderList{{"x-should-retry", "false"}, {"retry-after-ms", "0"}}));

  http::HttpResponse o = WireError(Wire::kResponses, 500, "boom", true);
  EXPECT_EQ(json::parse(o.body)["error"]["message"], "boom");
  EXPECT_EQ(json::parse(o.body)["error"]["type"], "server_error");
  EXPECT_EQ(o.headers, (http::HeaderList{{"x-should-retry", "true"}}));
  EXPECT_EQ(json::parse(WireError(Wire::kChat, 429, "slow down", false).body)["error"]["type"],
            "rate_limit_exceeded");

  http::HttpResponse g = GenericError(404, "nothing here");
  EXPECT_EQ(json::parse(g.body)["error"]["message"], "nothing here");
  EXPECT_EQ(json::parse(g.body)["error"]["type"], "not_found_error");
}

}  // namespace
}  // namespace swarm::stub_llm
