#include "api/requests.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/field_reader.h"
#include "core/strings.h"

namespace swarm {
namespace {

using nlohmann::json;

constexpr int kMaxListLimit = 1000;
// A version string is one line like "0.8.0+abc1234" or "2.1.3 (Claude Code)".
constexpr std::size_t kMaxVersionBytes = 200;

// `output` is a string upstream; a client that sends the JSON value itself means the same.
std::optional<std::string> OutputText(FieldReader& r) {
  const json* v = r.OptionalValue("output");
  if (!v) return std::nullopt;
  return v->is_string() ? v->get<std::string>() : v->dump();
}

}  // namespace

Result<CreateTaskRequest> ParseCreateTask(const json& body) {
  FieldReader r(body);
  CreateTaskRequest req;
  NewTask& t = req.task;
  t.task = r.RequiredString("task");
  t.agent_id = r.OptionalString("agentId");
  t.creator_agent_id = r.OptionalString("creatorAgentId");
  t.source = r.OptionalString("source").value_or("api");
  t.task_type = r.OptionalString("taskType");
  t.tags = r.StringArray("tags");
  t.priority = static_cast<int>(r.OptionalInt("priority", 0, 100).value_or(50));
  t.model = r.OptionalString("model");
  if (t.agent_id && t.agent_id->empty()) r.Fail("agentId must not be empty");
  if (t.source.empty()) r.Fail("source must not be empty");
  const json* schema = r.OptionalValue("outputSchema");
  if (!r.ok()) return tl::unexpected(r.error());
  if (schema) {
    auto compiled = OutputSchema::Compile(*schema);
    if (!compiled) return tl::unexpected(compiled.error());
    req.schema = std::move(*compiled);
    t.output_schema = schema->dump();
  }
  return req;
}

Result<AgentRegistration> ParseRegisterAgent(const json& body, std::string agent_id) {
  FieldReader r(body);
  AgentRegistration reg;
  reg.id = std::move(agent_id);
  reg.name = r.RequiredString("name");
  reg.is_lead = r.OptionalBool("isLead").value_or(false);
  reg.description = r.OptionalString("description");
  reg.role = r.OptionalString("role");
  reg.capabilities = r.StringArray("capabilities");
  if (auto max = r.OptionalInt("maxTasks", 1, 100)) reg.max_tasks = static_cast<int>(*max);
  reg.provider = r.OptionalString("provider");
  reg.harness_provider = r.OptionalString("harness_provider");
  if (!reg.harness_provider) reg.harness_provider = r.OptionalString("harnessProvider");
  if (!reg.provider) reg.provider = reg.harness_provider;
  reg.runtime_instance_id = r.OptionalString("runtimeInstanceId");
  if (reg.runtime_instance_id && reg.runtime_instance_id->size() > 200) {
    r.Fail("runtimeInstanceId must be at most 200 characters");
  }
  if (reg.role && reg.role->size() > 100) r.Fail("role must be at most 100 characters");
  // What the worker reports about its build and its harness CLI; the smoke runner compares
  // the first with the API's own version.
  reg.version = r.OptionalString("version");
  if (reg.version && reg.version->size() > kMaxVersionBytes) {
    r.Fail(fmt::format("version must be at most {} bytes", kMaxVersionBytes));
  }
  reg.cli_version = r.OptionalString("cliVersion");
  if (reg.cli_version && reg.cli_version->size() > kMaxVersionBytes) {
    r.Fail(fmt::format("cliVersion must be at most {} bytes", kMaxVersionBytes));
  }
  if (!r.ok()) return tl::unexpected(r.error());
  return reg;
}

Result<FinishRequest> ParseFinish(const json& body) {
  FieldReader r(body);
  FinishRequest req;
  const std::string status = r.RequiredString("status");
  if (r.ok()) {
    if (status == "completed") {
      req.status = TaskStatus::kCompleted;
    } else if (status == "failed") {
      req.status = TaskStatus::kFailed;
    } else {
      r.Fail("status must be \"completed\" or \"failed\"");
    }
  }
  req.output = OutputText(r);
  req.failure_reason = r.OptionalString("failureReason");
  if (!r.ok()) return tl::unexpected(r.error());
  return req;
}

Result<SessionRequest> ParseSession(const json& body) {
  FieldReader r(body);
  SessionRequest req;
  req.session_id = r.RequiredString("claudeSessionId");
  req.provider = r.OptionalString("provider");
  req.model = r.OptionalString("model");
  if (!r.ok()) return tl::unexpected(r.error());
  return req;
}

Result<std::string> ParseProgress(const json& body) {
  FieldReader r(body);
  std::string progress = r.RequiredString("progress");
  if (!r.ok()) return tl::unexpected(r.error());
  return progress;
}

Result<std::optional<std::string>> ParseCancel(const json& body) {
  FieldReader r(body);
  auto reason = r.OptionalString("reason");
  if (!r.ok()) return tl::unexpected(r.error());
  return reason;
}

Result<SessionLogBatch> ParseSessionLogs(const json& body) {
  FieldReader r(body);
  SessionLogBatch batch;
  batch.session_id = r.RequiredString("sessionId");
  batch.task_id = r.OptionalString("taskId");
  batch.iteration = static_cast<int>(r.OptionalInt("iteration", 1, 1'000'000).value_or(1));
  batch.cli = r.OptionalString("cli").value_or("claude");
  batch.lines = r.StringArray("lines", 1);
  if (!r.ok()) return tl::unexpected(r.error());
  return batch;
}

Result<SessionCost> ParseSessionCost(const json& body) {
  FieldReader r(body);
  SessionCost c;
  constexpr int64_t kMaxTokens = int64_t{1} << 50;
  c.session_id = r.RequiredString("sessionId");
  c.agent_id = r.RequiredString("agentId");
  c.task_id = r.OptionalString("taskId");
  if (!r.OptionalValue("totalCostUsd")) r.Fail("totalCostUsd is required");
  c.total_cost_usd = r.OptionalNumber("totalCostUsd", 0).value_or(0);
  c.input_tokens = r.OptionalInt("inputTokens", 0, kMaxTokens).value_or(0);
  c.output_tokens = r.OptionalInt("outputTokens", 0, kMaxTokens).value_or(0);
  c.cache_read_tokens = r.OptionalInt("cacheReadTokens", 0, kMaxTokens).value_or(0);
  c.cache_write_tokens = r.OptionalInt("cacheWriteTokens", 0, kMaxTokens).value_or(0);
  c.reasoning_output_tokens = r.OptionalInt("reasoningOutputTokens", 0, kMaxTokens).value_or(0);
  c.duration_ms = r.OptionalInt("durationMs", 0, kMaxTokens);
  c.num_turns = r.OptionalInt("numTurns", 0, 1'000'000);
  c.model = r.OptionalString("model");
  c.provider = r.OptionalString("provider");
  c.is_error = r.OptionalBool("isError").value_or(false);
  c.cost_source = r.OptionalString("costSource").value_or("harness");
  if (r.ok() && c.cost_source != "harness" && c.cost_source != "pricing-table" &&
      c.cost_source != "unpriced") {
    r.Fail("costSource must be \"harness\", \"pricing-table\" or \"unpriced\"");
  }
  if (!r.ok()) return tl::unexpected(r.error());
  return c;
}

Result<std::string> ValidateAgentId(std::string_view header) {
  constexpr std::size_t kMaxAgentIdBytes = 256;
  if (header.empty()) return BadRequest("X-Agent-ID must not be empty");
  if (header.size() > kMaxAgentIdBytes) {
    return BadRequest(fmt::format("X-Agent-ID must be at most {} bytes", kMaxAgentIdBytes));
  }
  if (!IsValidUtf8(header)) return BadRequest("X-Agent-ID must be valid UTF-8");
  for (std::size_t i = 0; i < header.size(); ++i) {
    const auto c = static_cast<unsigned char>(header[i]);
    // C0 controls and DEL; C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F.
    const bool c1 =
        c == 0xC2 && i + 1 < header.size() && static_cast<unsigned char>(header[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      return BadRequest("X-Agent-ID must not contain control characters");
    }
  }
  return std::string(header);
}

Result<int> ParseIntParam(const http::QueryParams& query, const char* name, int min, int max,
                          int fallback) {
  auto text = query.Get(name);
  if (!text || text->empty()) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return BadRequest(fmt::format("{} must be an integer between {} and {}", name, min, max));
  }
  return value;
}

Result<TaskFilter> ParseTaskFilter(const http::QueryParams& query) {
  TaskFilter f;
  if (auto status = query.Get("status")) {
    for (const auto& name : SplitCsv(*status)) {
      auto s = ParseTaskStatus(name);
      if (!s) return BadRequest(fmt::format("status: unknown task status \"{}\"", name));
      f.statuses.push_back(*s);
    }
  }
  if (auto agent = query.Get("agentId"); agent && !agent->empty()) f.agent_id = *agent;
  if (auto source = query.Get("source")) f.sources = SplitCsv(*source);
  auto limit = ParseIntParam(query, "limit", 1, kMaxListLimit, 25);
  if (!limit) return tl::unexpected(limit.error());
  auto offset = ParseIntParam(query, "offset", 0, 1'000'000'000, 0);
  if (!offset) return tl::unexpected(offset.error());
  f.limit = *limit;
  f.offset = *offset;
  return f;
}

Result<CostFilter> ParseCostFilter(const http::QueryParams& query) {
  CostFilter f;
  if (auto task = query.Get("taskId"); task && !task->empty()) f.task_id = *task;
  if (auto agent = query.Get("agentId"); agent && !agent->empty()) f.agent_id = *agent;
  auto limit = ParseIntParam(query, "limit", 1, kMaxListLimit, 100);
  if (!limit) return tl::unexpected(limit.error());
  f.limit = *limit;
  return f;
}

Result<std::chrono::milliseconds> ParsePollWait(const http::QueryParams& query,
                                                double max_seconds) {
  auto text = query.Get("wait");
  if (!text || text->empty()) return std::chrono::milliseconds(0);
  double seconds = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(seconds) ||
      seconds < 0 || seconds > max_seconds) {
    return BadRequest(
        fmt::format("wait must be a number of seconds between 0 and {}", max_seconds));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace swarm
