#include <boost/asio/as_tuple.hpp>
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

}  // namespace swarm::http
