// What the route tests share: a request built from a target, and ApiRoutes::Dispatch run to its
// end without a server.
#pragma once

#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "api/routes.h"
#include "http/message.h"

namespace swarm::testing_support {

// `target` is "/path" or "/path?query"; an empty `bearer` sends no Authorization.
inline http::HttpRequest RouteRequest(const std::string& method, const std::string& target,
                                      const std::string& body, const std::string& bearer) {
  http::HttpRequest request;
  request.method = method;
  const auto q = target.find('?');
  request.path = target.substr(0, q);
  if (q != std::string::npos) request.query = target.substr(q + 1);
  request.body = body;
  if (!bearer.empty()) request.headers.emplace_back("authorization", "Bearer " + bearer);
  return request;
}

// Dispatch on a fresh io_context, run until the response is there (work the handler hands to
// the store executors keeps the io_context running until it comes back).
inline http::HttpResponse DispatchNow(ApiRoutes& routes, http::HttpRequest request) {
  boost::asio::io_context io;
  auto future =
      boost::asio::co_spawn(io, routes.Dispatch(std::move(request)), boost::asio::use_future);
  io.run();
  return future.get();
}

}  // namespace swarm::testing_support
