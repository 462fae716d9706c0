#include "api/error_mapping.h"

#include "core/log.h"

namespace swarm {

http::HttpResponse ErrorResponse(const Error& error) {
  if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable) {
    log::Error(error.message, {{"code", ErrorCodeName(error.code)}});
    http::HttpResponse response = http::JsonError(
        HttpStatusFor(error.code),
        error.code == ErrorCode::kInternal ? "internal error" : "service unavailable, retry later");
    // Overload and a busy database pass: tell clients when to come back.
    if (error.code == ErrorCode::kUnavailable) response.headers.emplace_back("Retry-After", "1");
    return response;
  }
  return http::JsonError(HttpStatusFor(error.code), error.message);
}

}  // namespace swarm
