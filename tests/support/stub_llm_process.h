// Test support: the real `agent-swarm stub-llm` binary on a loopback port chosen by the OS, its
// log (one JSON line per request on stderr) in a file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace swarm::testing_support {

class StubLlmProcess {
 public:
  // Starts `agent-swarm stub-llm --port 0 extra_args...` with its log at `log_path` and waits
  // (bounded) until it listens. Throws std::runtime_error with the log if it does not.
  explicit StubLlmProcess(std::string log_path, std::vector<std::string> extra_args = {});

  uint16_t port() const { return port_; }
  // The base URL as Claude Code takes it (ANTHROPIC_BASE_URL; the CLI appends /v1/messages).
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The base URL as OpenAI-style clients take it (Codex, opencode, pi append /responses or
  // /chat/completions).
  std::string openai_url() const { return url() + "/v1"; }
  std::string log() const { return ReadFile(log_path_); }
  ChildProcess& child() { return *child_; }

 private:
  std::string log_path_;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
};

}  // namespace swarm::testing_support
