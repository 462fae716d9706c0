// Codex CLI: `codex exec --json --skip-git-repo-check <prompt>` with a config.toml in
// CODEX_HOME (under the task's home) that names the endpoint as a Responses-API provider and
// turns off everything that would reach anywhere else. See notes/harness-clis.md §2.
#pragma once

#include <optional>
#include <string>

#include "harness/adapter.h"

namespace swarm::harness {

class CodexAdapter final : public Adapter {
 public:
  Provider provider() const override { return Provider::kCodex; }
  Result<ProcessSpec> Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const override;
  std::unique_ptr<OutputParser> NewParser() const override;
};

// The config.toml for an endpoint (the key stays in the environment: env_key names it), with
// the swarm's MCP server as [mcp_servers.agent-swarm] when given (its bearer and agent id by
// the name of their variables).
std::string CodexConfigToml(const ModelEndpoint& endpoint,
                            const std::optional<McpAccess>& mcp = std::nullopt);

}  // namespace swarm::harness
