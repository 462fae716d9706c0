#include "core/json_fields.h"

#include <limits>

namespace swarm {

using nlohmann::json;

namespace {

// The field, or null when `object` is no object or lacks it (find() on a non-object is end()).
const json* Find(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace

std::string TextField(const json& object, const char* key, std::string fallback) {
  const json* v = Find(object, key);
  return v && v->is_string() ? v->get<std::string>() : std::move(fallback);
}

bool BoolField(const json& object, const char* key, bool fallback) {
  const json* v = Find(object, key);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

std::optional<int64_t> Int64Field(const json& object, const char* key) {
  const json* v = Find(object, key);
  if (!v || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  return v->get<int64_t>();
}

const json& ArrayField(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const json* v = Find(object, key);
  return v && v->is_array() ? *v : kEmpty;
}

}  // namespace swarm
