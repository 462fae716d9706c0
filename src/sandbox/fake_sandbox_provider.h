// An in-memory SandboxProvider for tests of its callers (worker launch, the `e2b` commands):
// it records what it is asked and answers from fields the test sets.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

class FakeSandboxProvider : public SandboxProvider {
 public:
  // Answers.
  std::string next_id = "sbx-1";
  std::optional<Error> create_error;
  std::optional<Error> start_error;
  int start_pid = 42;
  // ListProcesses calls after which the started process is gone; -1: it never exits.
  int process_exits_after_lists = -1;
  std::string worker_log = "worker log line\n";
  std::vector<SandboxInfo> sandboxes;  // what Get/List see; Create adds to it

  // Records.
  std::vector<SandboxSpec> created;
  std::vector<CommandSpec> started;
  std::vector<std::string> killed;
  std::vector<std::pair<std::string, std::chrono::seconds>> timeouts;
  int list_process_calls = 0;

  Result<SandboxInfo> Create(const SandboxSpec& spec) override {
    if (create_error) return tl::unexpected(*create_error);
    created.push_back(spec);
    SandboxInfo info;
    info.handle.sandbox_id = next_id;
    info.handle.envd_access_token = "envd-token-secret";
    info.template_id = spec.template_id;
    info.metadata = spec.metadata;
    info.state = "running";
    sandboxes.push_back(info);
    return info;
  }
  Result<SandboxInfo> Get(std::string_view id) override {
    for (const auto& s : sandboxes) {
      if (s.id() == id) return s;
    }
    return NotFound("E2B 404: sandbox " + std::string(id) + " not found");
  }
  Result<std::vector<SandboxInfo>> List(const StringMap& filter) override {
    std::vector<SandboxInfo> out;
    for (const auto& s : sandboxes) {
      const bool match = std::all_of(filter.begin(), filter.end(), [&](const auto& kv) {
        auto it = s.metadata.find(kv.first);
        return it != s.metadata.end() && it->second == kv.second;
      });
      if (match) out.push_back(s);
    }
    return out;
  }
  Result<bool> Kill(std::string_view id) override {
    killed.emplace_back(id);
    auto it = std::find_if(sandboxes.begin(), sandboxes.end(),
                           [&](const SandboxInfo& s) { return s.id() == id; });
    if (it == sandboxes.end()) return false;
    sandboxes.erase(it);
    return true;
  }
  Result<void> SetTimeout(std::string_view id, std::chrono::seconds timeout) override {
    auto info = Get(id);
    if (!info) return tl::unexpected(info.error());
    timeouts.emplace_back(std::string(id), timeout);
    return {};
  }
  Result<SandboxInfo> Connect(std::string_view id, std::chrono::seconds) override {
    return Get(id);
  }
  Result<CommandResult> Run(const SandboxHandle&, const CommandSpec& command,
                            const OutputCallbacks&) override {
    started.push_back(command);
    CommandResult r;
    r.exited = true;
    return r;
  }
  Result<int> StartBackground(const SandboxHandle&, const CommandSpec& command) override {
    if (start_error) return tl::unexpected(*start_error);
    started.push_back(command);
    return start_pid;
  }
  Result<std::vector<ProcessInfo>> ListProcesses(const SandboxHandle&) override {
    ++list_process_calls;
    std::vector<ProcessInfo> out;
    if (process_exits_after_lists < 0 || list_process_calls <= process_exits_after_lists) {
      out.push_back(ProcessInfo{start_pid, "/bin/bash", {}, "", "agent-swarm-worker"});
    }
    return out;
  }
  Result<bool> SendSignal(const SandboxHandle&, int, Signal) override { return true; }
  Result<std::string> ReadFile(const SandboxHandle&, std::string_view) override {
    return worker_log;
  }
  Result<void> WriteFile(const SandboxHandle&, std::string_view, std::string_view) override {
    return {};
  }
};

}  // namespace swarm::sandbox
