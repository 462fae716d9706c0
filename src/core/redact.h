// Secret scrubbing for anything that leaves the process as text (logs, reports, errors).
// Secrets are registered once (the API key, provider keys) and every occurrence is replaced.
#pragma once

#include <string>
#include <string_view>

namespace swarm {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// Registers a secret value. Values shorter than 4 characters are ignored: redacting them
// would mangle ordinary text without protecting anything. Thread-safe.
void RegisterSecret(std::string_view secret);

// `text` with every registered secret replaced by kRedacted. Thread-safe.
std::string Redact(std::string text);

// Forgets all registered secrets (tests).
void ClearSecretsForTest();

}  // namespace swarm
