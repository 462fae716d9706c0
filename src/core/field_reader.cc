#include "core/field_reader.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/bounded_json.h"
#include "core/utf8.h"

namespace swarm {

Result<nlohmann::json> ParseJsonObject(std::string_view body) {
  JsonLimits limits;
  limits.max_depth = kMaxBodyDepth;
  limits.max_bytes = std::numeric_limits<std::size_t>::max();  // the server's --body-limit
  auto value = ParseBoundedJson(body, limits);
  if (!value) {
    const std::string& why = value.error().message;
    constexpr std::string_view kMalformed = "malformed JSON: ";
    if (why.starts_with(kMalformed)) {
      return BadRequest("malformed JSON in request body: " + why.substr(kMalformed.size()));
    }
    return BadRequest("request body: " + why);
  }
  if (!value->is_object()) return BadRequest("request body must be a JSON object");
  return value;
}

bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void FieldReader::Fail(std::string message) {
  if (!error_) error_ = Error{ErrorCode::kBadRequest, std::move(message)};
}

const nlohmann::json* FieldReader::Find(const char* name) const {
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void FieldReader::WrongType(const char* name, const char* expected) {
  Fail(fmt::format("{} must be {}", name, expected));
}

bool FieldReader::CheckUtf8(const char* name, const std::string& value) {
  if (IsValidUtf8(value)) return true;
  Fail(fmt::format("{} must be valid UTF-8", name));
  return false;
}

std::string FieldReader::RequiredString(const char* name, std::size_t min_length) {
  const auto* v = Find(name);
  if (!v) {
    Fail(fmt::format("{} is required", name));
    return {};
  }
  if (!v->is_string()) {
    WrongType(name, "a string");
    return {};
  }
  const auto& s = v->get_ref<const std::string&>();
  if (!CheckUtf8(name, s)) return {};
  if (s.size() < min_length) {
    Fail(fmt::format("{} must not be empty", name));
    return {};
  }
  return s;
}

std::optional<std::string> FieldReader::OptionalString(const char* name) {
  const auto* v = Find(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    WrongType(name, "a string");
    return std::nullopt;
  }
  if (!CheckUtf8(name, v->get_ref<const std::string&>())) return std::nullopt;
  return v->get<std::string>();
}

std::optional<int64_t> FieldReader::OptionalInt(const char* name, int64_t min, int64_t max) {
  const auto* v = Find(name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    WrongType(name, "an integer");
    return std::nullopt;
  }
  const bool too_big =
      v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const int64_t n = too_big ? std::numeric_limits<int64_t>::max() : v->get<int64_t>();
  if (too_big || n < min || n > max) {
    Fail(fmt::format("{} must be between {} and {}", name, min, max));
    return std::nullopt;
  }
  return n;
}

std::optional<double> FieldReader::OptionalNumber(const char* name, double min) {
  const auto* v = Find(name);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    WrongType(name, "a number");
    return std::nullopt;
  }
  const double n = v->get<double>();
  if (!std::isfinite(n)) {  // only a value built in code can hold one
    WrongType(name, "a finite number");
    return std::nullopt;
  }
  if (n < min) {
    Fail(fmt::format("{} must be at least {}", name, min));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> FieldReader::OptionalBool(const char* name) {
  const auto* v = Find(name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    WrongType(name, "a boolean");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::vector<std::string> FieldReader::StringArray(const char* name, std::size_t min_items) {
  std::vector<std::string> out;
  const auto* v = Find(name);
  if (!v) {
    if (min_items > 0) Fail(fmt::format("{} is required", name));
    return out;
  }
  if (!v->is_array()) {
    WrongType(name, "an array of strings");
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_string()) {
      WrongType(name, "an array of strings");
      return {};
    }
    if (!CheckUtf8(name, item.get_ref<const std::string&>())) return {};
    out.push_back(item.get<std::string>());
  }
  if (out.size() < min_items)
    Fail(fmt::format("{} must have at least {} item(s)", name, min_items));
  return out;
}

const nlohmann::json* FieldReader::OptionalValue(const char* name) { return Find(name); }

}  // namespace swarm
