// Test support for the E2B clients: an HttpClient that answers from a script and records every
// request. Streamed bodies are handed to the sink in pieces of `chunk_size` bytes, so decoders
// meet envelopes split anywhere; a sink that returns false stops the delivery, as curl does.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client.h"

namespace swarm::sandbox::test_support {

class ScriptedHttp final : public http::HttpClient {
 public:
  using Handler = std::function<Result<http::ClientResponse>(const http::ClientRequest&)>;

  // Answers the next request with `response` (queued answers are used in order; once they
  // run out, `handler` answers, else 599).
  void Queue(int status, std::string body, http::HeaderList headers = {}) {
    queue.push_back(http::ClientResponse{status, std::move(body), std::move(headers)});
  }

  Result<http::ClientResponse> Send(const http::ClientRequest& request) override {
    requests.push_back(request);
    if (!queue.empty()) {
      auto response = std::move(queue.front());
      queue.pop_front();
      return response;
    }
    if (handler) return handler(request);
    return http::ClientResponse{599, "no scripted answer", {}};
  }

  Result<http::ClientResponse> SendStreaming(const http::ClientRequest& request,
                                             const http::BodySink& sink) override {
    auto response = Send(request);
    if (!response || response->status < 200 || response->status > 299) return response;
    std::string body = std::move(response->body);
    response->body.clear();
    delivered = 0;
    sink_stopped = false;
    for (std::size_t at = 0; at < body.size(); at += chunk_size) {
      auto piece = std::string_view(body).substr(at, chunk_size);
      delivered += piece.size();
      if (!sink(piece)) {
        sink_stopped = true;
        break;
      }
    }
    return response;
  }

  const http::ClientRequest& last() const { return requests.back(); }

  std::deque<http::ClientResponse> queue;
  Handler handler;
  std::vector<http::ClientRequest> requests;
  std::size_t chunk_size = 1 << 20;
  std::size_t delivered = 0;  // bytes of the last streamed body handed to the sink
  bool sink_stopped = false;
};

// The value of the first header named `name` (exact spelling), or "".
inline std::string HeaderOf(const http::ClientRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return v;
  }
  return "";
}

inline bool HasHeader(const http::ClientRequest& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(),
                     [&](const auto& header) { return header.first == name; });
}

}  // namespace swarm::sandbox::test_support
