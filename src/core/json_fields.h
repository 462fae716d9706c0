// Reading fields of a JSON document from outside (an API's reply, a stored record) by type.
// nlohmann's value(key, fallback) throws on a non-object or a wrong-typed field, and with an
// integer fallback casts a float like 1e300 with undefined behaviour; these never throw: a
// missing field, a non-object and a wrong type all read as the fallback.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace swarm {

// The string at `key`, else `fallback`.
std::string TextField(const nlohmann::json& object, const char* key, std::string fallback = "");
// The boolean at `key`, else `fallback`.
bool BoolField(const nlohmann::json& object, const char* key, bool fallback);
// The integer at `key` (1.0 is not one); unset for anything else, including an unsigned value
// past INT64_MAX.
std::optional<int64_t> Int64Field(const nlohmann::json& object, const char* key);
// The array at `key`, else an empty one.
const nlohmann::json& ArrayField(const nlohmann::json& object, const char* key);

}  // namespace swarm
