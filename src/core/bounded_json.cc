#include "core/bounded_json.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace swarm {
namespace {

using Json = nlohmann::json;
using DomBuilder = nlohmann::detail::json_sax_dom_parser<Json>;

// Forwards every SAX event to nlohmann's own DOM builder, counting open arrays/objects; the
// event that would open one level too many returns false, which stops the parser at once.
class DepthLimitedBuilder {
 public:
  DepthLimitedBuilder(Json& root, std::size_t max_depth)
      : dom_(root, /*allow_exceptions=*/false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(Json::string_t& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool key(Json::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return Open() && dom_.start_object(n); }
  bool end_object() { return Close() && dom_.end_object(); }
  bool start_array(std::size_t n) { return Open() && dom_.start_array(n); }
  bool end_array() { return Close() && dom_.end_array(); }

  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& ex) {
    syntax_error_ = ex.what();
    return false;
  }

  bool too_deep() const { return too_deep_; }
  const std::string& syntax_error() const { return syntax_error_; }

 private:
  bool Open() {
    if (depth_ >= max_depth_) {
      too_deep_ = true;
      return false;
    }
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  DomBuilder dom_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
  std::string syntax_error_;
};

// nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, column 3:
// syntax error ..."; the bracketed id means nothing to the sender.
std::string WithoutExceptionId(std::string message) {
  if (!message.empty() && message.front() == '[') {
    auto end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

}  // namespace

Result<nlohmann::json> ParseBoundedJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return BadRequest(fmt::format("JSON is larger than the {}-byte limit", limits.max_bytes));
  Json root;
  try {
    DepthLimitedBuilder builder(root, limits.max_depth);
    const bool ok = Json::sax_parse(text, &builder, Json::input_format_t::json,
                                    /*strict=*/true, limits.allow_comments);
    if (builder.too_deep())
      return BadRequest(
          fmt::format("JSON is nested deeper than the {}-level limit", limits.max_depth));
    if (!ok || !builder.syntax_error().empty()) {
      std::string where =
          builder.syntax_error().empty() ? std::string("unexpected input") : builder.syntax_error();
      return BadRequest("malformed JSON: " + WithoutExceptionId(std::move(where)));
    }
  } catch (const std::exception& e) {
    // The DOM builder may throw out_of_range on absurd sizes, and allocation can fail.
    return BadRequest(std::string("malformed JSON: ") + WithoutExceptionId(e.what()));
  }
  return root;  // moved: C++20 implicit move on return
}

std::size_t JsonDepthUpTo(const nlohmann::json& value, std::size_t limit) {
  struct Frame {
    const Json* value;
    std::size_t depth;
  };
  std::vector<Frame> stack{{&value, 0}};
  std::size_t deepest = 0;
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (!f.value->is_structured()) continue;
    const std::size_t depth = f.depth + 1;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const auto& child : *f.value) stack.push_back({&child, depth});
  }
  return deepest;
}

}  // namespace swarm
