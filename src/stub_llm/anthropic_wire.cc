#include "stub_llm/anthropic_wire.h"

#include <nlohmann/json.hpp>

#include "core/bounded_json.h"
#include "stub_llm/sse.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

json Usage(const ModelReply& reply, int64_t output_tokens) {
  return {{"input_tokens", reply.input_tokens},
          {"output_tokens", output_tokens},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", 0}};
}

// The message object; `content` empty and usage partial for message_start.
json Message(const ModelReply& reply, const std::string& id, json content, bool finished) {
  const bool tool = reply.tool_call.has_value();
  return {{"id", id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", reply.model},
          {"content", std::move(content)},
          {"stop_reason", finished ? json(tool ? "tool_use" : "end_turn") : json(nullptr)},
          {"stop_sequence", nullptr},
          {"usage", Usage(reply, finished ? reply.output_tokens : 1)}};
}

json ToolInput(const ToolCall& call) {
  auto input = ParseBoundedJson(call.arguments);
  return input && input->is_object() ? std::move(*input) : json::object();
}

}  // namespace

http::HttpResponse EncodeAnthropic(const ModelReply& reply, bool stream) {
  const std::string message_id = NewId("msg_");
  const std::string tool_id = NewId("toolu_");
  http::HttpResponse r;
  if (!stream) {
    json block = reply.tool_call ? json{{"type", "tool_use"},
                                        {"id", tool_id},
                                        {"name", reply.tool_call->name},
                                        {"input", ToolInput(*reply.tool_call)}}
                                 : json{{"type", "text"}, {"text", reply.text}};
    r.body = Dump(Message(reply, message_id, json::array({std::move(block)}), true));
    return r;
  }

  SseWriter sse;
  sse.Event("message_start", {{"type", "message_start"},
                              {"message", Message(reply, message_id, json::array(), false)}});
  sse.Event("ping", {{"type", "ping"}});
  if (reply.tool_call) {
    sse.Event("content_block_start", {{"type", "content_block_start"},
                                      {"index", 0},
                                      {"content_block",
                                       {{"type", "tool_use"},
                                        {"id", tool_id},
                                        {"name", reply.tool_call->name},
                                        {"input", json::object()}}}});
    for (const auto& piece : SplitForStreaming(reply.tool_call->arguments)) {
      sse.Event("content_block_delta",
                {{"type", "content_block_delta"},
                 {"index", 0},
                 {"delta", {{"type", "input_json_delta"}, {"partial_json", piece}}}});
    }
  } else {
    sse.Event("content_block_start", {{"type", "content_block_start"},
                                      {"index", 0},
                                      {"content_block", {{"type", "text"}, {"text", ""}}}});
    for (const auto& piece : SplitForStreaming(reply.text)) {
      sse.Event("content_block_delta", {{"type", "content_block_delta"},
                                        {"index", 0},
                                        {"delta", {{"type", "text_delta"}, {"text", piece}}}});
    }
  }
  sse.Event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
  sse.Event(
      "message_delta",
      {{"type", "message_delta"},
       {"delta",
        {{"stop_reason", reply.tool_call ? "tool_use" : "end_turn"}, {"stop_sequence", nullptr}}},
       {"usage", {{"output_tokens", reply.output_tokens}}}});
  sse.Event("message_stop", {{"type", "message_stop"}});
  r.content_type = "text/event-stream";
  r.headers.emplace_back("cache-control", "no-cache");
  r.body = sse.Take();
  return r;
}

http::HttpResponse AnthropicCountTokens(std::size_t body_bytes) {
  http::HttpResponse r;
  r.body = Dump({{"input_tokens", EstimateTokens(body_bytes)}});
  return r;
}

}  // namespace swarm::stub_llm
