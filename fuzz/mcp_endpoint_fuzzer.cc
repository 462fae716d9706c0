// The MCP endpoint (src/mcp): the first two bytes pick the request's headers (Accept,
// Content-Type, session, agent, MCP-Protocol-Version) and what else to do (open the GET stream,
// expire idle sessions), the rest is the POST body. Each input runs
// against a fresh endpoint with one open session. Invariants: no crash, every answer has a
// status the endpoint is meant to use, a JSON body parses, an SSE body is one `message` event
// whose data parses, and an answer without a content type has no body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "mcp/endpoint.h"

namespace {

using namespace swarm;
using namespace swarm::mcp;
using nlohmann::json;

// Answers by tool name, so the fuzzer reaches every mapping of a tool's answer.
class FuzzTools final : public ToolSet {
 public:
  FuzzTools() {
    specs_.push_back({"store-progress", "Store progress", "", json{{"type", "object"}}});
  }
  const std::vector<ToolSpec>& Tools() const override { return specs_; }
  Result<ToolOutcome> Call(const std::string& name, const json& arguments, const Caller&) override {
    if (name == "missing") return NotFound("Unknown tool: " + name);
    if (name == "bad") return BadRequest("taskId must be a string");
    if (name == "broken") return Unavailable("store is busy");
    if (name == "throws") throw std::runtime_error("boom");
    ToolOutcome outcome;
    outcome.text = arguments.dump(-1, ' ', false, json::error_handler_t::replace);
    outcome.structured = {{"arguments", arguments}, {"name", name}};
    outcome.is_error = name.size() % 2 == 1;
    return outcome;
  }

 private:
  std::vector<ToolSpec> specs_;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckResponse(const McpResponse& response) {
  static constexpr int kStatuses[] = {200, 202, 204, 400, 401, 404, 406, 409, 413, 415, 503};
  bool known = false;
  for (int status : kStatuses) known = known || response.status == status;
  Check(known);
  if (response.content_type == "application/json") {
    Check(json::accept(response.body));
    const json body = json::parse(response.body);
    Check(body.is_object() && body.value("jsonrpc", "") == "2.0" && body.contains("id"));
    Check(body.contains("result") != body.contains("error"));
    if (body.contains("result")) Check(response.status == 200);
  } else if (response.content_type == "text/event-stream") {
    Check(response.status == 200);
    constexpr std::string_view kPrefix = "event: message\ndata: ";
    const std::string_view body = response.body;
    Check(body.starts_with(kPrefix) && body.ends_with("\n\n"));
    const std::string_view data = body.substr(kPrefix.size(), body.size() - kPrefix.size() - 2);
    Check(data.find('\n') == std::string_view::npos);
    Check(json::accept(data));
  } else {
    Check(response.content_type.empty() && response.body.empty());
    Check(response.status == 202 || response.status == 204);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  if (size < 2) return 0;
  const uint8_t headers = data[0];
  const uint8_t actions = data[1];
  const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);

  static FuzzTools tools;
  ManualClock clock(TimePoint{});
  EndpointOptions options;
  options.server_version = "fuzz";
  options.max_body_bytes = 16 * 1024;
  options.max_json_depth = 16;
  options.max_sessions_per_agent = 2;
  options.max_sessions_total = 3;
  Endpoint endpoint(
      tools,
      [](const std::string& agent) -> Result<void> {
        if (agent == "agent-1" || agent == "agent-2") return {};
        if (agent.empty()) return Unavailable("no agent given");
        return NotFound("no such agent");
      },
      clock, options);

  McpRequest init;
  init.method = "POST";
  init.accept = "application/json, text/event-stream";
  init.content_type = "application/json";
  init.agent_id = "agent-1";
  init.body =
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",
          "capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}})";
  const McpResponse opened = endpoint.Post(init);
  CheckResponse(opened);
  Check(opened.status == 200 && opened.headers.size() == 1);
  const std::string session = opened.headers[0].second;

  static constexpr const char* kAccepts[] = {"application/json, text/event-stream",
                                             "text/event-stream",
                                             "application/json",
                                             "*/*",
                                             "text/html",
                                             "",
                                             "text/*;q=0.1",
                                             "application/*"};
  static constexpr const char* kContentTypes[] = {
      "application/json", "application/json; charset=utf-8", "text/plain", ""};
  McpRequest request;
  request.method = "POST";
  request.body = body;
  request.accept = kAccepts[headers & 7];
  request.content_type = kContentTypes[(headers >> 3) & 3];
  request.session_id = (actions & 0x01) ? "" : session;
  request.agent_id = (actions & 0x02) ? "agent-2" : "agent-1";
  if (actions & 0x04) request.protocol_version = (actions & 0x08) ? "2024-11-05" : "2025-11-25";
  request.source_task_id = "task-1";

  CheckResponse(endpoint.Post(request));
  // The same body as a new initialize (no session), from an unregistered agent too.
  McpRequest fresh = request;
  fresh.session_id.clear();
  fresh.agent_id = (actions & 0x40) ? "stranger" : "agent-1";
  CheckResponse(endpoint.Post(fresh));

  if (actions & 0x10) {
    auto stream = endpoint.OpenStream(request);
    if (auto* refused = std::get_if<McpResponse>(&stream)) {
      CheckResponse(*refused);
    } else {
      Check(endpoint.StreamAlive(session));
    }
  }
  clock.Advance(std::chrono::hours(3));
  if (actions & 0x20) endpoint.ExpireIdle();
  CheckResponse(endpoint.Delete(request));
  endpoint.CloseAll();
  Check(endpoint.session_count() == 0 && !endpoint.StreamAlive(session));
  return 0;
}
