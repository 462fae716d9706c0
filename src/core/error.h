// Expected failures travel as values: every fallible call across a module boundary returns
// Result<T>, an Error carries a category and a message written for the person who sent the
// request. Exceptions stay inside library adapters and at process edges.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace swarm {

enum class ErrorCode {
  kBadRequest,       // the input is malformed or breaks a rule of the contract
  kUnauthorized,     // no key, or the wrong key
  kForbidden,        // a valid caller acting on something that is not theirs
  kNotFound,         // an unknown id
  kConflict,         // the state of the resource forbids the change
  kPayloadTooLarge,  // the body is over the configured limit
  kUnavailable,      // a dependency (database, upstream) cannot answer now
  kInternal,         // a broken invariant or an unexpected library failure
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Shorthands that read well at a return site: `return BadRequest("task is required");`.
inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}
inline tl::unexpected<Error> BadRequest(std::string m) {
  return MakeError(ErrorCode::kBadRequest, std::move(m));
}
inline tl::unexpected<Error> NotFound(std::string m) {
  return MakeError(ErrorCode::kNotFound, std::move(m));
}
inline tl::unexpected<Error> Forbidden(std::string m) {
  return MakeError(ErrorCode::kForbidden, std::move(m));
}
inline tl::unexpected<Error> Conflict(std::string m) {
  return MakeError(ErrorCode::kConflict, std::move(m));
}
inline tl::unexpected<Error> Unavailable(std::string m) {
  return MakeError(ErrorCode::kUnavailable, std::move(m));
}
inline tl::unexpected<Error> Internal(std::string m) {
  return MakeError(ErrorCode::kInternal, std::move(m));
}

const char* ErrorCodeName(ErrorCode code);

// The HTTP status every server of ours answers an Error with (the API, sandboxd): the one
// mapping from ErrorCode to status.
int HttpStatusFor(ErrorCode code);

}  // namespace swarm
