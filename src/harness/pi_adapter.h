// pi (@mariozechner/pi-coding-agent): `pi -p --mode json <prompt>` with models.json and
// settings.json in PI_CODING_AGENT_DIR (under the task's home), PI_OFFLINE=1 and retries off.
// pi exits 0 on API errors: success comes from the last assistant message's stopReason.
// See notes/harness-clis.md §4.
#pragma once

#include <string>

#include "harness/adapter.h"

namespace swarm::harness {

class PiAdapter final : public Adapter {
 public:
  Provider provider() const override { return Provider::kPi; }
  Result<ProcessSpec> Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const override;
  std::unique_ptr<OutputParser> NewParser() const override;
};

// models.json and settings.json for an endpoint (models.json names the key's variable).
std::string PiModelsJson(const ModelEndpoint& endpoint);
std::string PiSettingsJson(const ModelEndpoint& endpoint);

}  // namespace swarm::harness
