// Markers in the prompt script a single turn without a script file, so a test (or an
// operator's smoke task) carries its own instructions to the model:
//
//   REPLY: <text>               answer <text> instead of the default reply
//   RUN_SHELL: <command>        call the offered shell tool with <command>, then reply
//   CALL_TOOL: <name> [<json>]  call the offered tool <name> with these arguments, then reply
//   MCP_CALL: <tool> [<json>]   call the offered MCP tool <tool> with these arguments (a JSON
//                               object), then reply
//   MCP_RETRY: <json>           when the result of that MCP call is an error, call the tool
//                               again with these arguments, then reply
//   HTTP_ERROR: <status> [msg]  answer with this HTTP error status
//   DELAY_MS: <n>               wait n milliseconds before answering
//
// Each marker is case-sensitive, may stand anywhere in a line, and takes the rest of that line.
// One turn asks for one call: MCP_CALL wins over CALL_TOOL, which wins over RUN_SHELL.
//
// MCP_CALL names the tool by its MCP name (store-progress) and finds it whatever prefix the CLI
// adds (mcp__agent-swarm__store-progress, agent-swarm_store-progress, codex's store_progress
// in the namespace mcp__agent_swarm; see mcp_call.h). "{{taskId}}" anywhere in the arguments
// of MCP_CALL or MCP_RETRY becomes the id of the first "Task ID: <id>" line of the request's
// system, developer or user text. Turns are counted from the conversation in the request:
//   the prompt                          the MCP call
//   its result, an error, MCP_RETRY     the same tool again with the MCP_RETRY arguments
//   any other tool result               the final reply (REPLY, else the default)
// No such tool on offer: the plain reply, with a note in the request log.
#pragma once

#include <string_view>

#include "core/error.h"
#include "stub_llm/answer.h"

namespace swarm::stub_llm {

// The markers in `text` as an Answer (fields without a marker stay unset). A malformed marker
// (RUN_SHELL without a command, arguments that are not JSON, MCP arguments that are not an
// object, a status outside 400..599) is kBadRequest naming it.
Result<Answer> ParseMarkers(std::string_view text);

}  // namespace swarm::stub_llm
