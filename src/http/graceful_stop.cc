#include <csignal>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
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

void RunUntilStopped(asio::io_context& io, HttpServer& server, int threads,
                     std::chrono::milliseconds grace, std::function<void()> on_stop) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::Info("shutting down", {{"signal", signal}, {"connections", server.open_connections()}});
    server.BeginShutdown();
    if (on_stop) on_stop();
    asio::co_spawn(io, DrainConnections(&server, &io, grace), asio::detached);
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
}

}  // namespace swarm::http
