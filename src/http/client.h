// The outbound HTTP seam. CurlHttpClient is the real one; tests of callers may fake it.
#pragma once

#include <chrono>
#include <string>

#include "core/error.h"
#include "http/message.h"

namespace swarm::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;  // e.g. {"Authorization", "Bearer ..."}
  std::string body;
  std::chrono::milliseconds timeout{30'000};  // whole exchange
};

struct ClientResponse {
  int status = 0;
  std::string body;
  HeaderList headers;  // names lower case
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any status is a response; only transport failures (refused, timed out, DNS) are errors,
  // as kUnavailable with curl's explanation and the URL (never the headers).
  virtual Result<ClientResponse> Send(const ClientRequest& request) = 0;
};

// libcurl, one easy handle per calling thread, reused so keep-alive connections are reused.
// Thread-safe.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  Result<ClientResponse> Send(const ClientRequest& request) override;
};

}  // namespace swarm::http
