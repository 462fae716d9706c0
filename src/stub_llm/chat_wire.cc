#include "stub_llm/chat_wire.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "stub_llm/sse.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

json Usage(const ModelReply& reply) {
  return {{"prompt_tokens", reply.input_tokens},
          {"completion_tokens", reply.output_tokens},
          {"total_tokens", reply.input_tokens + reply.output_tokens}};
}

class ChunkStream {
 public:
  ChunkStream(std::string id, std::string model, int64_t created)
      : id_(std::move(id)), model_(std::move(model)), created_(created) {}

  // One chunk with a single choice.
  void Choice(json delta, json finish_reason = nullptr) {
    json chunk = Head();
    chunk["choices"] = json::array({{{"index", 0},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", std::move(finish_reason)}}});
    sse_.Data(chunk);
  }
  void UsageChunk(json usage) {
    json chunk = Head();
    chunk["choices"] = json::array();
    chunk["usage"] = std::move(usage);
    sse_.Data(chunk);
  }
  std::string Finish() {
    sse_.Done();
    return sse_.Take();
  }

 private:
  json Head() const {
    return {
        {"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_}};
  }

  std::string id_;
  std::string model_;
  int64_t created_;
  SseWriter sse_;
};

}  // namespace

http::HttpResponse EncodeChat(const ModelReply& reply, bool stream) {
  const std::string id = NewId("chatcmpl-");
  const std::string call_id = NewId("call_");
  const int64_t created = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  const char* finish = reply.tool_call ? "tool_calls" : "stop";
  http::HttpResponse r;
  if (!stream) {
    json message = {{"role", "assistant"}};
    if (reply.tool_call) {
      message["content"] = nullptr;
      message["tool_calls"] = json::array(
          {{{"id", call_id},
            {"type", "function"},
            {"function",
             {{"name", reply.tool_call->name}, {"arguments", reply.tool_call->arguments}}}}});
    } else {
      message["content"] = reply.text;
    }
    r.body = Dump({{"id", id},
                   {"object", "chat.completion"},
                   {"created", created},
                   {"model", reply.model},
                   {"choices", json::array({{{"index", 0},
                                             {"message", std::move(message)},
                                             {"logprobs", nullptr},
                                             {"finish_reason", finish}}})},
                   {"usage", Usage(reply)}});
    return r;
  }

  ChunkStream s(id, reply.model, created);
  if (reply.tool_call) {
    // The first piece names the call; later pieces carry only argument text, by index.
    s.Choice(
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          json::array({{{"index", 0},
                        {"id", call_id},
                        {"type", "function"},
                        {"function", {{"name", reply.tool_call->name}, {"arguments", ""}}}}})}});
    for (const auto& piece : SplitForStreaming(reply.tool_call->arguments)) {
      s.Choice(
          {{"tool_calls", json::array({{{"index", 0}, {"function", {{"arguments", piece}}}}})}});
    }
  } else {
    s.Choice({{"role", "assistant"}, {"content", ""}});
    for (const auto& piece : SplitForStreaming(reply.text)) s.Choice({{"content", piece}});
  }
  s.Choice(json::object(), finish);
  s.UsageChunk(Usage(reply));
  r.content_type = "text/event-stream";
  r.headers.emplace_back("cache-control", "no-cache");
  r.body = s.Finish();
  return r;
}

}  // namespace swarm::stub_llm
