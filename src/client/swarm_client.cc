#include "client/swarm_client.h"

#include <cctype>
#include <limits>

#include <fmt/format.h>

#include "core/bounded_json.h"
#include "core/redact.h"

namespace swarm {
namespace {

ErrorCode CodeForStatus(int status) {
  switch (status) {
    case 400:
      return ErrorCode::kBadRequest;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 413:
      return ErrorCode::kPayloadTooLarge;
    case 502:
    case 503:
    case 504:
      return ErrorCode::kUnavailable;
    default:
      return status >= 500 ? ErrorCode::kInternal : ErrorCode::kBadRequest;
  }
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

SwarmClient::SwarmClient(http::HttpClient& http, SwarmClientOptions options)
    : http_(http), options_(std::move(options)) {
  options_.base_url = TrimSlash(options_.base_url);
}

Result<ApiReply> SwarmClient::Call(const std::string& method, const std::string& path,
                                   const std::optional<nlohmann::json>& body,
                                   std::optional<std::chrono::milliseconds> timeout) {
  http::ClientRequest request;
  request.method = method;
  request.url = options_.base_url + path;
  request.timeout = timeout.value_or(options_.timeout);
  if (!options_.api_key.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  }
  if (!options_.agent_id.empty()) request.headers.emplace_back("X-Agent-ID", options_.agent_id);
  if (body) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body->dump();
  }
  auto response = http_.Send(request);
  if (!response) {
    // The transport names the URL; credentials written into it (user:pass@) stay out.
    Error error = response.error();
    error.message = RedactUrlCredentials(error.message);
    return tl::unexpected(std::move(error));
  }

  ApiReply reply;
  reply.status = response->status;
  if (!response->body.empty()) {
    // Whatever answers at the API URL is not trusted to nest sanely: the API's own replies
    // embed outputSchemas (64 levels) inside an envelope.
    JsonLimits limits;
    limits.max_depth = 128;
    limits.max_bytes = std::numeric_limits<std::size_t>::max();  // the HTTP client's limit
    auto parsed = ParseBoundedJson(response->body, limits);
    if (!parsed) {
      return MakeError(CodeForStatus(response->status >= 400 ? response->status : 500),
                       fmt::format("{} {}: HTTP {} with a body that is not usable JSON ({})",
                                   method, path, response->status, parsed.error().message));
    }
    reply.body = std::move(*parsed);
  }
  if (response->status >= 200 && response->status < 300) return reply;
  std::string message =
      reply.body.is_object() && reply.body.contains("error") && reply.body["error"].is_string()
          ? reply.body["error"].get<std::string>()
          : "no error message";
  return MakeError(CodeForStatus(response->status),
                   fmt::format("HTTP {}: {}", response->status, message));
}

}  // namespace swarm
