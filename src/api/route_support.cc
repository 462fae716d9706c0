#include "api/route_support.h"

#include "api/json_codec.h"
#include "core/field_reader.h"

namespace swarm::api_routes {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse Written(int status, JsonWriter& w) {
  HttpResponse r;
  r.status = status;
  r.body = w.Take();
  return r;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

HttpResponse TaskEnvelope(const Task& task) {
  JsonWriter w;
  w.BeginObject().Field("success", true).Key("task");
  WriteTask(w, task);
  w.EndObject();
  return Written(200, w);
}

Result<json> OptionalBody(const HttpRequest& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  return ParseJsonObject(request.body);
}

std::optional<std::string> OptionalAgentId(const HttpRequest& request) {
  std::string_view id = request.Header("x-agent-id");
  if (id.empty()) return std::nullopt;
  return std::string(id);
}

}  // namespace swarm::api_routes
