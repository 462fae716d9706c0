// The HTTP request and response as the API layer sees them: plain values, no Beast types, so
// handlers are tested without sockets.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace swarm::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // upper case, "GET"
  std::string path;    // the target's path, without the query
  std::string query;   // raw query string without '?', not decoded
  HeaderList headers;  // names lower case
  std::string body;
  std::string remote;  // peer address, for the access log

  // The first header with this (lower-case) name, or "".
  std::string_view Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // extra headers
};

// {"error": message} with the given status: the one error body shape of the API.
HttpResponse JsonError(int status, std::string_view message);

}  // namespace swarm::http
