#include "http/router.h"

namespace swarm::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool IsParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Binds the path to the pattern's parameters; false when the shapes differ. An empty path
// segment never binds a parameter, so "/api/tasks//finish" is not a match.
bool Bind(const Route& route, const std::vector<std::string_view>& parts, PathParams* params) {
  if (parts.size() != route.segments.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& segment = route.segments[i];
    if (IsParameter(segment)) {
      if (parts[i].empty()) return false;
      if (params) params->Add(segment.substr(1, segment.size() - 2), std::string(parts[i]));
    } else if (segment != parts[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::string& PathParams::Get(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [n, v] : items_) {
    if (n == name) return v;
  }
  return kEmpty;
}

void Router::Add(std::string method, std::string pattern, Access access, RouteHandler handler) {
  Route route{std::move(method), std::move(pattern), access, std::move(handler), {}};
  for (auto part : Split(route.pattern)) route.segments.emplace_back(part);
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  const auto parts = Split(path);
  Match match;
  for (const Route& route : routes_) {
    if (!Bind(route, parts, nullptr)) continue;
    if (route.method != method) {
      match.kind = MatchKind::kMethodNotAllowed;
      continue;
    }
    match.kind = MatchKind::kFound;
    match.route = &route;
    Bind(route, parts, &match.params);
    return match;
  }
  return match;
}

}  // namespace swarm::http
