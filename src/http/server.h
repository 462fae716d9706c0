// The HTTP/1.1 server: Boost.Beast on Asio C++20 coroutines, one coroutine per connection on
// its own strand, keep-alive, a body limit (413), header, body and idle timeouts, caps on open
// connections and on requests waiting for their body, a hook that can refuse a request on its
// headers alone (before the body is read or 100 Continue sent), peer-liveness for handlers
// that wait, and a graceful shutdown that stops accepting, closes idle connections and lets
// in-flight requests finish.
//
// The server owns no threads: the owner runs the io_context on as many threads as it likes.
// Handlers run on the connection's strand and may co_await (long-poll).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "core/error.h"
#include "http/message.h"

namespace swarm::http {

// Called with a request's method, path, query, headers and remote address (body empty, no
// peer) as soon as its header is read. A response it returns is sent at once with
// "Connection: close"; the body is never read. Runs on the connection's strand: no blocking.
using HeadHook = std::function<std::optional<HttpResponse>(const HttpRequest& head)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the OS chooses; see HttpServer::port()
  std::size_t body_limit = 1 << 20;
  // Open connections; one more is answered 503 and closed at once, without being read.
  std::size_t max_connections = 4096;
  // Requests whose header is read and whose body is still arriving; one more gets 503 with
  // "Connection: close". Bounds what slow senders can hold.
  std::size_t max_body_waiters = 256;
  // To receive the request line and headers: from the accept for a new connection, from the
  // first byte for the next request on a kept-alive one.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds read_timeout{30'000};  // to receive the body; also the write bound
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  HeadHook head_hook;                              // optional
};

// One line of the access log. Carries no header values, no query and no body, so no secret
// can reach the log through it.
struct AccessRecord {
  std::string method;
  std::string path;
  int status = 0;
  std::size_t response_bytes = 0;
  int64_t duration_us = 0;
  std::string agent_id;  // X-Agent-ID, if sent
  std::string remote;
};

using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;
using AccessLogger = std::function<void(const AccessRecord&)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, Handler handler,
             AccessLogger access_log = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Returns the bound port.
  Result<uint16_t> Listen();
  uint16_t port() const;

  // Stops accepting and closes connections waiting for a next request; connections inside a
  // request finish it, send the response with "Connection: close", and close. Thread-safe.
  // When every connection is gone the server holds no more work on the io_context.
  void BeginShutdown();

  std::size_t open_connections() const;
  std::size_t body_waiters() const;  // requests waiting for their body now
  // Connections refused over max_connections, and requests refused over max_body_waiters,
  // since the start.
  std::size_t refused_connections() const;
  std::size_t refused_body_waiters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The owner's half of a graceful stop: after BeginShutdown(), co_spawn this on `io`. It holds
// `io` open until every connection has closed, or stops `io` once `grace` has passed.
boost::asio::awaitable<void> DrainConnections(HttpServer* server, boost::asio::io_context* io,
                                              std::chrono::milliseconds grace);

// Runs `io` on `threads` threads (the caller's among them) until it runs out of work. On
// SIGINT or SIGTERM: BeginShutdown(), then `on_stop` (the role wakes what it keeps waiting,
// such as long-polls), then DrainConnections within `grace`. A second SIGINT/SIGTERM during
// that drain stops `io` at once (the caller then closes what it owns as after a drain).
// SIGHUP is logged and ignored: logs go to stderr, there is no file to reopen.
//
// The signals are caught from the moment a StopSignals exists, so a role creates it before it
// says "listening": a supervisor that signals on that line must never meet a default action.
class StopSignals {
 public:
  explicit StopSignals(boost::asio::io_context& io);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  boost::asio::signal_set& set() { return *set_; }

 private:
  std::unique_ptr<boost::asio::signal_set> set_;
};

void RunUntilStopped(boost::asio::io_context& io, HttpServer& server, StopSignals& signals,
                     int threads, std::chrono::milliseconds grace,
                     std::function<void()> on_stop = nullptr);

}  // namespace swarm::http
