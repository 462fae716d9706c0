// The one place where an Error becomes an HTTP status and body.
#pragma once

#include "core/error.h"
#include "http/message.h"

namespace swarm {

int HttpStatusFor(ErrorCode code);
// {"error": message}; internal errors keep their detail out of the body (it goes to the log).
http::HttpResponse ErrorResponse(const Error& error);

}  // namespace swarm
