// Where the API's smoke runs get their sandboxes and what the runner is given: the E2B client
// when E2B is configured (E2B_API_KEY / E2B_API_URL), otherwise a sandboxd the API starts
// itself (the embedded default), with the local worker template built in it. Plus the host's
// side of a run: provider credentials (the API's environment and its --smoke-secrets file), the
// sandboxes' extra env, the URL workers reach the API at.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "http/client.h"
#include "sandbox/deferred_provider.h"
#include "sandbox/sandbox_provider.h"

namespace swarm {

enum class SmokeBackendKind { kAuto, kE2b, kLocal, kOff };
std::optional<SmokeBackendKind> ParseSmokeBackendKind(std::string_view name);
const char* SmokeBackendKindName(SmokeBackendKind kind);

// auto → e2b when E2B_API_KEY or E2B_API_URL is set in `env`, else local.
SmokeBackendKind ResolveSmokeBackendKind(SmokeBackendKind requested, const sandbox::StringMap& env);

// The --smoke-secrets file: dotenv (sandbox/dotenv.h), refused unless it is a regular file no
// one but its owner may read or write (no group/other permission bits: "chmod 600 FILE").
Result<sandbox::StringMap> ReadSmokeSecretsFile(const std::string& path);

// The runner's provider credentials: from `env`, every variable some provider's worker reads
// (smoke::ProviderCredentialVars) and the model base URLs (ANTHROPIC_BASE_URL,
// OPENAI_BASE_URL, OPENROUTER_BASE_URL); then every entry of the secrets file over them.
sandbox::StringMap SmokeCredentials(const sandbox::StringMap& env,
                                    const sandbox::StringMap& secrets_file);

// The values among `credentials` (or a request's secrets) to keep out of logs: those of a
// sensitive name (sandbox::IsSensitiveKey) and any of 8 characters or more, but not the model
// base URLs (URLs lose their user information in every log line anyway). A short value of an
// ordinary name ("true", "1") would only mangle unrelated text.
std::vector<std::string> SmokeSecretValues(const sandbox::StringMap& credentials);

// KEY=VALUE (--smoke-worker-env) into a map; an error naming the entry's key when malformed.
Result<sandbox::StringMap> ParseWorkerEnv(const std::vector<std::string>& entries);

// The non-secret env a local sandbox needs on top of the seed's runtime env: sandboxd runs
// sandboxes over this machine's root with only the env they are given, so they are told where
// this binary is (AGENT_SWARM_BIN), the PATH, and HARNESS_BIN_DIR when the API has it.
sandbox::StringMap LocalWorkerEnv(const sandbox::StringMap& env, const std::string& self_exe);

// The API's URL as workers reach it when --public-url is not given: http://127.0.0.1:<port>
// for a loopback or any-address host, else http://<host>:<port>.
std::string DefaultPublicUrl(const std::string& host, uint16_t port);

struct SmokeBackendConfig {
  SmokeBackendKind kind = SmokeBackendKind::kAuto;  // resolved: e2b or local
  std::string template_id = "agent-swarm-worker";   // built in the local sandboxd
  std::string db_path;  // the local sandboxd's state and log go beside it
  std::chrono::milliseconds start_timeout{15'000};
};

// The sandbox side of the API's smoke runs. Thread-safe once opened.
class SmokeBackend {
 public:
  // e2b: the E2B client over E2bConfig::FromEnv(env) (E2B_API_KEY required). local: on first
  // use (sandbox::DeferredSandboxProvider: not at start-up, where it would cost the API ~250 ms
  // before /health and a process no one may need), and again after it died, starts
  // `<self> sandboxd --port 0 --root <db_path>.sandboxd` with a fresh random key in its env (and
  // nothing else secret) and builds LocalWorkerTemplate(template_id) in it.
  static Result<std::shared_ptr<SmokeBackend>> Open(const SmokeBackendConfig& config,
                                                    const sandbox::StringMap& env,
                                                    const std::string& self_exe);
  ~SmokeBackend();

  SmokeBackendKind kind() const { return kind_; }
  sandbox::SandboxProvider& sandboxes() { return *sandboxes_; }
  http::HttpClient& http() { return *http_; }
  // Where the sandboxes come from, for the log: E2B's control-plane URL, or words for the
  // embedded sandboxd (its URL changes with every start; each start logs it).
  const std::string& endpoint() const { return endpoint_; }
  // Stops the local sandboxd (its sandboxes with it); nothing for E2B. Idempotent.
  void Stop();

 private:
  SmokeBackend() = default;

  SmokeBackendKind kind_ = SmokeBackendKind::kE2b;
  std::string endpoint_;
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<sandbox::SandboxProvider> sandboxes_;
  sandbox::DeferredSandboxProvider* deferred_ = nullptr;  // sandboxes_, when local
};

}  // namespace swarm
