// opencode: `opencode run --format json --auto` with the prompt on stdin (a positional prompt
// gets quoted), XDG directories under the task's home and an opencode.json there that defines
// the endpoint as the only provider. See notes/harness-clis.md §3.
#pragma once

#include <optional>
#include <string>

#include "harness/adapter.h"

namespace swarm::harness {

// The opencode release the project installs. Its plugin dependency is pinned to the same
// version; the config dir's package-lock.json must name it or opencode runs npm on every start.
inline constexpr char kOpencodeVersion[] = "1.18.33";

class OpencodeAdapter final : public Adapter {
 public:
  Provider provider() const override { return Provider::kOpencode; }
  Result<ProcessSpec> Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const override;
  std::unique_ptr<OutputParser> NewParser() const override;
};

// opencode.json for an endpoint, with the swarm's MCP server as a "remote" entry when given;
// the keys and the token are referenced as {env:…}, never written.
std::string OpencodeConfigJson(const ModelEndpoint& endpoint,
                               const std::optional<McpAccess>& mcp = std::nullopt);

}  // namespace swarm::harness
