// Claude Code: `claude -p --output-format stream-json --verbose --dangerously-skip-permissions`
// with the prompt on stdin, configured entirely through the environment
// (CLAUDE_CONFIG_DIR under the task's home), and with the swarm's MCP server by a per-task
// --mcp-config file with --strict-mcp-config. See notes/harness-clis.md §1, harness-mcp.md.
#pragma once

#include "harness/adapter.h"

namespace swarm::harness {

class ClaudeAdapter final : public Adapter {
 public:
  Provider provider() const override { return Provider::kClaude; }
  Result<ProcessSpec> Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const override;
  std::unique_ptr<OutputParser> NewParser() const override;
};

// The --mcp-config file for the swarm's MCP server: the bearer and agent id are ${VAR}
// references to the child's environment, never the values.
std::string ClaudeMcpConfigJson(const McpAccess& mcp);

}  // namespace swarm::harness
