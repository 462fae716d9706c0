// The one way JSON from outside the process (request bodies, API replies, model requests,
// harness lines, script files) becomes an nlohmann::json. nlohmann's parser is iterative, but
// much of what comes after it is not: dump(), copies, comparisons and valijson all recurse once
// per nesting level, so a document nested 100,000 levels deep overflows the stack later. The
// limits here stop such a document while it is being read, before the tree exists.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace swarm {

struct JsonLimits {
  std::size_t max_depth = 64;       // nesting of arrays/objects
  std::size_t max_bytes = 8 << 20;  // input size
  // Accept `//` and `/* */` comments (script files written by people); never for wire input.
  bool allow_comments = false;
};

// Parses `text` as one JSON document. kBadRequest errors with a clear message:
// "JSON is nested deeper than the 64-level limit", "... larger than the N-byte limit",
// "malformed JSON: <where>". Never recurses deeper than the limit, never throws.
Result<nlohmann::json> ParseBoundedJson(std::string_view text, const JsonLimits& limits = {});

// Nesting depth of an already-built value (0 for a scalar), walking at most `limit` + 1 levels
// with an explicit stack: for values that were not built by ParseBoundedJson.
std::size_t JsonDepthUpTo(const nlohmann::json& value, std::size_t limit);

}  // namespace swarm
