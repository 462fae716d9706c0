// The MCP server's protocol layer: Streamable HTTP (MCP revision 2025-03-26 and later) over
// plain request/response values, so it is tested without sockets. JSON-RPC 2.0 messages,
// sessions (Mcp-Session-Id) bound to the agent that opened them, bounded in number per agent
// and in total, ended by DELETE or by idling. Auth of the bearer is the route's job, done
// before a request reaches the endpoint; the endpoint checks the agent.
//
// Thread-safe: the route calls it from several threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "mcp/tool_set.h"

namespace swarm::mcp {

struct EndpointOptions {
  std::string server_name = "agent-swarm";
  std::string server_version;  // BuildVersion()
  std::size_t max_sessions_total = 1024;
  std::size_t max_sessions_per_agent = 16;
  std::chrono::milliseconds idle_timeout{std::chrono::hours(2)};
  std::size_t max_body_bytes = 1 << 20;  // beyond: 413 with a JSON-RPC error body
  int max_json_depth = 64;
};

// One HTTP request to /mcp, as the route hands it over (header names as in the spec).
struct McpRequest {
  std::string method;  // POST, GET, DELETE
  std::string body;
  std::string accept;                         // Accept
  std::string content_type;                   // Content-Type
  std::string session_id;                     // Mcp-Session-Id, "" when absent
  std::string protocol_version;               // MCP-Protocol-Version, "" when absent
  std::string agent_id;                       // X-Agent-ID, "" when absent
  std::optional<std::string> source_task_id;  // X-Source-Task-Id
  std::optional<std::string> token_task_id;   // from a task-scoped bearer, see Caller
};

// The HTTP answer. For POST: 200 with one JSON-RPC response (application/json, or one SSE
// `message` event when the client accepts only text/event-stream), 202 with no body for
// notifications and responses, or an HTTP error status with a JSON-RPC error body.
struct McpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Mcp-Session-Id on initialize
};

// Is this agent registered? kNotFound when not; other errors are internal (503/500).
using AgentCheck = std::function<Result<void>(const std::string& agent_id)>;

class Endpoint {
 public:
  Endpoint(ToolSet& tools, AgentCheck agent_check, const Clock& clock, EndpointOptions options);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // POST /mcp. Blocking (tools/call and initialize reach the store): run off the I/O threads.
  McpResponse Post(const McpRequest& request);
  // The same, with the body already read by ParseBody: a caller that had to look inside it
  // first (the API sends reads to its read pool) need not parse it twice.
  McpResponse Post(const McpRequest& request, Result<nlohmann::json> parsed_body);
  // A POST body read within this endpoint's limits (depth and size), as Post reads it.
  Result<nlohmann::json> ParseBody(std::string_view body) const;
  // DELETE /mcp: ends the session (204), 404 for an unknown one, 401 for another agent's.
  McpResponse Delete(const McpRequest& request);

  // GET /mcp opens the session's server-to-client SSE stream. Returns the stream's id when the
  // session is valid for this agent and has no stream yet; otherwise the HTTP error to answer
  // (404 unknown session, 401 other agent, 409 a stream is already open, 406 Accept lacks
  // text/event-stream). The route keeps the stream open with SSE comments while
  // StreamAlive(id), and calls CloseStream(id) when it ends.
  struct OpenedStream {
    std::string session_id;
  };
  std::variant<OpenedStream, McpResponse> OpenStream(const McpRequest& request);
  bool StreamAlive(const std::string& session_id) const;
  void CloseStream(const std::string& session_id);

  // Ends sessions idle for longer than idle_timeout (monotonic clock). Returns how many.
  std::size_t ExpireIdle();
  // Ends every session (server shutdown): open streams see StreamAlive false.
  void CloseAll();
  std::size_t session_count() const;

 private:
  // Post, parsing the body itself when `parsed` is unset.
  McpResponse PostBody(const McpRequest& request, std::optional<Result<nlohmann::json>> parsed);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swarm::mcp
