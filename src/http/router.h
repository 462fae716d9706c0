// Maps (method, path) to a route. Patterns are literal segments and `{name}` parameters,
// "/api/tasks/{id}/finish". Every route says whether it is public, so whoever enforces auth
// can do it for all routes at once, and tests can walk the whole table.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "http/message.h"

namespace swarm::http {

class PathParams {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // The value bound to `{name}`, or "" if the pattern has no such parameter.
  const std::string& Get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

using RouteHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest, PathParams)>;

enum class Access { kPublic, kAuthenticated };

struct Route {
  std::string method;
  std::string pattern;
  Access access = Access::kAuthenticated;
  RouteHandler handler;
  std::vector<std::string> segments;  // the pattern split on '/'
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Access access, RouteHandler handler);

  enum class MatchKind { kFound, kMethodNotAllowed, kNotFound };
  struct Match {
    MatchKind kind = MatchKind::kNotFound;
    const Route* route = nullptr;
    PathParams params;
  };
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace swarm::http
