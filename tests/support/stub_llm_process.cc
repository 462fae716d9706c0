#include "support/stub_llm_process.h"

#include "support/api_process.h"

namespace swarm::testing_support {

StubLlmProcess::StubLlmProcess(std::string log_path, std::vector<std::string> extra_args)
    : log_path_(std::move(log_path)) {
  ChildSpec spec;
  spec.argv = {AgentSwarmBinary(), "stub-llm", "--port", "0"};
  spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
  spec.stderr_path = log_path_;
  child_ = std::make_unique<ChildProcess>(spec);

  port_ = WaitListening(*child_, log_path_, "agent-swarm stub-llm");
}

}  // namespace swarm::testing_support
