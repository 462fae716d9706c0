// pi's MCP client: src/harness/pi_mcp_extension.ts, built into the binary by
// cmake/embed_text.cmake, and written by the pi adapter into each task's pi agent dir.
#pragma once

#include <string_view>

namespace swarm::harness {

// The extension's source text.
std::string_view PiMcpExtensionSource();

// Its file name under <agent dir>/extensions/, where pi loads it from.
inline constexpr char kPiMcpExtensionFile[] = "agent-swarm-mcp.ts";

// The prefix of the lines it prints on stderr: "<prefix> connected: <tool> ..." or
// "<prefix> not connected: <reason>".
inline constexpr char kPiMcpMarker[] = "[agent-swarm mcp]";

}  // namespace swarm::harness
