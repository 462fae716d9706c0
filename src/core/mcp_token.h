// Task-scoped MCP tokens. The harness CLI must reach the swarm's MCP server with a bearer, but
// it must never hold the swarm key (the CLI and every command its model runs could read it).
// So the worker, which holds the key, mints a token bound to one agent and one task:
//
//   mcpt.<task id>.<hex HMAC-SHA256(key, "agent-swarm mcp v1\n" + agent id + "\n" + task id)>
//
// The API recomputes the HMAC with its own key and the request's X-Agent-ID: a token is worth
// only that agent's identity, and only as long as the API accepts its task (see the /mcp
// route). A leaked token never reveals the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace swarm {

inline constexpr std::string_view kMcpTokenPrefix = "mcpt.";

// The token for (agent, task), from the swarm key.
std::string MintMcpTaskToken(std::string_view key, std::string_view agent_id,
                             std::string_view task_id);

// The task id the token is bound to, when `token` is a well-formed token minted with `key` for
// `agent_id` (constant-time comparison); nullopt otherwise, whatever is wrong with it.
std::optional<std::string> VerifyMcpTaskToken(std::string_view key, std::string_view agent_id,
                                              std::string_view token);

}  // namespace swarm
