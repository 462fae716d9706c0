#include "harness/pi_adapter.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "harness/cli_support.h"
#include "harness/pi_mcp_extension.h"
#include "harness/pricing.h"

namespace swarm::harness {
namespace {

using nlohmann::json;

constexpr char kProviderId[] = "swarm";

// The swarm's tools, to tell them from pi's own when the extension's stderr line is lost.
constexpr std::string_view kSwarmTools[] = {"store-progress", "get-task-details", "get-tasks",
                                            "send-task",      "cancel-task",      "my-agent-info",
                                            "get-swarm"};

// The tool names of the extension's "connected:" stderr line, or nullopt without one; the
// status it reports goes to `status`.
std::optional<std::vector<std::string>> ReadExtensionMarker(const std::string& stderr_text,
                                                            McpStatus& status) {
  const std::string connected = std::string(kPiMcpMarker) + " connected:";
  const std::string failed = std::string(kPiMcpMarker) + " not connected:";
  const size_t at = stderr_text.rfind(connected);
  if (at == std::string::npos) {
    if (stderr_text.find(failed) != std::string::npos) status = McpStatus::kFailed;
    return std::nullopt;
  }
  status = McpStatus::kConnected;
  const size_t begin = at + connected.size();
  const size_t end = stderr_text.find('\n', begin);
  std::vector<std::string> tools;
  std::string rest = stderr_text.substr(begin, end == std::string::npos ? end : end - begin);
  size_t pos = 0;
  while (pos < rest.size()) {
    const size_t space = rest.find(' ', pos);
    const size_t stop = space == std::string::npos ? rest.size() : space;
    if (stop > pos) tools.push_back(rest.substr(pos, stop - pos));
    pos = stop + 1;
  }
  return tools;
}

// One assistant message as pi reports it in message_end and agent_end.
struct AssistantMessage {
  std::string text;
  std::string stop_reason;
  std::optional<std::string> error_message;
  std::optional<std::string> model;
  Usage usage;
  double cost = 0;
};

std::optional<AssistantMessage> ReadAssistant(const json& message) {
  if (cli::StringAt(message, "role") != "assistant") return std::nullopt;
  AssistantMessage out;
  if (auto it = message.find("content"); it != message.end() && it->is_array()) {
    for (const auto& part : *it) {
      if (cli::StringAt(part, "type") == "text")
        out.text += cli::StringAt(part, "text").value_or("");
    }
  }
  out.stop_reason = cli::StringAt(message, "stopReason").value_or("");
  out.error_message = cli::StringAt(message, "errorMessage");
  out.model = cli::StringAt(message, "model");
  const json& usage = cli::ObjectAt(message, "usage");
  out.usage.input_tokens = cli::IntAt(usage, "input");
  out.usage.output_tokens = cli::IntAt(usage, "output");
  out.usage.cache_read_tokens = cli::IntAt(usage, "cacheRead");
  out.usage.cache_write_tokens = cli::IntAt(usage, "cacheWrite");
  out.cost = cli::NumberAt(cli::ObjectAt(usage, "cost"), "total").value_or(0);
  return out;
}

// --mode json lines: a `session` header, agent/turn/message events, tool executions, and an
// agent_end holding every message of the run.
class PiParser final : public OutputParser {
 public:
  void Feed(std::string_view line) override {
    const auto obj = cli::ParseObject(line);
    if (!obj) return;
    const std::string type = cli::StringAt(*obj, "type").value_or("");
    if (type == "session") {
      if (!session_id_) session_id_ = cli::StringAt(*obj, "id");
    } else if (type == "message_end") {
      if (auto message = ReadAssistant(cli::ObjectAt(*obj, "message"))) {
        streamed_.push_back(std::move(*message));
      }
    } else if (type == "tool_execution_start") {
      // Every tool for now; Finish keeps the swarm's (pi names them as the server does).
      const auto args = obj->find("args");
      tool_calls_.Started(cli::StringAt(*obj, "toolCallId").value_or(""),
                          cli::StringAt(*obj, "toolName").value_or(""),
                          args != obj->end() ? *args : json::object());
    } else if (type == "tool_execution_end") {
      const auto is_error = obj->find("isError");
      tool_calls_.Ended(cli::StringAt(*obj, "toolCallId").value_or(""),
                        is_error != obj->end() && is_error->is_boolean() && is_error->get<bool>());
    } else if (type == "agent_end") {
      // The authoritative list; replaces what the message_end events added up to.
      std::vector<AssistantMessage> messages;
      if (auto it = obj->find("messages"); it != obj->end() && it->is_array()) {
        for (const auto& message : *it) {
          if (auto read = ReadAssistant(message)) messages.push_back(std::move(*read));
        }
      }
      if (!messages.empty()) final_ = std::move(messages);
    }
  }

  std::optional<std::string> session_id() const override { return session_id_; }

  ParsedRun Finish(const ProcessOutcome& outcome) override {
    const auto& messages = final_ ? *final_ : streamed_;
    ParsedRun run;
    run.session_id = session_id_;
    ReadMcp(outcome, run);
    if (messages.empty()) {
      run.error = outcome.exit_code == 0
                      ? "pi produced no assistant message"
                      : "pi exited with code " + std::to_string(outcome.exit_code) +
                            " before any assistant message";
      return run;
    }
    double cost = 0;
    for (const auto& message : messages) {
      run.usage.input_tokens += message.usage.input_tokens;
      run.usage.output_tokens += message.usage.output_tokens;
      run.usage.cache_read_tokens += message.usage.cache_read_tokens;
      run.usage.cache_write_tokens += message.usage.cache_write_tokens;
      cost += message.cost;
      if (message.model) run.model = message.model;
    }
    // pi prices tokens with models.json's cost; zero with tokens spent means no price known.
    if (cost > 0 || run.usage.input_tokens + run.usage.output_tokens == 0) run.cost_usd = cost;
    const AssistantMessage& last = messages.back();
    run.final_text = last.text;
    // The exit code says nothing: pi exits 0 after an API error.
    const bool failed = last.stop_reason == "error" || last.stop_reason == "aborted";
    run.ok = !failed;
    if (failed) {
      run.error =
          last.error_message.value_or("pi stopped with stopReason \"" + last.stop_reason + "\"");
    }
    return run;
  }

