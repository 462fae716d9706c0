// Regular expressions of an outputSchema (`pattern`, `patternProperties`), run with RE2.
//
// JSON Schema asks for ECMA-262 regexes; valijson runs them with std::regex, whose libstdc++
// matcher backtracks without bound (`(a+)+$` on 30,000 characters never finishes) and
// recurses once per character (a long string overflows the stack). RE2 matches in linear time
// with no recursion. RE2 has no lookaround ((?=, (?!, (?<=, (?<!) and no backreferences
// (\1): schemas using them are rejected when the task is created, with a 400 that says so.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace re2 {
class RE2;
}

namespace swarm {

// The compiled form of an ECMA-262 `pattern`, shared from a small process-wide cache;
// kBadRequest with RE2's reason when RE2 cannot run it.
Result<std::shared_ptr<const re2::RE2>> CompileSchemaRegex(std::string_view ecma_pattern);

// Whether `text` contains a match (JSON Schema patterns are not anchored). A pattern that
// cannot be compiled matches nothing; CheckSchemaRegexes rejects those at creation.
bool SchemaRegexSearch(std::string_view ecma_pattern, std::string_view text);

// Compiles every `pattern` and `patternProperties` key found where draft-07 puts subschemas;
// the first one RE2 cannot run is a kBadRequest naming its place, e.g.
// "outputSchema.properties.reply.pattern: ...".
Result<void> CheckSchemaRegexes(const nlohmann::json& schema);

}  // namespace swarm
