#include "harness/codex_adapter.h"

#include <cstdio>

#include "harness/cli_support.h"

namespace swarm::harness {
namespace {

using nlohmann::json;

// What codex prints on stderr (exit code 1, no JSON) when a required MCP server is down.
constexpr char kMcpInitFailure[] = "required MCP servers failed to initialize";

// A TOML basic string.
std::string Toml(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// --json lines: thread.started, turn.started, item.started/completed, turn.completed with
// usage, or error / turn.failed. Codex reports no cost.
class CodexParser final : public OutputParser {
 public:
  void Feed(std::string_view line) override {
    const auto obj = cli::ParseObject(line);
    if (!obj) return;
    const std::string type = cli::StringAt(*obj, "type").value_or("");
    if (type == "thread.started") {
      if (!thread_id_) thread_id_ = cli::StringAt(*obj, "thread_id");
      started_ = true;
    } else if (type == "item.started") {
      ReadMcpCall(cli::ObjectAt(*obj, "item"), false);
    } else if (type == "item.completed") {
      const json& item = cli::ObjectAt(*obj, "item");
      ReadMcpCall(item, true);
      // item.type "error" is a warning (e.g. unknown model metadata); the run goes on.
      if (cli::StringAt(item, "type") == "agent_message") {
        final_text_ = cli::StringAt(item, "text").value_or("");
      }
    } else if (type == "turn.completed") {
      completed_ = true;
      const json& usage = cli::ObjectAt(*obj, "usage");
      usage_.input_tokens += cli::IntAt(usage, "input_tokens");
      usage_.cache_read_tokens += cli::IntAt(usage, "cached_input_tokens");
      usage_.cache_write_tokens += cli::IntAt(usage, "cache_write_input_tokens");
      usage_.output_tokens += cli::IntAt(usage, "output_tokens");
      usage_.reasoning_tokens += cli::IntAt(usage, "reasoning_output_tokens");
    } else if (type == "turn.failed") {
      failed_ = true;
      failure_ = cli::StringAt(cli::ObjectAt(*obj, "error"), "message");
    } else if (type == "error") {
      last_error_ = cli::StringAt(*obj, "message").value_or("codex reported an error");
    }
  }

  std::optional<std::string> session_id() const override { return thread_id_; }

  ParsedRun Finish(const ProcessOutcome& outcome) override {
    ParsedRun run;
    run.session_id = thread_id_;
    run.final_text = final_text_;
    run.usage = usage_;
    run.mcp_calls = mcp_calls_.calls();
    // With required = true codex starts no thread before its MCP servers are up, so a run
    // that started had the server (the adapter's RunHarness marks runs without MCP as off).
    const bool mcp_failed =
        outcome.exit_code != 0 && outcome.stderr_tail.find(kMcpInitFailure) != std::string::npos;
    if (mcp_failed) {
      run.mcp_status = McpStatus::kFailed;
    } else if (started_ || !mcp_calls_.empty()) {
      run.mcp_status = McpStatus::kConnected;
    }
    run.ok = completed_ && !failed_ && !last_error_ && outcome.exit_code == 0;
    if (run.ok) return run;
    if (mcp_failed) {
      run.error = std::string("the swarm's MCP server (") + kMcpServerName +
                  ") could not be reached, and codex requires it";
    } else if (failure_) {
      run.error = failure_;
    } else if (last_error_) {
      run.error = last_error_;
    } else if (failed_) {
      run.error = "codex reported turn.failed";
    } else if (!completed_) {
      run.error = "codex ended without turn.completed";
    } else {
      run.error = "codex exited with code " + std::to_string(outcome.exit_code);
    }
    return run;
  }

 private:
  // {"type":"mcp_tool_call","id","server","tool","arguments","status":"in_progress" |
  // "completed" | "failed"}; an isError result is status "failed".
  void ReadMcpCall(const json& item, bool completed) {
    if (cli::StringAt(item, "type") != "mcp_tool_call" ||
        cli::StringAt(item, "server") != kMcpServerName) {
      return;
    }
    const std::string id = cli::StringAt(item, "id").value_or("");
    const auto arguments = item.find("arguments");
    mcp_calls_.Started(id, cli::StringAt(item, "tool").value_or(""),
                       arguments != item.end() ? *arguments : json::object());
    if (completed) mcp_calls_.Ended(id, cli::StringAt(item, "status") != "completed");
  }

  std::optional<std::string> thread_id_;
  bool started_ = false;
  cli::McpCallLog mcp_calls_;
  std::string final_text_;
  Usage usage_;
  bool completed_ = false;
  bool failed_ = false;
  std::optional<std::string> failure_;
  std::optional<std::string> last_error_;
};

}  // namespace

std::string CodexConfigToml(const ModelEndpoint& endpoint, const std::optional<McpAccess>& mcp) {
  std::string toml =
      "# Written per task by agent-swarm. Every switch below keeps codex on the endpoint\n"
      "# (see notes/harness-clis.md section 2); retries are off so failures come fast.\n";
  toml += "model = " + Toml(cli::ModelOrDefault(endpoint)) + "\n";
  toml +=
      "model_provider = \"swarm\"\n"
      "approval_policy = \"never\"\n"
      "sandbox_mode = \"danger-full-access\"\n"
      "check_for_update_on_startup = false\n"
      "web_search = \"disabled\"\n"
      "\n"
      "[model_providers.swarm]\n"
      "name = \"agent-swarm endpoint\"\n";
  // Codex appends /responses to the base URL.
  toml += "base_url = " + Toml(cli::WithV1(cli::BaseUrlOrDefault(endpoint))) + "\n";
  if (!endpoint.api_key.empty()) toml += "env_key = " + Toml(cli::kModelKeyEnv) + "\n";
  toml +=
      "wire_api = \"responses\"\n"
      "request_max_retries = 0\n"
      "stream_max_retries = 0\n"
      "stream_idle_timeout_ms = 300000\n"
      "\n"
      "[features]\n"
      "plugins = false\n"
      "remote_plugin = false\n"
      "apps = false\n"
      "unbounded_connection_retries = false\n"
      "\n"
      "[analytics]\n"
      "enabled = false\n"
      "\n"
      "[feedback]\n"
      "enabled = false\n"
      "\n"
      "[otel]\n"
      "exporter = \"none\"\n"
      "metrics_exporter = \"none\"\n"
      "trace_exporter = \"none\"\n";
  if (mcp) {
    // Secrets by the name of their variable; required: wait for the server and fail fast
    // without it (else codex goes on silently without the tools); approve: no human to ask.
    toml += std::string("\n[mcp_servers.") + kMcpServerName + "]\n";
    toml += "url = " + Toml(mcp->url) + "\n";
    toml += "bearer_token_env_var = " + Toml(kMcpTokenEnv) + "\n";
    toml += "env_http_headers = { \"X-Agent-ID\" = " + Toml(kMcpAgentEnv) + " }\n";
    toml += "http_headers = { \"X-Source-Task-Id\" = " + Toml(mcp->task_id) + " }\n";
    toml +=
        "required = true\n"
        "default_tools_approval_mode = \"approve\"\n"
        "startup_timeout_sec = 20\n"
        "tool_timeout_sec = 60\n";
  }
  return toml;
}

Result<ProcessSpec> CodexAdapter::Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const {
  if (endpoint.api == ModelEndpoint::Api::kAnthropic) {
    return BadRequest(
        "codex speaks only the OpenAI Responses API: set OPENAI_BASE_URL/OPENAI_API_KEY");
  }
  auto home = cli::HomeDir(run);
  if (!home) return tl::unexpected(home.error());
  auto env = cli::BaseChildEnv(run, *home);
  if (!env) return tl::unexpected(env.error());
  const auto codex_home = *home / "codex";
  if (auto written = cli::WriteFile(codex_home / "config.toml", CodexConfigToml(endpoint, run.mcp));
      !written) {
    return tl::unexpected(written.error());
  }

  ProcessSpec spec;
  spec.env = std::move(*env);
  spec.env["CODEX_HOME"] = codex_home.string();
  if (!endpoint.api_key.empty()) spec.env[cli::kModelKeyEnv] = endpoint.api_key;
  cli::AddMcpEnv(run, spec.env);

  const std::string prompt = cli::BuildPrompt(run);
  // "-": the instructions come from stdin, never argv (readable in /proc/<pid>/cmdline).
  spec.argv = {"codex", "exec", "--json", "--skip-git-repo-check", "-"};
  spec.stdin_data = prompt;
  spec.cwd = run.work_dir;
  spec.timeout = run.timeout;
  return spec;
}

std::unique_ptr<OutputParser> CodexAdapter::NewParser() const {
  return std::make_unique<CodexParser>();
}

}  // namespace swarm::harness
