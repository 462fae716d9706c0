#include "harness/claude_adapter.h"

#include "harness/cli_support.h"

namespace swarm::harness {
namespace {

using nlohmann::json;

// claude names a server's tools mcp__<server>__<tool>, hyphens kept.
const std::string kToolPrefix = std::string("mcp__") + kMcpServerName + "__";

McpStatus ParseMcpStatus(const std::string& status) {
  if (status == "connected") return McpStatus::kConnected;
  if (status == "failed") return McpStatus::kFailed;
  if (status == "pending") return McpStatus::kPending;
  return McpStatus::kUnknown;
}

// stream-json lines: `system/init`, `assistant` and `user` messages, and a final `result`
// that carries the verdict, the final text, usage and the CLI's own cost.
class ClaudeParser final : public OutputParser {
 public:
  void Feed(std::string_view line) override {
    const auto obj = cli::ParseObject(line);
    if (!obj) return;
    if (!session_id_) session_id_ = cli::StringAt(*obj, "session_id");
    const std::string type = cli::StringAt(*obj, "type").value_or("");
    if (type == "system") {
      if (!model_) model_ = cli::StringAt(*obj, "model");
      ReadMcpServers(*obj);
    } else if (type == "user") {
      ReadToolResults(cli::ObjectAt(*obj, "message"));
    } else if (type == "assistant") {
      const json& message = cli::ObjectAt(*obj, "message");
      // The API's own model name, without the CLI's "[1m]" context tag of the init line.
      if (auto model = cli::StringAt(message, "model")) model_ = std::move(model);
      std::string text;
      if (auto it = message.find("content"); it != message.end() && it->is_array()) {
        for (const auto& part : *it) {
          const auto part_type = cli::StringAt(part, "type");
          if (part_type == "text") {
            text += cli::StringAt(part, "text").value_or("");
          } else if (part_type == "tool_use") {
            const std::string name = cli::StringAt(part, "name").value_or("");
            if (name.starts_with(kToolPrefix)) {
              const auto input = part.find("input");
              mcp_calls_.Started(cli::StringAt(part, "id").value_or(""),
                                 name.substr(kToolPrefix.size()),
                                 input != part.end() ? *input : json::object());
            }
          }
        }
      }
      if (!text.empty()) last_assistant_text_ = std::move(text);
    } else if (type == "result") {
      ReadResult(*obj);
    }
  }

  std::optional<std::string> session_id() const override { return session_id_; }

  ParsedRun Finish(const ProcessOutcome& /*outcome*/) override {
    ParsedRun run;
    run.session_id = session_id_;
    run.model = model_;
    run.mcp_calls = mcp_calls_.calls();
    // A tool call proves the connection even when init said "pending" (claude connects on).
    run.mcp_status = mcp_calls_.empty() ? mcp_status_ : McpStatus::kConnected;
    run.usage = usage_;
    run.cost_usd = cost_;
    run.num_turns = num_turns_;
    if (!have_result_) {
      run.final_text = last_assistant_text_;
      run.error = "claude ended without a result line";
      return run;
    }
    run.final_text = result_text_.empty() ? last_assistant_text_ : result_text_;
    // is_error, not subtype: an API error still says subtype "success".
    run.ok = !is_error_;
    if (is_error_) {
      std::string error =
          result_text_.empty() ? "claude reported an error (" + subtype_ + ")" : result_text_;
      if (api_error_status_) error += " (HTTP " + std::to_string(*api_error_status_) + ")";
      run.error = std::move(error);
    }
    return run;
  }

 private:
  void ReadResult(const json& obj) {
    have_result_ = true;
    subtype_ = cli::StringAt(obj, "subtype").value_or("");
    const auto is_error = obj.find("is_error");
    is_error_ = is_error != obj.end() && is_error->is_boolean() ? is_error->get<bool>()
                                                                : subtype_ != "success";
    result_text_ = cli::StringAt(obj, "result").value_or("");
    const json& usage = cli::ObjectAt(obj, "usage");
    usage_.input_tokens = cli::IntAt(usage, "input_tokens");
    usage_.output_tokens = cli::IntAt(usage, "output_tokens");
    usage_.cache_read_tokens = cli::IntAt(usage, "cache_read_input_tokens");
    usage_.cache_write_tokens = cli::IntAt(usage, "cache_creation_input_tokens");
    cost_ = cli::NumberAt(obj, "total_cost_usd");
    if (auto turns = cli::NumberAt(obj, "num_turns")) num_turns_ = static_cast<int64_t>(*turns);
    if (auto status = cli::NumberAt(obj, "api_error_status")) {
      api_error_status_ = static_cast<int>(*status);
    }
    const json& model_usage = cli::ObjectAt(obj, "modelUsage");
    if (!model_ && !model_usage.empty()) model_ = model_usage.begin().key();
  }

  // system/init lists every MCP server with its state: "mcp_servers":[{"name","status"}].
  void ReadMcpServers(const json& obj) {
    const auto servers = obj.find("mcp_servers");
    if (servers == obj.end() || !servers->is_array()) return;
    for (const auto& server : *servers) {
      if (cli::StringAt(server, "name") == kMcpServerName) {
        mcp_status_ = ParseMcpStatus(cli::StringAt(server, "status").value_or(""));
      }
    }
  }

