// A client of the swarm API for the CLI commands, the worker and the smoke runner: bearer
// auth, X-Agent-ID, JSON in and out, and the server's {"error"} turned into an Error.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "http/client.h"
#include "http/query.h"

namespace swarm {

struct SwarmClientOptions {
  std::string base_url = "http://127.0.0.1:3013";  // no trailing slash needed
  std::string api_key;
  std::string agent_id;  // sent as X-Agent-ID when not empty
  std::chrono::milliseconds timeout{30'000};
};

struct ApiReply {
  int status = 0;
  nlohmann::json body;  // null for an empty body (204)
};

class SwarmClient {
 public:
  SwarmClient(http::HttpClient& http, SwarmClientOptions options);

  // Sends the request; a 2xx reply is returned, anything else is an Error carrying the
  // server's message and a code matching the status (404 → kNotFound, ...). A reply that is
  // not JSON is an error too. `timeout` overrides the default (long-polls need longer).
  Result<ApiReply> Call(const std::string& method, const std::string& path,
                        const std::optional<nlohmann::json>& body = std::nullopt,
                        std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  const SwarmClientOptions& options() const { return options_; }

 private:
  http::HttpClient& http_;
  SwarmClientOptions options_;
};

// "a b" → "a%20b": for ids and values placed in paths and query strings.
using http::UrlEncode;

}  // namespace swarm
