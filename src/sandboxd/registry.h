// sandboxd's sandboxes: creation from a template, lookup, listing with a metadata filter,
// kill, the TTL (a thread kills each sandbox at its end time), and the records under --root
// that let a restarted sandboxd find what a previous run left (a sandbox whose processes are
// gone is reported gone and its directories removed; any process still there is killed).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "sandbox/local_runtime.h"
#include "sandboxd/templates.h"

namespace swarm::sandboxd {

using StringMap = std::map<std::string, std::string>;
using SystemTime = std::chrono::system_clock::time_point;

inline constexpr std::string_view kEnvdVersion = "0.6.13";

struct RegistryOptions {
  std::string root;  // sandboxd's state directory
  sandbox::Isolation isolation = sandbox::Isolation::kBubblewrap;
  std::size_t max_sandboxes = 32;
  std::size_t max_processes = 64;          // per sandbox
  std::size_t max_output_bytes = 1 << 20;  // retained per process
  std::chrono::seconds max_timeout{24 * 3600};
};

struct CreateRequest {
  std::string template_id = "base";
  std::chrono::seconds timeout{300};
  StringMap env_vars;
  StringMap metadata;
  bool secure = true;
  std::optional<int> cpu_count;  // the template's when unset
  std::optional<int> memory_mb;
};

// One running sandbox. The fields set at creation never change; the end time does.
struct SandboxEntry {
  std::string id;
  std::string template_id;
  std::string access_token;  // empty: not secure
  StringMap metadata;
  SystemTime started_at;
  int cpu_count = 0;
  int memory_mb = 0;
  std::unique_ptr<sandbox::LocalSandbox> sandbox;

  SystemTime end_at() const;

 private:
  friend class SandboxRegistry;
  mutable std::mutex mu_;
  SystemTime end_at_;
};

class SandboxRegistry {
 public:
  // `templates` resolves template names (null: only "base").
  explicit SandboxRegistry(RegistryOptions options, TemplateStore* templates = nullptr);
  ~SandboxRegistry();  // KillAll()
  SandboxRegistry(const SandboxRegistry&) = delete;
  SandboxRegistry& operator=(const SandboxRegistry&) = delete;

  // Cleans up what a previous run left under the root (see the header comment), then starts
  // the TTL thread. Returns how many leftover sandboxes were found.
  std::size_t Recover();

  Result<std::shared_ptr<SandboxEntry>> Create(const CreateRequest& request);
  // A running sandbox, or null (unknown, killed, expired, or its init died).
  std::shared_ptr<SandboxEntry> Get(const std::string& id);
  // Running sandboxes whose metadata holds every pair of `filter`, oldest first.
  std::vector<std::shared_ptr<SandboxEntry>> List(const StringMap& filter);
  // False when there was no such running sandbox.
  bool Kill(const std::string& id);
  // The TTL counted from now. `extend_only`: keep a later end time (connect).
  Result<void> SetTimeout(const std::string& id, std::chrono::seconds timeout,
                          bool extend_only = false);
  // Kills every sandbox (shutdown).
  void KillAll();
  // Kills sandboxes past their end time now (the TTL thread calls it; tests may too).
  void ExpireDue();
  // Rewrites a sandbox's record (after it started a process: the record lists what to kill).
  void SaveRecord(const SandboxEntry& entry);

  std::size_t size();
  const RegistryOptions& options() const { return options_; }

 private:
  void TtlLoop();
  void Remove(const std::shared_ptr<SandboxEntry>& entry, const char* reason);
  // Starts the template's start command and waits (bounded) for its ready command.
  Result<void> RunStartCommands(SandboxEntry& entry, const TemplateRuntime& runtime);

  const RegistryOptions options_;
  TemplateStore* templates_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<SandboxEntry>> sandboxes_;
  std::size_t creating_ = 0;  // admitted, still starting
  std::thread ttl_thread_;
};

// "i" + 20 of [a-z0-9], as E2B's ids; and a 32-byte hex access token. From getrandom(2).
std::string NewSandboxId();
std::string NewAccessToken();

}  // namespace swarm::sandboxd
