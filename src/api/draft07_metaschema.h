// The JSON Schema draft-07 meta-schema (http://json-schema.org/draft-07/schema), the schema
// every task's outputSchema must itself satisfy.
#pragma once

#include <string_view>

namespace swarm {

std::string_view Draft07MetaSchema();

}  // namespace swarm
