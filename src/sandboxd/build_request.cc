#include "sandboxd/build_request.h"

#include <regex>

#include <fmt/format.h>

namespace swarm::sandboxd {
namespace {

// An absent or null field is nullopt; a present one must be a string.
Result<std::optional<std::string>> OptionalString(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return BadRequest(fmt::format("{} must be a string", name));
  return std::optional<std::string>(it->get<std::string>());
}

Result<int> IntInRange(const nlohmann::json& object, const char* name, int fallback, int low,
                       int high) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < low || it->get<int64_t>() > high ||
      (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(high))) {
    return BadRequest(fmt::format("{} must be an integer between {} and {}", name, low, high));
  }
  return static_cast<int>(it->get<int64_t>());
}

Result<BuildStep> ParseStep(const nlohmann::json& step, std::size_t index) {
  if (!step.is_object()) return BadRequest(fmt::format("step {} must be an object", index));
  BuildStep parsed;
  auto type = OptionalString(step, "type");
  if (!type) return tl::unexpected(type.error());
  if (!*type || (*type)->empty()) return BadRequest(fmt::format("step {} has no type", index));
  parsed.type = **type;
  if (const auto args = step.find("args"); args != step.end() && !args->is_null()) {
    if (!args->is_array()) return BadRequest(fmt::format("step {}: args must be an array", index));
    for (const auto& arg : *args) {
      if (!arg.is_string()) {
        return BadRequest(fmt::format("step {}: args must be strings", index));
      }
      parsed.args.push_back(arg.get<std::string>());
    }
  }
  auto hash = OptionalString(step, "filesHash");
  if (!hash) return tl::unexpected(hash.error());
  if (*hash && !(*hash)->empty()) {
    if (!IsValidFilesHash(**hash)) {
      return BadRequest(fmt::format("step {}: invalid filesHash", index));
    }
    parsed.files_hash = **hash;
  }
  return parsed;
}

}  // namespace

bool IsValidFilesHash(const std::string& hash) {
  static const std::regex kHash("[a-zA-Z0-9_-]{1,128}");
  return std::regex_match(hash, kHash);
}

Result<TemplateRequest> ParseTemplateRequest(const nlohmann::json& body) {
  if (!body.is_object()) return BadRequest("the body must be a JSON object");
  TemplateRequest request;
  auto name = OptionalString(body, "name");
  if (!name) return tl::unexpected(name.error());
  auto alias = OptionalString(body, "alias");
  if (!alias) return tl::unexpected(alias.error());
  request.full_name = name->value_or("");
  if (request.full_name.empty()) request.full_name = alias->value_or("");
  if (request.full_name.empty()) return BadRequest("name is required");
  if (request.full_name.size() > 128) return BadRequest("name is too long");
  static const std::regex kName("[a-zA-Z0-9][a-zA-Z0-9._/-]*(:[a-zA-Z0-9._-]+)?");
  if (!std::regex_match(request.full_name, kName)) {
    return BadRequest("name has invalid characters");
  }
  if (const auto tags = body.find("tags"); tags != body.end() && tags->is_array()) {
    static const std::regex kTag("[a-zA-Z0-9._-]{1,128}");
    for (const auto& tag : *tags) {
      if (!tag.is_string() || !std::regex_match(tag.get<std::string>(), kTag)) {
        return BadRequest("tags must be names of letters, digits, '.', '_' and '-'");
      }
      if (request.tags.size() >= 64) return BadRequest("too many tags");
      request.tags.push_back(tag.get<std::string>());
    }
  }
  auto cpu = IntInRange(body, "cpuCount", 2, 1, 64);
  if (!cpu) return tl::unexpected(cpu.error());
  auto memory = IntInRange(body, "memoryMB", 1024, 128, 1 << 20);
  if (!memory) return tl::unexpected(memory.error());
  request.cpu_count = *cpu;
  request.memory_mb = *memory;
  return request;
}

Result<BuildRequest> ParseBuildRequest(const nlohmann::json& body) {
  if (!body.is_object()) return BadRequest("the body must be a JSON object");
  BuildRequest request;
  auto from_template = OptionalString(body, "fromTemplate");
  if (!from_template) return tl::unexpected(from_template.error());
  auto from_image = OptionalString(body, "fromImage");
  if (!from_image) return tl::unexpected(from_image.error());
  if (*from_template && *from_image) return BadRequest("give fromImage or fromTemplate, not both");
  request.from_template = *from_template;
  if (*from_image) request.from_image = **from_image;
  if (const auto steps = body.find("steps"); steps != body.end() && !steps->is_null()) {
    if (!steps->is_array()) return BadRequest("steps must be an array");
    if (steps->size() > kMaxBuildSteps) {
      return BadRequest(fmt::format("a build has at most {} steps", kMaxBuildSteps));
    }
    for (std::size_t i = 0; i < steps->size(); ++i) {
      auto step = ParseStep((*steps)[i], i + 1);
      if (!step) return tl::unexpected(step.error());
      request.steps.push_back(std::move(*step));
    }
  }
  auto start = OptionalString(body, "startCmd");
  if (!start) return tl::unexpected(start.error());
  auto ready = OptionalString(body, "readyCmd");
  if (!ready) return tl::unexpected(ready.error());
  request.start_cmd = *start;
  request.ready_cmd = *ready;
  return request;
}

}  // namespace swarm::sandboxd
