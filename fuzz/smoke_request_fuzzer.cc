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
  const std::string shown = SmokeRequestToJson(*request).dump();
  if (!request->api_key.empty() && request->api_key.size() >= 8 &&
      shown.find(request->api_key) != std::string::npos) {
    std::abort();
  }
  for (const auto& [provider, vars] : request->secrets) {
    for (const auto& [name, value] : vars) {
      if (value.size() >= 8 && shown.find(value) != std::string::npos) std::abort();
    }
  }
  return 0;
}
