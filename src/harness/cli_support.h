// What the four adapters share: reading JSON lines, the per-task child environment and
// config files, the prompt, and endpoint defaults. Internal to the harness layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "harness/adapter.h"

namespace swarm::harness::cli {

using Env = std::map<std::string, std::string>;

// The variable that carries the model API key to codex, opencode and pi; their config files
// name it instead of holding the key.
inline constexpr char kModelKeyEnv[] = "SWARM_MODEL_API_KEY";

// The line as a JSON object; nullopt for banners, blank lines and anything else — including a
// line nested deeper than core/bounded_json.h's limit (a model's output is input too), which
// is logged and then treated like any other non-JSON line.
std::optional<nlohmann::json> ParseObject(std::string_view line);

// Typed field reads that tolerate a missing key or a wrong type (CLIs change their output).
std::optional<std::string> StringAt(const nlohmann::json& obj, std::string_view key);
int64_t IntAt(const nlohmann::json& obj, std::string_view key);
std::optional<double> NumberAt(const nlohmann::json& obj, std::string_view key);
const nlohmann::json& ObjectAt(const nlohmann::json& obj, std::string_view key);

// The prompt: a `Task ID: <id>` line (the agent needs the id for the MCP tools; stub-llm reads
// it for its {{taskId}} placeholder), the task text, with an output schema the instruction to
// answer with matching JSON only, and with MCP the instruction to finish through
// store-progress (the final answer stays: it is the worker's safety net).
std::string BuildPrompt(const TaskRun& run);

// Puts the MCP variables (kMcpTokenEnv and the others of adapter.h) into `env` when the run
// has an MCP server; the CLI configs and pi's extension name them instead of holding values.
void AddMcpEnv(const TaskRun& run, Env& env);

// The MCP calls a parser has seen, by the CLI's call id. Bounded: a run that makes more
// calls than kMaxMcpCalls keeps the first ones.
class McpCallLog {
 public:
  static constexpr size_t kMaxMcpCalls = 1000;
  // A call of MCP tool `tool` (without the CLI's prefix) with `arguments` (an object, or JSON
  // text of one). A second start of the same id is ignored.
  void Started(const std::string& id, const std::string& tool, const nlohmann::json& arguments);
  // The result of call `id`; ignored for an id never started.
  void Ended(const std::string& id, bool is_error);
  bool empty() const { return calls_.empty(); }
  const std::vector<McpToolCall>& calls() const { return calls_; }

 private:
  std::vector<McpToolCall> calls_;
  std::vector<std::string> ids_;  // parallel to calls_
};

// run.home_dir made absolute (the CLI's cwd is elsewhere); an error when it is not set.
Result<std::filesystem::path> HomeDir(const TaskRun& run);

// run.base_env with HOME and the XDG base directories moved under `home` (created here), so
// nothing the CLI or its tools write lands in the real home. The swarm's own API key is
// removed: the CLI runs model-chosen shell commands and has no use for it.
Result<Env> BaseChildEnv(const TaskRun& run, const std::filesystem::path& home);

Result<void> MakeDirs(const std::filesystem::path& dir);
Result<void> WriteFile(const std::filesystem::path& path, std::string_view content);

// URLs as the user gave them, with or without a trailing "/v1".
std::string TrimSlashes(std::string_view url);
std::string WithV1(std::string_view url);
std::string WithoutV1(std::string_view url);

// The endpoint's base URL, or the vendor's public one when none is given.
std::string BaseUrlOrDefault(const ModelEndpoint& endpoint);
// The endpoint's model, or a default for its API (opencode and pi need one named).
std::string ModelOrDefault(const ModelEndpoint& endpoint);

}  // namespace swarm::harness::cli
