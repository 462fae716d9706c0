// A ProviderSmokeRequest from outside (POST /api/smoke-runs, the CLI's flags), checked and
// completed with the host's defaults. Every field is bounded; an error names the field.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/smoke_run.h"

namespace swarm::smoke {

// What a request may leave out.
struct SmokeRequestDefaults {
  std::string template_id = "agent-swarm-worker";
  std::string api_url;  // the API's URL as workers reach it
  std::string api_key;  // the API's own key (secret)
  std::string deployment_sha = "local";
  int64_t timeout_ms = 300'000;
  int64_t sandbox_timeout_sec = 900;
  std::optional<std::string> model_base_url;
};

// Fields: providers (required, non-empty, each of kSmokeProviders, no repeats), template,
// apiUrl (http/https), apiKey, deploymentSha ([A-Za-z0-9._-], ≤ 40), timeoutMs (1 s .. 1 h),
// sandboxTimeoutSec (60 .. 86400), modelBaseUrl, secrets {provider: {VAR: value}} (names
// [A-Z_][A-Z0-9_]*, at most 32 per provider, values ≤ 8 KiB), allowVersionSkew. Unknown fields
// are ignored (as upstream's API does). kInvalidArgument naming the field otherwise.
Result<SmokeRequest> ParseSmokeRequest(const nlohmann::json& body,
                                       const SmokeRequestDefaults& defaults);

// The credential variables each provider's worker can use (any one suffices), as the worker
// reads them: claude ANTHROPIC_API_KEY; codex OPENAI_API_KEY; pi and opencode any of
// ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENROUTER_API_KEY.
const std::vector<std::string>& ProviderCredentialVars(const std::string& provider);

}  // namespace swarm::smoke
