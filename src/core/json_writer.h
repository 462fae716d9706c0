// A streaming JSON writer for the API's hot responses. Building an nlohmann::json tree only to
// dump it costs an allocation per field; on GET /api/tasks/{id} that was a tenth of the
// server's time. Strings are escaped per RFC 8259 and invalid UTF-8 becomes U+FFFD, so the
// output is always valid JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swarm {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The next value's key; only inside an object.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);  // NaN and infinities are written as null
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A value that is already serialized JSON, written as is.
  JsonWriter& Raw(std::string_view json);

  // Key and value in one call; an empty optional writes null.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  // Without this, a string literal would convert to bool (a standard conversion beats the
  // user-defined one to string_view).
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const std::string& value) {
    return Key(key).String(value);
  }
  JsonWriter& Field(std::string_view key, const std::optional<std::string>& value);
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: whether it has an element yet.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends `text` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace swarm
