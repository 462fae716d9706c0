// Query-string parameters, percent-decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace swarm::http {

// application/x-www-form-urlencoded decoding of one piece ('+' is a space); a malformed
// escape keeps its raw text. As Go's url.QueryUnescape, for values encoded more than once.
std::string QueryUnescape(std::string_view text);

// Percent-encodes everything but RFC 3986's unreserved characters: safe as a path segment or a
// query value ("a b/c" -> "a%20b%2Fc").
std::string UrlEncode(std::string_view text);

class QueryParams {
 public:
  // Parses "a=1&b=x%20y"; a malformed escape keeps the raw text.
  static QueryParams Parse(std::string_view raw_query);

  // The first value for `name`, if present.
  std::optional<std::string> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace swarm::http
