// The output judge: schema bytes and output bytes (split at the first NUL byte), judged as a
// finish would be, plus Compile and Check on anything that parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/output_schema.h"
#include "core/bounded_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = text.find('\0');
  const std::string_view schema = text.substr(0, cut);
  const std::string_view output = cut == std::string_view::npos ? "" : text.substr(cut + 1);
  (void)OutputSchema::JudgeText(schema, output);
  auto parsed = ParseBoundedJson(schema);
  if (!parsed) return 0;
  auto compiled = OutputSchema::Compile(*parsed);
  if (!compiled) return 0;
  if (auto value = ParseBoundedJson(output)) (void)compiled->Check(*value);
  return 0;
}
