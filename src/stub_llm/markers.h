// Markers in the prompt script a single turn without a script file, so a test (or an
// operator's smoke task) carries its own instructions to the model:
//
//   REPLY: <text>               answer <text> instead of the default reply
//   RUN_SHELL: <command>        call the offered shell tool with <command>, then reply
//   CALL_TOOL: <name> [<json>]  call the offered tool <name> with these arguments, then reply
//   HTTP_ERROR: <status> [msg]  answer with this HTTP error status
//   DELAY_MS: <n>               wait n milliseconds before answering
//
// Each marker is case-sensitive, may stand anywhere in a line, and takes the rest of that line.
#pragma once

#include <string_view>

#include "core/error.h"
#include "stub_llm/answer.h"

namespace swarm::stub_llm {

// The markers in `text` as an Answer (fields without a marker stay unset). A malformed marker
// (RUN_SHELL without a command, arguments that are not JSON, a status outside 400..599) is
// kBadRequest naming it.
Result<Answer> ParseMarkers(std::string_view text);

}  // namespace swarm::stub_llm
