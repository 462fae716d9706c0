#include "stub_llm/stub_service.h"

#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"
#include "stub_llm/anthropic_wire.h"
#include "stub_llm/chat_request.h"
#include "stub_llm/chat_wire.h"
#include "stub_llm/model_reply.h"
#include "stub_llm/request_log.h"
#include "stub_llm/responses_wire.h"
#include "stub_llm/sse.h"
#include "stub_llm/wire_error.h"

namespace swarm::stub_llm {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

// The log keeps the start of the prompt: enough to see which test sent it.
constexpr std::size_t kLoggedPromptBytes = 200;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string_view TrimTrailingSlash(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

json ModelObject(std::string_view id) {
  return {{"id", id},
          {"object", "model"},
          {"type", "model"},
          {"created", 0},
          {"created_at", "1970-01-01T00:00:00Z"},
          {"owned_by", "agent-swarm"},
          {"display_name", "agent-swarm stub-llm"}};
}

http::HttpResponse JsonResponse(const json& body) {
  http::HttpResponse r;
  r.body = Dump(body);
  return r;
}

std::string Shorten(std::string_view text) {
  if (text.size() <= kLoggedPromptBytes) return std::string(text);
  return std::string(text.substr(0, kLoggedPromptBytes)) + "…";
}

// A model turn: parse, decide, encode. Fills the request-specific log fields.
StubService::Outcome ModelTurn(Script& script, Wire wire, const http::HttpRequest& request,
                               json& log) {
  StubService::Outcome out;
  log["wire"] = WireName(wire);
  auto parsed = ParseChatRequest(wire, request.body);
  if (!parsed) {
    log["decision"] = {
        {"action", "error"}, {"source", "request"}, {"error", parsed.error().message}};
    out.response = WireError(wire, 400, parsed.error().message, /*retry=*/false);
    return out;
  }
  log["model"] = parsed->model;
  log["stream"] = parsed->stream;
  json tool_names = json::array();
  for (const auto& tool : parsed->tools) {
    tool_names.push_back(tool.ns.empty() ? tool.name : tool.ns + "." + tool.name);
  }
  log["tools"] = std::move(tool_names);
  log["toolResult"] = parsed->tool_result_turn;
  log["prompt"] = Shorten(parsed->user_text);

  const Decision decision = script.Decide(*parsed);
  log["decision"] = decision.ToJson();
  out.delay = decision.delay;
  if (decision.action == Action::kError) {
    out.response = WireError(wire, decision.status, decision.text, decision.retry);
    return out;
  }
  const ModelReply reply = MakeReply(*parsed, decision);
  log["usage"] = {{"input", reply.input_tokens}, {"output", reply.output_tokens}};
  switch (wire) {
    case Wire::kAnthropic:
      out.response = EncodeAnthropic(reply, parsed->stream);
      break;
    case Wire::kResponses:
      out.response = EncodeResponses(reply, parsed->stream);
      break;
    case Wire::kChat:
      out.response = EncodeChat(reply, parsed->stream);
      break;
  }
  return out;
}

}  // namespace

void LogToStderr(json line) { log::Info("request", std::move(line)); }

StubService::Outcome StubService::Decide(const http::HttpRequest& request) {
  json log = {{"n", ++requests_}, {"method", request.method}, {"path", request.path}};
  if (!request.query.empty()) log["query"] = RedactedQuery(request.query);
  log["headers"] = RedactedHeaders(request.headers);

  const std::string_view path = TrimTrailingSlash(request.path);
  const std::string& method = request.method;
  Outcome out;
  if ((method == "HEAD" || method == "GET") && (path.empty() || path == "/")) {
    log["kind"] = "root";
    out.response = JsonResponse({{"status", "ok"}, {"server", "agent-swarm stub-llm"}});
  } else if (method == "POST" && EndsWith(path, "/messages/count_tokens")) {
    log["kind"] = "count_tokens";
    out.response = AnthropicCountTokens(request.body.size());
  } else if (method == "POST" && EndsWith(path, "/messages")) {
    log["kind"] = "model";
    out = ModelTurn(script_, Wire::kAnthropic, request, log);
  } else if (method == "POST" && EndsWith(path, "/responses")) {
    log["kind"] = "model";
    out = ModelTurn(script_, Wire::kResponses, request, log);
  } else if (method == "POST" && EndsWith(path, "/chat/completions")) {
    log["kind"] = "model";
    out = ModelTurn(script_, Wire::kChat, request, log);
  } else if (method == "GET" && EndsWith(path, "/models")) {
    log["kind"] = "models";
    out.response = JsonResponse({{"object", "list"},
                                 {"data", json::array({ModelObject(kStubModel)})},
                                 {"has_more", false},
                                 {"first_id", kStubModel},
                                 {"last_id", kStubModel}});
  } else if (const auto at = path.rfind("/models/"); method == "GET" && at != std::string::npos) {
    log["kind"] = "models";
    out.response = JsonResponse(ModelObject(path.substr(at + 8)));
  } else {
    log["kind"] = "unknown";
    out.response = GenericError(404, "stub-llm serves no " + method + " " + std::string(path));
  }
  log["status"] = out.response.status;
  log["bytesIn"] = request.body.size();
  log["bytesOut"] = out.response.body.size();
  out.log = std::move(log);
  return out;
}

asio::awaitable<http::HttpResponse> StubService::Handle(http::HttpRequest request) {
  const auto start = std::chrono::steady_clock::now();
  Outcome out = Decide(request);
  if (out.delay.count() > 0) {
    // On a timer, not a sleep: the I/O thread serves other connections meanwhile.
    asio::steady_timer timer(co_await asio::this_coro::executor, out.delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  out.log["ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  if (log_) log_(std::move(out.log));
  co_return std::move(out.response);
}

}  // namespace swarm::stub_llm
