#include "stub_llm/wire_error.h"

#include <nlohmann/json.hpp>

#include "stub_llm/sse.h"

namespace swarm::stub_llm {
namespace {

const char* AnthropicErrorType(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status < 500 ? "invalid_request_error" : "api_error";
  }
}

const char* OpenAiErrorType(int status) {
  if (status == 429) return "rate_limit_exceeded";
  if (status == 401) return "authentication_error";
  return status < 500 ? "invalid_request_error" : "server_error";
}

}  // namespace

http::HttpResponse WireError(Wire wire, int status, std::string_view message, bool retry) {
  http::HttpResponse r;
  r.status = status;
  if (wire == Wire::kAnthropic) {
    r.body = Dump({{"type", "error"},
                   {"error", {{"type", AnthropicErrorType(status)}, {"message", message}}}});
  } else {
    r.body = Dump({{"error",
                    {{"message", message},
                     {"type", OpenAiErrorType(status)},
                     {"param", nullptr},
                     {"code", nullptr}}}});
  }
  r.headers.emplace_back("x-should-retry", retry ? "true" : "false");
  // Clients that retry a 5xx whatever x-should-retry says (opencode backs off for about 70 s)
  // then retry at once and use up their attempts in well under a second.
  if (!retry) r.headers.emplace_back("retry-after-ms", "0");
  return r;
}

http::HttpResponse GenericError(int status, std::string_view message) {
  http::HttpResponse r;
  r.status = status;
  r.body = Dump(
      {{"type", "error"}, {"error", {{"type", AnthropicErrorType(status)}, {"message", message}}}});
  return r;
}

}  // namespace swarm::stub_llm
