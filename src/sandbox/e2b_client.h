// SandboxProvider over E2B's published protocol: the control plane (REST, X-API-Key) and envd
// inside each sandbox (Connect JSON RPCs and the /files REST endpoints). The same client works
// against E2B's cloud and against our sandboxd; it only needs an HttpClient (tests inject fakes).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.h"
#include "sandbox/e2b_api.h"
#include "sandbox/e2b_config.h"
#include "sandbox/envd_stream.h"
#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

struct E2bClientOptions {
  e2b::ApiOptions api;
  // Run keeps at most this much of each of stdout and stderr (callbacks still see it all);
  // what is cut is said at the end of the kept text.
  std::size_t max_output_bytes = 1 << 20;
  std::size_t max_file_bytes = 64 << 20;  // ReadFile refuses a larger file
  // envd pings a silent stream every Keepalive-Ping-Interval seconds; a stream silent for
  // this long is dead.
  std::chrono::seconds keepalive_interval{50};
  std::chrono::milliseconds stream_stall_timeout{120'000};
  // Bound on StartBackground waiting for the `start` event.
  std::chrono::milliseconds start_timeout{60'000};
  // List follows X-Next-Token at most this many pages (100 sandboxes each).
  int max_list_pages = 100;
};

class E2bSandboxProvider final : public SandboxProvider {
 public:
  E2bSandboxProvider(E2bConfig config, http::HttpClient& http, E2bClientOptions options = {});
  // Owning its HTTP client (the CLI's case: E2bSandboxProvider(config,
  // std::make_unique<http::CurlHttpClient>())).
  E2bSandboxProvider(E2bConfig config, std::unique_ptr<http::HttpClient> http,
                     E2bClientOptions options = {});

  Result<SandboxInfo> Create(const SandboxSpec& spec) override;
  Result<SandboxInfo> Get(std::string_view sandbox_id) override;
  Result<std::vector<SandboxInfo>> List(const StringMap& metadata_filter) override;
  Result<bool> Kill(std::string_view sandbox_id) override;
  Result<void> SetTimeout(std::string_view sandbox_id, std::chrono::seconds timeout) override;
  Result<SandboxInfo> Connect(std::string_view sandbox_id, std::chrono::seconds timeout) override;

  Result<CommandResult> Run(const SandboxHandle& sandbox, const CommandSpec& command,
                            const OutputCallbacks& callbacks = {}) override;
  Result<int> StartBackground(const SandboxHandle& sandbox, const CommandSpec& command) override;
  Result<std::vector<ProcessInfo>> ListProcesses(const SandboxHandle& sandbox) override;
  Result<bool> SendSignal(const SandboxHandle& sandbox, int pid, Signal signal) override;
  Result<std::string> ReadFile(const SandboxHandle& sandbox, std::string_view path) override;
  Result<void> WriteFile(const SandboxHandle& sandbox, std::string_view path,
                         std::string_view content) override;

  // Beyond SandboxProvider: envd's process.Process/Connect, reattaching to a running (or
  // retained finished) process by pid and following it to its end, as Run does. Output
  // produced before the call is not replayed by envd.
  Result<CommandResult> ConnectProcess(const SandboxHandle& sandbox, int pid,
                                       const OutputCallbacks& callbacks = {});

  const E2bConfig& config() const { return api_.config(); }

 private:
  Result<SandboxInfo> SandboxFromReply(const nlohmann::json& body);
  http::ClientRequest EnvdRequest(const SandboxHandle& sandbox, std::string_view path,
                                  std::string_view user);
  // A unary Connect call; a Connect error comes back as the Error its code stands for, with
  // `connect_code` set to the code so callers can tell not_found apart.
  Result<nlohmann::json> EnvdUnary(const SandboxHandle& sandbox, std::string_view method,
                                   const nlohmann::json& message, std::string* connect_code);
  // A process.Process stream (Start or Connect): events to `on_event` until it returns false
  // (then *stopped_early) or the stream ends. `deadline` > 0 becomes Connect-Timeout-Ms.
  Result<void> ProcessStream(const SandboxHandle& sandbox, std::string_view method,
                             const nlohmann::json& message, std::string_view user,
                             std::chrono::milliseconds deadline,
                             std::chrono::milliseconds exchange_timeout,
                             const ProcessStreamDecoder::EventCallback& on_event,
                             bool* stopped_early);
  // A process stream followed to the process's end, output collected.
  Result<CommandResult> FollowProcess(const SandboxHandle& sandbox, std::string_view method,
                                      const nlohmann::json& message, std::string_view user,
                                      std::chrono::milliseconds deadline,
                                      const OutputCallbacks& callbacks);
  Error EnvdHttpError(int status, std::string_view body, std::string_view what) const;

  std::unique_ptr<http::HttpClient> owned_http_;  // set by the owning constructor
  e2b::E2bApi api_;
  E2bClientOptions options_;
};

}  // namespace swarm::sandbox
