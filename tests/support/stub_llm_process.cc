#include "support/stub_llm_process.h"

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/api_process.h"

namespace swarm::testing_support {

StubLlmProcess::StubLlmProcess(std::string log_path, std::vector<std::string> extra_args)
    : log_path_(std::move(log_path)) {
  ChildSpec spec;
  spec.argv = {AgentSwarmBinary(), "stub-llm", "--port", "0"};
  spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
  spec.stderr_path = log_path_;
  child_ = std::make_unique<ChildProcess>(spec);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(ReadFile(log_path_));
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == "listening") {
        port_ = j.value("port", 0);
        return;
      }
    }
    if (!child_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  throw std::runtime_error("agent-swarm stub-llm did not start listening; log:\n" + log());
}

}  // namespace swarm::testing_support
