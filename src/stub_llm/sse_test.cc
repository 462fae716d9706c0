#include "stub_llm/sse.h"

#include <gtest/gtest.h>

#include "stub_llm/sse_test_support.h"

namespace swarm::stub_llm {
namespace {

TEST(SseTest, WriterFraming) {
  SseWriter sse;
  sse.Event("message_stop", {{"type", "message_stop"}});
  sse.Data({{"a", 1}});
  sse.Done();
  EXPECT_EQ(sse.Take(),
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
            "data: {\"a\":1}\n\n"
            "data: [DONE]\n\n");
}

TEST(SseTest, ReaderRoundTrip) {
  SseWriter sse;
  sse.Event("x", {{"type", "x"}, {"text", "line\nbreak"}});
  sse.Data({{"type", "y"}});
  sse.Done();
  auto parsed = test_support::ParseSse(sse.Take());
  ASSERT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.Names(), (std::vector<std::string>{"x", "", ""}));
  EXPECT_EQ(parsed.Types(), (std::vector<std::string>{"x", "y", ""}));
  EXPECT_EQ(parsed.events[0].json["text"], "line\nbreak");
  EXPECT_EQ(parsed.events[2].data, "[DONE]");
}

TEST(SseTest, DumpReplacesInvalidUtf8) {
  EXPECT_EQ(Dump(std::string("a\xff")), "\"a\xEF\xBF\xBD\"");
}

TEST(SseTest, SplitKeepsUtf8SequencesWhole) {
  const std::string text = "héllo wörld — ünïcode ✓ done";
  auto pieces = SplitForStreaming(text, 4);
  std::string joined;
  for (const auto& p : pieces) {
    EXPECT_LE(p.size(), 4u);
    EXPECT_FALSE(p.empty());
    // Each piece alone is valid UTF-8: it dumps without a replacement character.
    EXPECT_EQ(Dump(p).find("\xEF\xBF\xBD"), std::string::npos) << p;
    joined += p;
  }
  EXPECT_EQ(joined, text);
  EXPECT_GT(pieces.size(), 5u);
}

TEST(SseTest, SplitEdgeCases) {
  EXPECT_EQ(SplitForStreaming(""), std::vector<std::string>{""});
  EXPECT_EQ(SplitForStreaming("pong"), std::vector<std::string>{"pong"});
  EXPECT_EQ(SplitForStreaming("abc", 0).size(), 3u);
}

}  // namespace
}  // namespace swarm::stub_llm
