// The HTTP/1.1 server: Boost.Beast on Asio C++20 coroutines, one coroutine per connection on
// its own strand, keep-alive, a body limit (413), read and idle timeouts, and a graceful
// shutdown that stops accepting, closes idle connections and lets in-flight requests finish.
//
// The server owns no threads: the owner runs the io_context on as many threads as it likes.
// Handlers run on the connection's strand and may co_await (long-poll).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "core/error.h"
#include "http/message.h"

namespace swarm::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the OS chooses; see HttpServer::port()
  std::size_t body_limit = 1 << 20;
  std::chrono::milliseconds read_timeout{30'000};  // to receive one whole request
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
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
// such as long-polls), then DrainConnections within `grace`.
void RunUntilStopped(boost::asio::io_context& io, HttpServer& server, int threads,
                     std::chrono::milliseconds grace, std::function<void()> on_stop = nullptr);

}  // namespace swarm::http
