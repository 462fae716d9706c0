// The outbound HTTP seam. CurlHttpClient is the real one; tests of callers may fake it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/message.h"

namespace swarm::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;  // e.g. {"Authorization", "Bearer ..."}
  std::string body;
  std::chrono::milliseconds timeout{30'000};  // whole exchange; 0: none (streams)
  // Streams: the transfer fails when no byte arrives for this long; 0: no such limit.
  std::chrono::milliseconds stall_timeout{0};
  // Streams: when set and true, the transfer stops within about a second (another thread
  // cancels a follower this way). The call then returns kUnavailable "cancelled".
  const std::atomic<bool>* cancel = nullptr;
};

// Receives a streamed 2xx body as it arrives, in pieces of any size. Returning false stops the
// transfer early; the call still succeeds with what it had (background commands return on
// their first event this way).
using BodySink = std::function<bool(std::string_view bytes)>;

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
  // Like Send, but a 2xx body goes to `sink` as it arrives instead of into the response's
  // body; a body with any other status is collected as usual (it is an error to read). The
  // default sends the whole body in one piece, enough for fakes.
  virtual Result<ClientResponse> SendStreaming(const ClientRequest& request, const BodySink& sink);
};

// libcurl, one easy handle per calling thread, reused so keep-alive connections are reused.
// Thread-safe.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  Result<ClientResponse> Send(const ClientRequest& request) override;
  Result<ClientResponse> SendStreaming(const ClientRequest& request, const BodySink& sink) override;

 private:
  Result<ClientResponse> Perform(const ClientRequest& request, const BodySink* sink);
};

}  // namespace swarm::http
