// An Answer is what a script rule or a prompt marker asks of one model turn; every field is
// optional so a marker can override a single field of the rule that matched.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace swarm::stub_llm {

// Scripted delays are bounded: a typo must not park a connection for a day.
inline constexpr std::chrono::milliseconds kMaxDelay{600'000};

struct ToolRequest {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();  // a string for freeform tools
};

struct Answer {
  std::optional<std::string> reply;  // the final text (also the text after a tool result)
  std::optional<std::string> shell;  // ask for this command through the offered shell tool
  std::optional<ToolRequest> tool;   // ask for this call of an offered tool
  // Ask for this call of an offered MCP tool, `name` being its MCP name (store-progress),
  // found whatever prefix the CLI adds (mcp_call.h); "{{taskId}}" in the arguments becomes
  // the request's task id.
  std::optional<ToolRequest> mcp;
  // When the result of that MCP call is an error, call the same tool once more with these
  // arguments (an object) before the final reply.
  std::optional<nlohmann::json> mcp_retry;
  std::optional<int> status;         // answer with this HTTP error status (400..599)
  std::optional<std::string> error;  // the message of that error
  std::optional<bool> retry;         // whether the error invites a retry (x-should-retry)
  std::optional<std::chrono::milliseconds> delay;  // wait this long before answering

  // Takes every field `other` sets. A shell command, a tool call and an MCP call replace one
  // another, since one turn asks for one call; a shell command or tool call also drops the
  // MCP retry, which belongs to the MCP call.
  void Overlay(const Answer& other);
  bool asks_for_tool() const { return shell.has_value() || tool.has_value() || mcp.has_value(); }
  bool empty() const {
    return !reply && !shell && !tool && !mcp && !mcp_retry && !status && !error && !retry && !delay;
  }
};

}  // namespace swarm::stub_llm
