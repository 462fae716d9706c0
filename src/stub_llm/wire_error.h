// Error bodies in the shape each wire format's clients parse, so a scripted error reaches the
// CLI's own error report (and the worker's failure reason) with its message intact.
#pragma once

#include <string_view>

#include "http/message.h"
#include "stub_llm/chat_request.h"

namespace swarm::stub_llm {

// Anthropic: {"type":"error","error":{"type":"api_error","message":…}}; OpenAI (Responses,
// Chat): {"error":{"message":…,"type":"server_error","param":null,"code":null}}. With
// retry=false the response carries `x-should-retry: false`, which the Anthropic and OpenAI
// SDKs honour by failing at once instead of backing off, and `retry-after-ms: 0` for clients
// that retry a 5xx regardless (opencode), so they use up their attempts at once.
http::HttpResponse WireError(Wire wire, int status, std::string_view message, bool retry);

// For requests that name no wire format (unknown paths): Anthropic's shape, which also has the
// `error.message` OpenAI clients read.
http::HttpResponse GenericError(int status, std::string_view message);

}  // namespace swarm::stub_llm
