// Claude Code: `claude -p --output-format stream-json --verbose --dangerously-skip-permissions`
// with the prompt on stdin, configured entirely through the environment
// (CLAUDE_CONFIG_DIR under the task's home). See notes/harness-clis.md §1.
#pragma once

#include "harness/adapter.h"

namespace swarm::harness {

class ClaudeAdapter final : public Adapter {
 public:
  Provider provider() const override { return Provider::kClaude; }
  Result<ProcessSpec> Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const override;
  std::unique_ptr<OutputParser> NewParser() const override;
};

}  // namespace swarm::harness
