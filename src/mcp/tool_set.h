// What the MCP protocol layer serves: a set of tools. The protocol layer (endpoint.h) knows
// JSON-RPC and sessions, nothing of tasks; the API's tools (api/mcp_tools.h) know tasks,
// nothing of JSON-RPC. This header is the seam between them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace swarm::mcp {

struct ToolSpec {
  std::string name;  // "store-progress"
  std::string title;
  std::string description;
  nlohmann::json input_schema;  // a JSON Schema object, published as inputSchema
};

// Who calls: the agent the session is bound to, and the headers that come with each call.
struct Caller {
  std::string agent_id;
  // X-Source-Task-Id of the request, if sent.
  std::optional<std::string> source_task_id;
  // Set when the bearer was a task-scoped token (core/mcp_token.h): the task it is bound to.
  std::optional<std::string> token_task_id;
};

// A tool's answer. A tool that ran but refuses or fails (not your task, output does not match
// the schema) answers is_error = true with the reason: the model sees it and may try again.
struct ToolOutcome {
  nlohmann::json structured = nlohmann::json::object();  // structuredContent
  std::string text;                                      // the text content rendering
  bool is_error = false;
};

class ToolSet {
 public:
  virtual ~ToolSet() = default;
  virtual const std::vector<ToolSpec>& Tools() const = 0;
  // Runs the tool. Errors as values map to JSON-RPC errors: kNotFound (no such tool) and
  // kBadRequest (arguments that do not fit the input schema) become -32602 "Invalid params"
  // with the message; anything else becomes -32603 "Internal error" with the message.
  // Blocking (the store): the caller runs it off the I/O threads.
  virtual Result<ToolOutcome> Call(const std::string& name, const nlohmann::json& arguments,
                                   const Caller& caller) = 0;
};

}  // namespace swarm::mcp
