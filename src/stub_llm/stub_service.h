// The stub model server's request handling: routes by path suffix (so a base URL with or
// without /v1 works, and ?beta=true is ignored), parses the request, lets the Script decide,
// encodes the reply in the request's wire format, waits out a scripted delay without holding
// an I/O thread, and writes one JSON log line per request.
//
//   HEAD /, GET /                    200 (Claude Code's connection warm-up)
//   POST …/messages                  Anthropic Messages (SSE when "stream": true, else JSON)
//   POST …/messages/count_tokens     {"input_tokens": N}
//   POST …/responses                 OpenAI Responses (SSE or JSON)
//   POST …/chat/completions          Chat Completions (SSE or JSON)
//   GET  …/models, …/models/{id}     an OpenAI-style model list / model
//   anything else                    404 with a JSON error
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "http/message.h"
#include "stub_llm/script.h"

namespace swarm::stub_llm {

// The model id /v1/models lists and replies carry when a request names none.
inline constexpr char kStubModel[] = "stub-model";

// Receives each request's log line (an object without ts/level/msg).
using RequestLogSink = std::function<void(nlohmann::json line)>;

// log::Info("request", line): the sink `agent-swarm stub-llm` uses.
void LogToStderr(nlohmann::json line);

class StubService {
 public:
  explicit StubService(Script& script, RequestLogSink log = LogToStderr)
      : script_(script), log_(std::move(log)) {}

  // What a request gets, before any delay: the response, how long to wait first, and the log
  // line (status and sizes filled in). Synchronous, for tests.
  struct Outcome {
    http::HttpResponse response;
    std::chrono::milliseconds delay{0};
    nlohmann::json log;
  };
  Outcome Decide(const http::HttpRequest& request);

  // The server's handler: Decide, wait out the delay on a timer, log, respond.
  boost::asio::awaitable<http::HttpResponse> Handle(http::HttpRequest request);

 private:
  Script& script_;
  RequestLogSink log_;
  std::atomic<int64_t> requests_{0};
};

}  // namespace swarm::stub_llm
