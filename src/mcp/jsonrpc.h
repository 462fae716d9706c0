// JSON-RPC 2.0 as MCP uses it: one message per POST (MCP 2025-06-18 dropped batches), ids that
// are strings or numbers (never null), params that are objects. Telling the three kinds of
// message apart, and writing responses.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace swarm::mcp::jsonrpc {

// The error codes of JSON-RPC 2.0 and the ones MCP servers use in the server range.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
// Transport-level refusals (wrong media type, auth, too large), as the TypeScript SDK does.
inline constexpr int kServerError = -32000;
// An unknown or expired Mcp-Session-Id; the client is expected to initialize again.
inline constexpr int kSessionNotFound = -32001;

enum class Kind { kRequest, kNotification, kResponse };

struct Message {
  Kind kind = Kind::kRequest;
  nlohmann::json id;      // requests and responses: a string or a number; else null
  std::string method;     // requests and notifications
  nlohmann::json params;  // an object, or null when absent
};

struct RpcError {
  int code = kInternalError;
  std::string message;
  nlohmann::json id;  // echoed in the error response: the message's id when usable, else null
};

// Classifies one parsed JSON value. Not a JSON-RPC 2.0 request, notification or response
// (an array, a missing or wrong "jsonrpc", a method that is not a string, an id that is not a
// string or number, params that are not an object) → kInvalidRequest.
// Takes the value by value so that params (a tool's whole output, say) move instead of copy.
tl::expected<Message, RpcError> Classify(nlohmann::json value);

// Serialized responses. `result` and `data` must be valid JSON values; strings that are not
// valid UTF-8 are written with U+FFFD, so the output always parses.
std::string ResultResponse(const nlohmann::json& id, const nlohmann::json& result);
// The same with a result that is already serialized JSON (a cached tools/list).
std::string RawResultResponse(const nlohmann::json& id, std::string_view result_json);
std::string ErrorResponse(const nlohmann::json& id, int code, std::string_view message,
                          const nlohmann::json& data = nullptr);

// dump() that never throws on invalid UTF-8 (tool output may carry any bytes).
std::string Dump(const nlohmann::json& value);

}  // namespace swarm::mcp::jsonrpc
