#include "stub_llm/responses_wire.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "stub_llm/sse.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json Usage(const ModelReply& reply) {
  return {{"input_tokens", reply.input_tokens},
          {"input_tokens_details", {{"cached_tokens", 0}}},
          {"output_tokens", reply.output_tokens},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", reply.input_tokens + reply.output_tokens}};
}

struct Ids {
  std::string response = NewId("resp_");
  std::string item;  // msg_… for text, fc_…/ctc_… for a call
  std::string call = NewId("call_");
  int64_t created_at = UnixSeconds();
};

json TextPart(const std::string& text) {
  return {{"type", "output_text"}, {"text", text}, {"annotations", json::array()}};
}

// The output item, as it is when done (`done`) or when it starts streaming.
json OutputItem(const ModelReply& reply, const Ids& ids, bool done) {
  const char* status = done ? "completed" : "in_progress";
  if (!reply.tool_call) {
    return {{"id", ids.item},
            {"type", "message"},
            {"status", status},
            {"role", "assistant"},
            {"content", done ? json::array({TextPart(reply.text)}) : json::array()}};
  }
  const ToolCall& call = *reply.tool_call;
  json item = {
      {"id", ids.item},    {"type", call.freeform ? "custom_tool_call" : "function_call"},
      {"status", status},  {"call_id", ids.call},
      {"name", call.name}, {call.freeform ? "input" : "arguments", done ? call.arguments : ""}};
  // Codex runs a call of a namespaced (MCP) tool only when it names the namespace.
  if (!call.ns.empty()) item["namespace"] = call.ns;
  return item;
}

json Response(const ModelReply& reply, const Ids& ids, bool done) {
  return {{"id", ids.response},
          {"object", "response"},
          {"created_at", ids.created_at},
          {"status", done ? "completed" : "in_progress"},
          {"error", nullptr},
          {"incomplete_details", nullptr},
          {"model", reply.model},
          {"output", done ? json::array({OutputItem(reply, ids, true)}) : json::array()},
          {"parallel_tool_calls", false},
          {"tool_choice", "auto"},
          {"tools", json::array()},
          {"store", false},
          {"usage", done ? Usage(reply) : json(nullptr)}};
}

// Adds the sequence number every Responses stream event carries.
class EventStream {
 public:
  void Emit(const char* type, json data) {
    data["type"] = type;
    data["sequence_number"] = next_++;
    sse_.Event(type, data);
  }
  std::string Take() { return sse_.Take(); }

 private:
  SseWriter sse_;
  int64_t next_ = 0;
};

void EmitText(EventStream& s, const ModelReply& reply, const Ids& ids) {
  const json where = {{"item_id", ids.item}, {"output_index", 0}, {"content_index", 0}};
  json added = where;
  added["part"] = TextPart("");
  s.Emit("response.content_part.added", added);
  for (const auto& piece : SplitForStreaming(reply.text)) {
    json delta = where;
    delta["delta"] = piece;
    delta["logprobs"] = json::array();
    s.Emit("response.output_text.delta", delta);
  }
  json text_done = where;
  text_done["text"] = reply.text;
  text_done["logprobs"] = json::array();
  s.Emit("response.output_text.done", text_done);
  json part_done = where;
  part_done["part"] = TextPart(reply.text);
  s.Emit("response.content_part.done", part_done);
}

void EmitCall(EventStream& s, const ModelReply& reply, const Ids& ids) {
  const ToolCall& call = *reply.tool_call;
  const std::string kind =
      call.freeform ? "response.custom_tool_call_input" : "response.function_call_arguments";
  for (const auto& piece : SplitForStreaming(call.arguments)) {
    s.Emit((kind + ".delta").c_str(),
           {{"item_id", ids.item}, {"output_index", 0}, {"delta", piece}});
  }
  json done = {{"item_id", ids.item}, {"output_index", 0}};
  done[call.freeform ? "input" : "arguments"] = call.arguments;
  s.Emit((kind + ".done").c_str(), done);
}

}  // namespace

http::HttpResponse EncodeResponses(const ModelReply& reply, bool stream) {
  Ids ids;
  ids.item = !reply.tool_call            ? NewId("msg_")
             : reply.tool_call->freeform ? NewId("ctc_")
                                         : NewId("fc_");
  http::HttpResponse r;
  if (!stream) {
    json body = Response(reply, ids, true);
    if (!reply.tool_call) body["output_text"] = reply.text;
    r.body = Dump(body);
    return r;
  }
  EventStream s;
  s.Emit("response.created", {{"response", Response(reply, ids, false)}});
  s.Emit("response.in_progress", {{"response", Response(reply, ids, false)}});
  s.Emit("response.output_item.added",
         {{"output_index", 0}, {"item", OutputItem(reply, ids, false)}});
  if (reply.tool_call) {
    EmitCall(s, reply, ids);
  } else {
    EmitText(s, reply, ids);
  }
  s.Emit("response.output_item.done",
         {{"output_index", 0}, {"item", OutputItem(reply, ids, true)}});
  s.Emit("response.completed", {{"response", Response(reply, ids, true)}});
  r.content_type = "text/event-stream";
  r.headers.emplace_back("cache-control", "no-cache");
  r.body = s.Take();
  return r;
}

}  // namespace swarm::stub_llm
