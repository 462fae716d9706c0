// Secret scrubbing for anything that leaves the process as text (logs, reports, errors).
// Secrets are registered once (the API key, provider keys) and every occurrence is replaced,
// and so are credentials written into URLs (http://user:pass@host).
#pragma once

#include <string>
#include <string_view>

namespace swarm {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// Registers a secret value. Values shorter than 4 characters are ignored: redacting them
// would mangle ordinary text without protecting anything. The secret's JSON-escaped form is
// registered too: log lines are redacted after they are serialized, where a secret holding
// `"` or `\` appears escaped. Thread-safe.
void RegisterSecret(std::string_view secret);

// `text` with every registered secret and every URL's user information replaced by
// kRedacted. Thread-safe.
std::string Redact(std::string text);

// `text` with the user information of every URL in it ("scheme://user:pass@host") replaced:
// "scheme://[REDACTED]@host". Only characters a URL's user information may hold (RFC 3986)
// are taken for it, so an e-mail address later in the text is left alone.
std::string RedactUrlCredentials(std::string_view text);

// Forgets all registered secrets (tests).
void ClearSecretsForTest();

}  // namespace swarm
