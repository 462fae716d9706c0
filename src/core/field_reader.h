// Reads typed fields out of a JSON request body and remembers the first problem, so request
// parsers read as a list of fields and still answer with a 400 that names the field:
//
//   FieldReader r(body);
//   auto task = r.RequiredString("task");
//   auto priority = r.OptionalInt("priority", 0, 100);
//   if (!r.ok()) return tl::unexpected(r.error());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace swarm {

// Request bodies may nest this deep: room for an outputSchema or an output at their own
// 64-level limit inside the body, so those are refused by their own, more precise rules.
inline constexpr std::size_t kMaxBodyDepth = 128;

// Parses a request body that must be a JSON object. kBadRequest for malformed JSON, nesting
// past kMaxBodyDepth (naming the limit), or another JSON type. Its size was bounded by the
// server's body limit before it got here.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// Whether `text` is entirely valid UTF-8.
bool IsValidUtf8(std::string_view text);

class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& object) : object_(object) {}

  // A missing field and an explicit null both count as absent. Strings must be valid UTF-8
  // (a value built in code, not parsed, may not be; dump() would throw on it later).
  std::string RequiredString(const char* name, std::size_t min_length = 1);
  std::optional<std::string> OptionalString(const char* name);
  // Integers only (1.0 is not one); an unsigned value past INT64_MAX is out of range, never
  // wrapped into it.
  std::optional<int64_t> OptionalInt(const char* name, int64_t min, int64_t max);
  // Any finite JSON number (the parser refuses 1e400) at least `min`.
  std::optional<double> OptionalNumber(const char* name, double min);
  std::optional<bool> OptionalBool(const char* name);
  std::vector<std::string> StringArray(const char* name, std::size_t min_items = 0);
  // Any JSON value; nullptr when absent.
  const nlohmann::json* OptionalValue(const char* name);

  bool ok() const { return !error_; }
  const Error& error() const { return *error_; }
  void Fail(std::string message);

 private:
  const nlohmann::json* Find(const char* name) const;
  void WrongType(const char* name, const char* expected);
  bool CheckUtf8(const char* name, const std::string& value);

  const nlohmann::json& object_;
  std::optional<Error> error_;
};

}  // namespace swarm
