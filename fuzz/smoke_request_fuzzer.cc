// A smoke-run request is a POST body from outside, and a stored run is read back from the
// store: whatever the document, parsing ends, a request that parses names only known providers
// with bounded fields, and no JSON the API shows carries the swarm key or a secret value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/bounded_json.h"
#include "core/smoke_run.h"
#include "smoke/smoke_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = ParseBoundedJson(text);
  if (!body) return 0;
  (void)SmokeRunFromJson(*body);
  smoke::SmokeRequestDefaults defaults;
  defaults.api_url = "http://127.0.0.1:3013";
  defaults.api_key = "fuzz-swarm-key-0123456789";
  auto request = smoke::ParseSmokeRequest(*body, defaults);
  if (!request) return 0;
  if (request->providers.empty()) std::abort();
  for (const auto& provider : request->providers) {
    bool known = false;
    for (auto name : kSmokeProviders) known = known || provider == name;
    if (!known) std::abort();
  }
  // What may be stored or shown: no key, and per provider only the names of its secrets. (A
  // search for the values in the text would be wrong: a value may equal any field's text.)
  const nlohmann::json shown = SmokeRequestToJson(*request);
  if (shown.contains("apiKey")) std::abort();
  if (auto it = shown.find("secrets"); it != shown.end()) {
    for (const auto& [provider, names] : it->items()) {
      const auto& given = request->secrets.at(provider);
      if (!names.is_array() || names.size() != given.size()) std::abort();
      for (const auto& name : names) {
        if (!name.is_string() || !given.count(name.get<std::string>())) std::abort();
      }
    }
  }
  const SmokeRequest redacted = RedactedSmokeRequest(*request);
  if (!redacted.api_key.empty()) std::abort();
  for (const auto& [provider, vars] : redacted.secrets) {
    for (const auto& [name, value] : vars) {
      if (value != "[REDACTED]") std::abort();
    }
  }
  return 0;
}
