// Small response and request helpers every route file of the API shares (routes.cc,
// routes_compat.cc), so each reply shape is written once.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_writer.h"
#include "core/task.h"
#include "http/message.h"

namespace swarm::api_routes {

http::HttpResponse Json(int status, const nlohmann::json& body);
http::HttpResponse Written(int status, JsonWriter& w);
http::HttpResponse NoContent();
// {"success":true,"task":{…}}, the reply of the task-changing routes.
http::HttpResponse TaskEnvelope(const Task& task);
// A body that may be empty (POST /ping, /cancel, upstream's pause/resume): empty means {}.
Result<nlohmann::json> OptionalBody(const http::HttpRequest& request);
std::optional<std::string> OptionalAgentId(const http::HttpRequest& request);

}  // namespace swarm::api_routes
