#include "api/field_reader.h"

#include <fmt/format.h>

namespace swarm {

Result<nlohmann::json> ParseJsonObject(std::string_view body) {
  nlohmann::json value = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return BadRequest("malformed JSON in request body");
  if (!value.is_object()) return BadRequest("request body must be a JSON object");
  return value;
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
  return v->get<std::string>();
}

std::optional<int64_t> FieldReader::OptionalInt(const char* name, int64_t min, int64_t max) {
  const auto* v = Find(name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    WrongType(name, "an integer");
    return std::nullopt;
  }
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
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
    out.push_back(item.get<std::string>());
  }
  if (out.size() < min_items)
    Fail(fmt::format("{} must have at least {} item(s)", name, min_items));
  return out;
}

const nlohmann::json* FieldReader::OptionalValue(const char* name) { return Find(name); }

}  // namespace swarm
