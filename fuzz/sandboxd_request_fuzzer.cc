// sandboxd's parsers of what an E2B client sends: the first byte picks the parser, the rest is
// the input. 0: a JSON body read as a create-sandbox body (v1 and v2), a template and a
// template build request, an envd StartRequest,
// a ConnectRequest/SendSignal/SendInput selector, signal and stdin; 1: a list call's query
// with its triple-encoded metadata filter; 2: a POST /files upload, its Content-Type on the
// first line and the multipart body after it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/bounded_json.h"
#include "http/query.h"
#include "sandboxd/build_request.h"
#include "sandboxd/create_request.h"
#include "sandboxd/envd_wire.h"

namespace {

using namespace swarm;
using namespace swarm::sandboxd;

void JsonBodies(std::string_view text) {
  // The limits the routes use.
  auto parsed = ParseBoundedJson(text, JsonLimits{.max_depth = 16, .max_bytes = 1 << 20});
  if (!parsed) return;
  const nlohmann::json& body = *parsed;
  (void)ParseCreateRequest(body, false);
  (void)ParseCreateRequest(body, true);
  (void)ParseTemplateRequest(body);
  if (auto build = ParseBuildRequest(body); build && build->steps.size() > kMaxBuildSteps) {
    std::abort();
  }
  if (!body.is_object()) return;  // the routes refuse anything else first
  (void)ParseStartRequest(body);
  if (auto selector = ParseSelector(body)) (void)selector->Describe();
  (void)ParseSignal(body.value("signal", nlohmann::json()));
  const auto input = body.value("input", nlohmann::json::object());
  if (input.is_object() && input.contains("stdin") && input["stdin"].is_string()) {
    (void)Base64Decode(input["stdin"].get<std::string>());
  }
}

void ListQuery(std::string_view query) {
  const auto params = http::QueryParams::Parse(query);
  if (auto metadata = params.Get("metadata")) {
    (void)ParseMetadataFilter(*metadata);
  }
  (void)ParseMetadataFilter(query);
}

void Upload(std::string_view text) {
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) return;
  auto files = ParseMultipart(text.substr(0, newline), text.substr(newline + 1), 64);
  if (files && files->size() > 64) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      JsonBodies(text);
      break;
    case 1:
      ListQuery(text);
      break;
    default:
      Upload(text);
      break;
  }
  return 0;
}
