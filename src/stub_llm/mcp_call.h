// MCP tool calls as stub-llm scripts them (the MCP_CALL and MCP_RETRY markers, a script
// rule's `mcp`): the tool found by its MCP name whatever prefix the CLI adds to it, the task id
// placeholder in the arguments, and an error result told from a success.
//
// The same MCP tool reaches the model under a different name in each CLI:
//   claude     mcp__agent-swarm__store-progress
//   codex      store_progress inside the Responses namespace tool mcp__agent_swarm
//   opencode   agent-swarm_store-progress
//   pi         store-progress (the name our pi extension registers)
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "stub_llm/chat_request.h"

namespace swarm::stub_llm {

inline constexpr std::string_view kTaskIdPlaceholder = "{{taskId}}";

// Whether `offered` (a tool name as the model sees it) is the MCP tool `mcp_name`: equal, or
// ending in "_" + mcp_name (claude's "__" and opencode's "_" prefixes), with '-' and '_'
// counting as the same character (codex writes store_progress).
bool McpNameMatches(std::string_view offered, std::string_view mcp_name);

// The offered tool for `mcp_name`: an exact match (up to '-' and '_') first, else the first
// tool that matches by suffix. Freeform tools never match (an MCP tool takes JSON). Null when
// no tool matches.
const OfferedTool* FindMcpTool(const ChatRequest& request, std::string_view mcp_name);

// How many of the calls made since the prompt are calls of `mcp_name`.
int CountMcpCalls(const ChatRequest& request, std::string_view mcp_name);

// Replaces kTaskIdPlaceholder in every string value of `args`, at any depth, by `task_id`
// (nothing is replaced when `task_id` is empty). Returns whether `args` held the placeholder.
bool ReplaceTaskId(nlohmann::json& args, std::string_view task_id);

// The id after the first "Task ID:" in `text` that is followed by one: the next word, without
// quotes, backticks or trailing punctuation around it. Empty when there is none.
std::string TaskIdIn(std::string_view text);

// Whether a tool result's text reports an error: after trimming (and after codex's "Wall time:
// … Output:" header), it starts with "Error" or "ERR" (the API's store-progress errors start
// "Error: output does not match…"), or it is a JSON object with "success": false or
// "isError": true (codex passes the result's structuredContent, not its text).
bool LooksLikeToolError(std::string_view text);

}  // namespace swarm::stub_llm
