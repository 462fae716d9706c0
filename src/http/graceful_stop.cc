#include <csignal>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"
#include "http/server.h"

namespace swarm::http {

namespace asio = boost::asio;

asio::awaitable<void> DrainConnections(HttpServer* server, asio::io_context* io,
                                       std::chrono::milliseconds grace) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (server->open_connections() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      log::Warn("shutdown grace period over; closing remaining connections",
                {{"connections", server->open_connections()}});
      io->stop();
      co_return;
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

namespace {

// Waits for the next signal and acts on it, then waits again: the set stays armed for the
// whole run so no signal falls back to its default action (a second SIGTERM, a SIGHUP from a
// closing terminal).
struct SignalHandler {
  asio::signal_set* signals;
  asio::io_context* io;
  HttpServer* server;
  std::chrono::milliseconds grace;
  std::function<void()> on_stop;
  std::shared_ptr<bool> stopping = std::make_shared<bool>(false);

  void Arm() const {
    signals->async_wait([self = *this](const boost::system::error_code& ec, int signal) {
      if (ec) return;  // the set was cancelled or destroyed
      self.Handle(signal);
    });
  }

  void Handle(int signal) const {
    if (signal == SIGHUP) {
      log::Info("SIGHUP ignored", {{"signal", signal}});
    } else if (*stopping) {
      log::Warn("second stop signal: stopping now",
                {{"signal", signal}, {"connections", server->open_connections()}});
      io->stop();
      return;
    } else {
      *stopping = true;
      log::Info("shutting down", {{"signal", signal}, {"connections", server->open_connections()}});
      server->BeginShutdown();
      if (on_stop) on_stop();
      // Once drained, nothing but this set would keep `io` running: cancel it there.
      asio::co_spawn(
          *io, DrainConnections(server, io, grace),
          asio::bind_executor(signals->get_executor(), [signals = signals](std::exception_ptr) {
            boost::system::error_code ignored;
            signals->cancel(ignored);
          }));
    }
    Arm();
  }
};

}  // namespace

// On a strand: the handler and the cancel after the drain never run at once.
StopSignals::StopSignals(asio::io_context& io)
    : set_(std::make_unique<asio::signal_set>(asio::make_strand(io), SIGINT, SIGTERM, SIGHUP)) {}

StopSignals::~StopSignals() = default;

void RunUntilStopped(asio::io_context& io, HttpServer& server, StopSignals& stop_signals,
                     int threads, std::chrono::milliseconds grace, std::function<void()> on_stop) {
  SignalHandler{&stop_signals.set(), &io, &server, grace, std::move(on_stop)}.Arm();
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
}

}  // namespace swarm::http