 private:
  // Our extension says on stderr whether it connected and which tools it registered; a call
  // of one of those (or, without the line, of a swarm tool) is an MCP call.
  void ReadMcp(const ProcessOutcome& outcome, ParsedRun& run) const {
    const auto tools = ReadExtensionMarker(outcome.stderr_tail, run.mcp_status);
    for (const McpToolCall& call : tool_calls_.calls()) {
      const bool mcp = tools ? std::find(tools->begin(), tools->end(), call.tool) != tools->end()
                             : std::find(std::begin(kSwarmTools), std::end(kSwarmTools),
                                         call.tool) != std::end(kSwarmTools);
      if (mcp) run.mcp_calls.push_back(call);
    }
    if (!run.mcp_calls.empty()) run.mcp_status = McpStatus::kConnected;
  }

  std::optional<std::string> session_id_;
  cli::McpCallLog tool_calls_;
  std::vector<AssistantMessage> streamed_;
  std::optional<std::vector<AssistantMessage>> final_;
};

}  // namespace

std::string PiModelsJson(const ModelEndpoint& endpoint) {
  const std::string model = cli::ModelOrDefault(endpoint);
  const std::string base_url = cli::BaseUrlOrDefault(endpoint);
  const bool anthropic = endpoint.api == ModelEndpoint::Api::kAnthropic;
  // pi computes cost from these (USD per million tokens).
  const auto price = FindModelPrice(model);
  json provider = {
      {"baseUrl", anthropic ? cli::WithoutV1(base_url) : cli::WithV1(base_url)},
      {"api", anthropic ? "anthropic-messages" : "openai-completions"},
      // The name of the variable holding the key: pi reads it from the environment.
      {"apiKey", cli::kModelKeyEnv},
      {"models",
       {{{"id", model},
         {"name", model},
         {"reasoning", false},
         {"input", {"text"}},
         {"contextWindow", 200000},
         {"maxTokens", 8192},
         {"cost",
          {{"input", price ? price->input_per_mtok : 0.0},
           {"output", price ? price->output_per_mtok : 0.0},
           {"cacheRead", 0},
           {"cacheWrite", 0}}}}}},
  };
  if (!anthropic) {
    // Plain system messages, no reasoning_effort: what every chat-completions server accepts.
    provider["compat"] = {{"supportsDeveloperRole", false}, {"supportsReasoningEffort", false}};
  }
  return json{{"providers", {{kProviderId, provider}}}}.dump(2, ' ', false,
                                                             json::error_handler_t::replace) +
         "\n";
}

std::string PiSettingsJson(const ModelEndpoint& endpoint) {
  const json settings = {
      {"defaultProvider", kProviderId},
      {"defaultModel", cli::ModelOrDefault(endpoint)},
      {"enableInstallTelemetry", false},
      {"quietStartup", true},
      // Fail fast: by default pi retries 3 times over about 24 s.
      {"retry", {{"enabled", false}, {"provider", {{"maxRetries", 0}}}}},
  };
  return settings.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<ProcessSpec> PiAdapter::Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const {
  auto home = cli::HomeDir(run);
  if (!home) return tl::unexpected(home.error());
  auto env = cli::BaseChildEnv(run, *home);
  if (!env) return tl::unexpected(env.error());
  const auto agent_dir = *home / "pi";
  for (const auto& [name, content] : {
           std::pair<const char*, std::string>{"models.json", PiModelsJson(endpoint)},
           {"settings.json", PiSettingsJson(endpoint)},
       }) {
    if (auto written = cli::WriteFile(agent_dir / name, content); !written) {
      return tl::unexpected(written.error());
    }
  }

  if (run.mcp) {
    // pi loads every extension in <agent dir>/extensions/ (async factories are awaited).
    if (auto written =
            cli::WriteFile(agent_dir / "extensions" / kPiMcpExtensionFile, PiMcpExtensionSource());
        !written) {
      return tl::unexpected(written.error());
    }
  }

  ProcessSpec spec;
  spec.env = std::move(*env);
  auto& e = spec.env;
  cli::AddMcpEnv(run, e);
  e["PI_CODING_AGENT_DIR"] = agent_dir.string();
  e["PI_OFFLINE"] = "1";  // no version check, telemetry or fd/rg downloads from GitHub
  e["PI_SKIP_VERSION_CHECK"] = "1";
  e["PI_TELEMETRY"] = "0";
  if (!endpoint.api_key.empty()) e[cli::kModelKeyEnv] = endpoint.api_key;

  const std::string prompt = cli::BuildPrompt(run);
  // On stdin, never argv: readable in /proc/<pid>/cmdline, and a leading '-' or '@' would be
  // read as an option or a file to attach.
  spec.argv = {"pi", "-p", "--mode", "json"};
  spec.stdin_data = prompt;
  spec.cwd = run.work_dir;
  spec.timeout = run.timeout;
  return spec;
}

std::unique_ptr<OutputParser> PiAdapter::NewParser() const { return std::make_unique<PiParser>(); }

}  // namespace swarm::harness
