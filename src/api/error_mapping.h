// Where an Error becomes the API's response: the status from core's HttpStatusFor, the body
// the API's error shape.
#pragma once

#include "core/error.h"
#include "http/message.h"

namespace swarm {

// {"error": message}; internal errors keep their detail out of the body (it goes to the log).
http::HttpResponse ErrorResponse(const Error& error);

}  // namespace swarm