  // A user message carrying tool results: {"type":"tool_result","tool_use_id","is_error"}.
  void ReadToolResults(const json& message) {
    const auto content = message.find("content");
    if (content == message.end() || !content->is_array()) return;
    for (const auto& part : *content) {
      if (cli::StringAt(part, "type") != "tool_result") continue;
      const auto is_error = part.find("is_error");
      mcp_calls_.Ended(cli::StringAt(part, "tool_use_id").value_or(""),
                       is_error != part.end() && is_error->is_boolean() && is_error->get<bool>());
    }
  }

  std::optional<std::string> session_id_;
  std::optional<std::string> model_;
  McpStatus mcp_status_ = McpStatus::kUnknown;
  cli::McpCallLog mcp_calls_;
  std::string last_assistant_text_;
  bool have_result_ = false;
  bool is_error_ = false;
  std::string subtype_;
  std::string result_text_;
  Usage usage_;
  std::optional<double> cost_;
  std::optional<int64_t> num_turns_;
  std::optional<int> api_error_status_;
};

}  // namespace

std::string ClaudeMcpConfigJson(const McpAccess& mcp) {
  // ${VAR} is expanded by claude in header values; the token never lands in the file.
  const json config = {{"mcpServers",
                        {{kMcpServerName,
                          {{"type", "http"},
                           {"url", mcp.url},
                           {"headers",
                            {{"Authorization", std::string("Bearer ${") + kMcpTokenEnv + "}"},
                             {"X-Agent-ID", std::string("${") + kMcpAgentEnv + "}"},
                             {"X-Source-Task-Id", mcp.task_id}}}}}}}};
  return config.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<ProcessSpec> ClaudeAdapter::Prepare(const TaskRun& run,
                                           const ModelEndpoint& endpoint) const {
  if (endpoint.api != ModelEndpoint::Api::kAnthropic) {
    return BadRequest(
        "claude speaks only the Anthropic Messages API: set ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY");
  }
  auto home = cli::HomeDir(run);
  if (!home) return tl::unexpected(home.error());
  auto env = cli::BaseChildEnv(run, *home);
  if (!env) return tl::unexpected(env.error());
  const auto config_dir = *home / "claude";
  if (auto made = cli::MakeDirs(config_dir); !made) return tl::unexpected(made.error());

  ProcessSpec spec;
  spec.env = std::move(*env);
  auto& e = spec.env;
  e["CLAUDE_CONFIG_DIR"] = config_dir.string();  // instead of ~/.claude and ~/.claude.json
  // --dangerously-skip-permissions is refused as root unless the CLI is told it is sandboxed.
  e["IS_SANDBOX"] = "1";
  // The CLI appends /v1/messages itself.
  if (endpoint.base_url.empty()) {
    e.erase("ANTHROPIC_BASE_URL");
  } else {
    e["ANTHROPIC_BASE_URL"] = cli::WithoutV1(endpoint.base_url);
  }
  if (!endpoint.api_key.empty()) e["ANTHROPIC_API_KEY"] = endpoint.api_key;
  // The one switch that stops every api.anthropic.com lookup besides the model calls; the
  // others are belt and braces.
  e["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
  e["DISABLE_AUTOUPDATER"] = "1";
  e["DISABLE_TELEMETRY"] = "1";
  e["DISABLE_ERROR_REPORTING"] = "1";
  // Fail fast: with retries an unreachable endpoint keeps the CLI retrying for minutes.
  e["CLAUDE_CODE_MAX_RETRIES"] = "0";
  if (run.mcp) {
    cli::AddMcpEnv(run, e);
    // In -p mode claude does not wait for MCP servers: a slow initialize leaves the first
    // model call without the tools. Both are needed (notes/harness-mcp.md).
    e["MCP_CONNECTION_NONBLOCKING"] = "0";
    e["MCP_CONNECT_TIMEOUT_MS"] = "15000";
  }

  const std::string prompt = cli::BuildPrompt(run);
  // Never on argv (any process can read /proc/<pid>/cmdline): with no positional prompt, -p
  // reads it from stdin.
  spec.argv = {"claude", "-p"};
  spec.stdin_data = prompt;
  for (const char* arg :
       {"--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"}) {
    spec.argv.push_back(arg);
  }
  if (endpoint.model && !endpoint.model->empty()) {
    spec.argv.push_back("--model");
    spec.argv.push_back(*endpoint.model);
  }
  if (run.mcp) {
    // Absolute: claude resolves a relative --mcp-config against its cwd. --strict-mcp-config
    // ignores any other MCP config (.mcp.json in the work dir, the config dir's).
    const auto mcp_config = *home / "mcp.json";
    if (auto written = cli::WriteFile(mcp_config, ClaudeMcpConfigJson(*run.mcp)); !written) {
      return tl::unexpected(written.error());
    }
    for (const std::string& arg :
         {std::string("--mcp-config"), mcp_config.string(), std::string("--strict-mcp-config")}) {
      spec.argv.push_back(arg);
    }
  }
  spec.cwd = run.work_dir;
  spec.timeout = run.timeout;
  return spec;
}

std::unique_ptr<OutputParser> ClaudeAdapter::NewParser() const {
  return std::make_unique<ClaudeParser>();
}

}  // namespace swarm::harness
