// Keeping the secrets of a sandbox's environment out of what the `e2b` commands print: the
// seed's redactWithEnv / redactObjectWithEnv rules, so both print the same for one env.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

// Whether a variable holds a secret: an exact list (API_KEY, GITHUB_TOKEN, …), or a name
// ending in _API_KEY, _TOKEN, _SECRET, _PASSWORD or _PRIVATE_KEY, or codex_oauth / codex_oauth_N;
// except the URLs the sandbox needs to see (MCP_BASE_URL, APP_URL, API_URL,
// TEMPLATE_REGISTRY_URL).
bool IsSensitiveKey(std::string_view key);

// `text` with secrets replaced, in the seed's order:
//  1. each value of a sensitive key of `env` that is 8 characters or longer becomes
//     "[REDACTED:<KEY>]", longest values first (a value that contains another is replaced whole);
//  2. token-shaped words (sk-…, ghp_…, xoxb-…, e2b_…, …) become "[REDACTED]";
//  3. values of sensitive keys of `controller_env` (this process's env) 12 characters or
//     longer, and every secret registered with core/redact.h, become "[REDACTED]".
std::string RedactWithEnv(std::string text, const StringMap& env,
                          const StringMap& controller_env = {});

// A copy of `value` for printing: object members whose key, turned from camelCase to
// UPPER_SNAKE, is sensitive or contains TOKEN, SECRET, PASSWORD or PRIVATE_KEY become
// "[REDACTED:<key>]"; envdAccessToken and trafficAccessToken are dropped. Nested objects and
// arrays are walked.
nlohmann::json RedactObjectWithEnv(const nlohmann::json& value);

// The env as a JSON object with the values of sensitive keys replaced by "[REDACTED:<KEY>]".
nlohmann::json RedactedEnvJson(const StringMap& env);

}  // namespace swarm::sandbox
