// Dotenv files (`--env-file`, `.env`) are user input: whatever the text, parsing ends and only
// valid variable names come out.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sandbox/dotenv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::sandbox;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& [key, value] : ParseDotenv(text)) {
    if (!IsValidEnvKey(key)) std::abort();
    (void)value;
  }
  return 0;
}
