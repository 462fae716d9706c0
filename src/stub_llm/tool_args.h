// Arguments for a tool call the stub asks for, built from the JSON schema the CLI offered the
// tool with, so the CLI accepts the call and runs it: Claude's Bash {command}, Codex's
// exec_command {cmd}, opencode's bash {command, description}, pi's bash {command}.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "stub_llm/chat_request.h"

namespace swarm::stub_llm {

// The offered tool that runs shell commands: a known shell tool name first (Bash, bash,
// exec_command, shell, ...), else any tool whose schema has a `command` or `cmd` property.
// Null when the request offers none.
const OfferedTool* FindShellTool(const ChatRequest& request);

// The arguments that run `command` through `tool`: the command in `command` or `cmd` (a
// string, or ["bash", "-lc", command] where the schema wants an array), plus every other
// required field (see FillRequired).
nlohmann::json ShellArguments(const OfferedTool& tool, std::string_view command);

// Adds to `args` (an object) each field `schema` requires that `args` lacks: the schema's
// default, const or first enum value, else a neutral value of the declared type. Strings
// meant for people (description, justification) get a short sentence.
void FillRequired(const nlohmann::json& schema, nlohmann::json& args);

}  // namespace swarm::stub_llm
