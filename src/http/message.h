// The HTTP request and response as the API layer sees them: plain values, no Beast types, so
// handlers are tested without sockets.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace swarm::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Whether the client of a request is still connected, for handlers that wait (long-poll).
// Watching costs a read kept pending on the socket, so it starts only when a handler asks to
// be told (OnGone); from then until the handler returns, end of stream or a reset (or a client
// that sends more than a request's worth while it waits) marks the peer gone. Handlers that
// never call OnGone pay nothing, and for them gone() stays false. Thread-safe.
class PeerWatch {
 public:
  // `start` begins watching the socket; the server passes it, OnGone calls it once.
  explicit PeerWatch(std::function<void()> start = nullptr) : start_(std::move(start)) {}

  bool gone() const { return gone_.load(std::memory_order_acquire); }

  // Calls `callback` once when the peer goes: at once, in this call, if it is gone already;
  // otherwise later on the connection's strand. Callbacks still registered when the handler
  // returns are dropped without being called, so they may refer to the handler's state.
  void OnGone(std::function<void()> callback);

  // The server's side.
  void MarkGone();
  void Close();  // the handler has returned: drop the callbacks

 private:
  std::atomic<bool> gone_{false};
  std::mutex mu_;
  std::function<void()> start_;                 // guarded by mu_; cleared once called
  bool closed_ = false;                         // guarded by mu_
  std::vector<std::function<void()>> on_gone_;  // guarded by mu_
};

struct HttpRequest {
  std::string method;  // upper case, "GET"
  std::string path;    // the target's path, without the query
  std::string query;   // raw query string without '?', not decoded
  HeaderList headers;  // names lower case
  std::string body;
  std::string remote;  // peer address, for the access log
  // Set by the server while the handler runs; null for requests that did not come from a
  // socket (unit tests), which PeerGone() reports as connected.
  std::shared_ptr<PeerWatch> peer;

  // The first header with this (lower-case) name, or "".
  std::string_view Header(std::string_view lower_name) const;
  bool PeerGone() const { return peer && peer->gone(); }
};

// The sending half of a streamed response body (Connect server-streaming, Server-Sent Events).
// The server owns it; a producer gets it by reference and uses it on the connection's strand.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Sends `bytes` as one chunk and flushes it. False once the peer is gone or a write failed or
  // timed out (ServerOptions::read_timeout bounds each write): the producer should return.
  virtual boost::asio::awaitable<bool> Write(std::string_view bytes) = 0;
  // The request's peer watch, already watching: a producer that waits for something else
  // (process output, a store event) registers OnGone to be woken when the client hangs up.
  virtual PeerWatch& peer() = 0;
};

// Produces a streamed body; returning ends it (the server sends the last chunk).
using BodyProducer = std::function<boost::asio::awaitable<void>(BodyStream&)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // extra headers
  // Called by the server, on the connection's strand, when this response did not reach the
  // client: the peer was gone before the write, or the write failed or timed out. A response
  // the kernel accepted counts as delivered (TCP cannot tell more). Keep it short.
  std::function<void()> on_undelivered;
  // When set, `body` is ignored: the status and headers go out at once with
  // "Transfer-Encoding: chunked" and the producer writes the body. The connection is not
  // reused afterwards unless the producer returned with the peer still there.
  BodyProducer stream;
};

// {"error": message} with the given status: the one error body shape of the API.
HttpResponse JsonError(int status, std::string_view message);

}  // namespace swarm::http
