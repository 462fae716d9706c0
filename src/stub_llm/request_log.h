// The parts of the per-request log line that must never leak a key: headers with credentials
// (authorization, x-api-key, cookies, anything named like a key or token) are replaced by
// their length, and the values seen there are registered with core/redact.h so that an echo of
// the key anywhere else in the line (a prompt that quotes it) is scrubbed as well.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "http/message.h"

namespace swarm::stub_llm {

// Whether a header (lower-case name) may carry a credential.
bool IsSensitiveHeader(std::string_view lower_name);

// {name: value} of all headers, sensitive values replaced by "[REDACTED] (N bytes)". Registers
// the credentials it sees as secrets (a bounded number of distinct values per process).
nlohmann::json RedactedHeaders(const http::HeaderList& headers);

// The query string with the values of credential-like parameters (key, token, ...) replaced.
std::string RedactedQuery(std::string_view query);

}  // namespace swarm::stub_llm
