#include "harness/cli_support.h"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "core/bounded_json.h"
#include "core/log.h"

namespace swarm::harness::cli {
std::optional<nlohmann::json> ParseObject(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos || line[first] != '{') return std::nullopt;
  auto parsed = ParseBoundedJson(line);
  if (!parsed) {
    // Malformed lines are common (banners starting with '{'); an over-deep or oversized one
    // is worth a word in the log.
    if (parsed.error().message.rfind("malformed", 0) != 0) {
      log::Warn("harness line kept as raw text", {{"error", parsed.error().message}});
    }
    return std::nullopt;
  }
  if (!parsed->is_object()) return std::nullopt;
  return std::move(*parsed);
}

std::optional<std::string> StringAt(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return std::nullopt;
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

int64_t IntAt(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return 0;
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  if (!it->is_number_float()) return it->get<int64_t>();
  // Casting a double outside int64's range is undefined; such a count is garbage (found by
  // fuzz_harness_lines: a 90-digit token count).
  const double value = it->get<double>();
  if (!(value > -9.2e18 && value < 9.2e18)) return 0;
  return static_cast<int64_t>(value);
}

std::optional<double> NumberAt(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return std::nullopt;
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

const nlohmann::json& ObjectAt(const nlohmann::json& obj, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (!obj.is_object()) return kEmpty;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::string BuildPrompt(const TaskRun& run) {
  std::string prompt = "Task ID: " + run.task_id + "\n\n" + run.prompt;
  if (run.output_schema) {
    prompt +=
        "\n\nReply with only a JSON value that matches the JSON Schema below: no prose before "
        "or after it and no code fences.\n\nJSON Schema:\n" +
        *run.output_schema;
  }
  if (run.mcp) {
    // No stub-llm marker word (REPLY:, MCP_CALL:, ...) may appear here: the stub reads the
    // whole prompt for them.
    prompt +=
        "\n\nWhen the work is done, finish this task yourself: call the store-progress tool "
        "of the agent-swarm MCP server with taskId \"" +
        run.task_id + "\", status \"completed\" and output set to ";
    prompt +=
        run.output_schema ? "the JSON value that matches the JSON Schema above" : "your result";
    prompt +=
        ". If the tool returns an error, fix what it names and call store-progress again. If "
        "you cannot do the task, call it with status \"failed\" and a failureReason instead. "
        "Then end with your final answer as your last message, as you would without the tool.";
  }
  return prompt;
}

void AddMcpEnv(const TaskRun& run, Env& env) {
  if (!run.mcp) return;
  env[kMcpTokenEnv] = run.mcp->token;
  env[kMcpAgentEnv] = run.mcp->agent_id;
  env[kMcpUrlEnv] = run.mcp->url;
  env[kMcpTaskEnv] = run.mcp->task_id;
}

void McpCallLog::Started(const std::string& id, const std::string& tool,
                         const nlohmann::json& arguments) {
  if (calls_.size() >= kMaxMcpCalls) return;
  if (std::find(ids_.begin(), ids_.end(), id) != ids_.end()) return;
  McpToolCall call;
  call.tool = tool;
  const nlohmann::json* args = &arguments;
  std::optional<nlohmann::json> parsed;
  if (arguments.is_string()) {
    // codex and some wires carry the arguments as JSON text.
    parsed = ParseObject(arguments.get_ref<const std::string&>());
    if (parsed) args = &*parsed;
  }
  call.status_argument = StringAt(*args, "status");
  calls_.push_back(std::move(call));
  ids_.push_back(id);
}

void McpCallLog::Ended(const std::string& id, bool is_error) {
  // The last call with that id: ids are unique per run in every CLI.
  for (size_t i = ids_.size(); i-- > 0;) {
    if (ids_[i] == id) {
      calls_[i].is_error = is_error;
      return;
    }
  }
}

Result<std::filesystem::path> HomeDir(const TaskRun& run) {
  if (run.home_dir.empty()) return BadRequest("the task has no home directory");
  std::error_code ec;
  auto home = std::filesystem::absolute(run.home_dir, ec);
  if (ec) return Internal("cannot resolve " + run.home_dir.string() + ": " + ec.message());
  return home;
}

Result<Env> BaseChildEnv(const TaskRun& run, const std::filesystem::path& home) {
  Env env = run.base_env;
  env.erase("AGENT_SWARM_API_KEY");
  env.erase("API_KEY");
  const std::pair<const char*, const char*> dirs[] = {
      {"HOME", "home"},
      {"XDG_CONFIG_HOME", "xdg/config"},
      {"XDG_DATA_HOME", "xdg/data"},
      {"XDG_CACHE_HOME", "xdg/cache"},
      {"XDG_STATE_HOME", "xdg/state"},
  };
  for (const auto& [var, sub] : dirs) {
    const auto dir = home / sub;
    if (auto made = MakeDirs(dir); !made) return tl::unexpected(made.error());
    env[var] = dir.string();
  }
  return env;
}

Result<void> MakeDirs(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  return {};
}

Result<void> WriteFile(const std::filesystem::path& path, std::string_view content) {
  if (auto made = MakeDirs(path.parent_path()); !made) return made;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return Internal("cannot write " + path.string());
  return {};
}

std::string TrimSlashes(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

std::string WithV1(std::string_view url) {
  std::string trimmed = TrimSlashes(url);
  if (trimmed.size() >= 3 && trimmed.compare(trimmed.size() - 3, 3, "/v1") == 0) return trimmed;
  return trimmed + "/v1";
}

std::string WithoutV1(std::string_view url) {
  std::string trimmed = TrimSlashes(url);
  if (trimmed.size() >= 3 && trimmed.compare(trimmed.size() - 3, 3, "/v1") == 0) {
    trimmed.resize(trimmed.size() - 3);
  }
  return TrimSlashes(trimmed);
}

std::string BaseUrlOrDefault(const ModelEndpoint& endpoint) {
  if (!endpoint.base_url.empty()) return endpoint.base_url;
  switch (endpoint.api) {
    case ModelEndpoint::Api::kAnthropic:
      return "https://api.anthropic.com";
    case ModelEndpoint::Api::kOpenAi:
      return "https://api.openai.com/v1";
    case ModelEndpoint::Api::kOpenRouter:
      return "https://openrouter.ai/api/v1";
  }
  return {};
}

std::string ModelOrDefault(const ModelEndpoint& endpoint) {
  if (endpoint.model && !endpoint.model->empty()) return *endpoint.model;
  switch (endpoint.api) {
    case ModelEndpoint::Api::kAnthropic:
      return "claude-sonnet-4-5";
    case ModelEndpoint::Api::kOpenAi:
      return "gpt-5-mini";
    case ModelEndpoint::Api::kOpenRouter:
      return "openai/gpt-5-mini";
  }
  return {};
}

}  // namespace swarm::harness::cli
