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

// Parses a request body that must be a JSON object. kBadRequest for malformed JSON or
// another JSON type.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& object) : object_(object) {}

  // A missing field and an explicit null both count as absent.
  std::string RequiredString(const char* name, std::size_t min_length = 1);
  std::optional<std::string> OptionalString(const char* name);
  std::optional<int64_t> OptionalInt(const char* name, int64_t min, int64_t max);
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

  const nlohmann::json& object_;
  std::optional<Error> error_;
};

}  // namespace swarm
