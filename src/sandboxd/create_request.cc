#include "sandboxd/create_request.h"

#include <cstdint>
#include <optional>

#include <fmt/format.h>

namespace swarm::sandboxd {
namespace {

Result<StringMap> StringMapField(const nlohmann::json& body, const char* name) {
  StringMap values;
  if (!body.contains(name) || body[name].is_null()) return values;
  if (!body[name].is_object()) return BadRequest(fmt::format("{} must be an object", name));
  for (const auto& [key, value] : body[name].items()) {
    if (!value.is_string()) return BadRequest(fmt::format("{} values must be strings", name));
    values[key] = value.get<std::string>();
  }
  return values;
}

}  // namespace

Result<std::optional<int64_t>> IntField(const nlohmann::json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return std::optional<int64_t>();
  if (!body[name].is_number_integer()) {
    return BadRequest(fmt::format("{} must be an integer", name));
  }
  return std::optional<int64_t>(body[name].get<int64_t>());
}

Result<CreateRequest> ParseCreateRequest(const nlohmann::json& body, bool v2) {
  if (!body.is_object()) return BadRequest("the body must be a JSON object");
  CreateRequest request;
  if (!body.contains("templateID") || !body["templateID"].is_string()) {
    return BadRequest("templateID is required");
  }
  request.template_id = body["templateID"].get<std::string>();
  request.timeout = std::chrono::seconds(v2 ? 300 : 15);
  auto timeout = IntField(body, "timeout");
  if (!timeout) return tl::unexpected(timeout.error());
  if (*timeout) request.timeout = std::chrono::seconds(**timeout);
  auto env = StringMapField(body, "envVars");
  if (!env) return tl::unexpected(env.error());
  request.env_vars = std::move(*env);
  auto metadata = StringMapField(body, "metadata");
  if (!metadata) return tl::unexpected(metadata.error());
  request.metadata = std::move(*metadata);
  request.secure =
      v2 || (body.contains("secure") && body["secure"].is_boolean() && body["secure"].get<bool>());
  // sandboxd's own fields (E2B takes them from the template).
  auto cpu = IntField(body, "cpuCount");
  if (!cpu) return tl::unexpected(cpu.error());
  auto memory = IntField(body, "memoryMB");
  if (!memory) return tl::unexpected(memory.error());
  if (*cpu) {
    if (**cpu < 1 || **cpu > 64) return BadRequest("cpuCount must be between 1 and 64");
    request.cpu_count = static_cast<int>(**cpu);
  }
  if (*memory) {
    if (**memory < 128 || **memory > 1 << 20) {
      return BadRequest("memoryMB must be between 128 and 1048576");
    }
    request.memory_mb = static_cast<int>(**memory);
  }
  return request;
}

}  // namespace swarm::sandboxd
