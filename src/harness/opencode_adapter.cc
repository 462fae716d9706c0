#include "harness/opencode_adapter.h"

#include "harness/cli_support.h"
#include "harness/pricing.h"

namespace swarm::harness {
namespace {

using nlohmann::json;

constexpr char kProviderId[] = "swarm";
// opencode names a server's tools <server>_<tool>, hyphens kept.
const std::string kToolPrefix = std::string(kMcpServerName) + "_";

// --format json lines: step_start, text, tool_use, step_finish (tokens and cost per step), or
// an error event. The session id is on every line.
class OpencodeParser final : public OutputParser {
 public:
  void Feed(std::string_view line) override {
    const auto obj = cli::ParseObject(line);
    if (!obj) return;
    if (!session_id_) session_id_ = cli::StringAt(*obj, "sessionID");
    const std::string type = cli::StringAt(*obj, "type").value_or("");
    const json& part = cli::ObjectAt(*obj, "part");
    if (type == "text") {
      final_text_ = cli::StringAt(part, "text").value_or("");
    } else if (type == "tool_use") {
      ReadToolUse(part);
    } else if (type == "step_finish") {
      saw_step_ = true;
      const json& tokens = cli::ObjectAt(part, "tokens");
      usage_.input_tokens += cli::IntAt(tokens, "input");
      usage_.output_tokens += cli::IntAt(tokens, "output");
      usage_.reasoning_tokens += cli::IntAt(tokens, "reasoning");
      const json& cache = cli::ObjectAt(tokens, "cache");
      usage_.cache_read_tokens += cli::IntAt(cache, "read");
      usage_.cache_write_tokens += cli::IntAt(cache, "write");
      cost_ += cli::NumberAt(part, "cost").value_or(0);
    } else if (type == "error") {
      const json& error = cli::ObjectAt(*obj, "error");
      error_ = cli::StringAt(cli::ObjectAt(error, "data"), "message");
      if (!error_) error_ = cli::StringAt(error, "message");
      if (!error_) error_ = cli::StringAt(error, "name");
      if (!error_) error_ = "opencode reported an error";
    }
  }

  std::optional<std::string> session_id() const override { return session_id_; }

  ParsedRun Finish(const ProcessOutcome& outcome) override {
    ParsedRun run;
    run.session_id = session_id_;
    run.final_text = final_text_;
    run.usage = usage_;
    // opencode says nothing of its MCP connections: only a call of the server's tools shows it.
    run.mcp_calls = mcp_calls_.calls();
    if (!mcp_calls_.empty()) run.mcp_status = McpStatus::kConnected;
    // opencode prices tokens with the model's configured cost; zero with tokens spent means it
    // had no price for the model, which is not the same as free.
    const bool spent = usage_.input_tokens + usage_.output_tokens > 0;
    if (cost_ > 0 || (saw_step_ && !spent)) run.cost_usd = cost_;
    run.ok = !error_ && outcome.exit_code == 0;
    if (error_) {
      run.error = error_;
    } else if (!run.ok) {
      run.error = "opencode exited with code " + std::to_string(outcome.exit_code);
    }
    return run;
  }

 private:
  // {"type":"tool","tool":"agent-swarm_store-progress","callID","state":{"status":
  // "completed" | "error" | "running" ..., "input"}}.
  void ReadToolUse(const json& part) {
    const std::string tool = cli::StringAt(part, "tool").value_or("");
    if (!tool.starts_with(kToolPrefix)) return;
    const std::string id = cli::StringAt(part, "callID").value_or("");
    const json& state = cli::ObjectAt(part, "state");
    const auto input = state.find("input");
    mcp_calls_.Started(id, tool.substr(kToolPrefix.size()),
                       input != state.end() ? *input : json::object());
    const std::string status = cli::StringAt(state, "status").value_or("");
    if (status == "completed" || status == "error") mcp_calls_.Ended(id, status == "error");
  }

  std::optional<std::string> session_id_;
  std::string final_text_;
  cli::McpCallLog mcp_calls_;
  Usage usage_;
  double cost_ = 0;
  bool saw_step_ = false;
  std::optional<std::string> error_;
};

}  // namespace

std::string OpencodeConfigJson(const ModelEndpoint& endpoint, const std::optional<McpAccess>& mcp) {
  const std::string model = cli::ModelOrDefault(endpoint);
  const std::string base_url = cli::BaseUrlOrDefault(endpoint);
  json options = json::object();
  std::string npm;
  if (endpoint.api == ModelEndpoint::Api::kAnthropic) {
    npm = "@ai-sdk/anthropic";  // its baseURL includes /v1; it appends /messages
  } else {
    npm = "@ai-sdk/openai-compatible";  // appends /chat/completions
  }
  options["baseURL"] = cli::WithV1(base_url);
  if (!endpoint.api_key.empty()) {
    options["apiKey"] = std::string("{env:") + cli::kModelKeyEnv + "}";
  }
  json model_entry = {
      {"name", model},
      {"tool_call", true},
      {"limit", {{"context", 200000}, {"output", 8192}}},
  };
  // opencode computes cost from these (USD per million tokens); the models.dev catalog that
  // would otherwise supply them is not fetched (OPENCODE_DISABLE_MODELS_FETCH).
  const auto price = FindModelPrice(model);
  model_entry["cost"] = {{"input", price ? price->input_per_mtok : 0.0},
                         {"output", price ? price->output_per_mtok : 0.0}};
  const std::string qualified = std::string(kProviderId) + "/" + model;
  json config = {
      {"$schema", "https://opencode.ai/config.json"},
      {"autoupdate", false},
      {"share", "disabled"},
      {"model", qualified},
      {"small_model", qualified},  // the title call goes to the same endpoint
      {"enabled_providers", {kProviderId}},
      {"provider",
       {{kProviderId,
         {{"npm", npm},
          {"name", "agent-swarm endpoint"},
          {"options", options},
          {"models", {{model, model_entry}}}}}}},
  };
  if (mcp) {
    // {env:VAR} is substituted by opencode; the token never lands in the file. opencode waits
    // for a remote server at startup (up to the timeout, ms).
    config["mcp"] = {{kMcpServerName,
                      {{"type", "remote"},
                       {"url", mcp->url},
                       {"enabled", true},
                       {"headers",
                        {{"Authorization", std::string("Bearer {env:") + kMcpTokenEnv + "}"},
                         {"X-Agent-ID", std::string("{env:") + kMcpAgentEnv + "}"},
                         {"X-Source-Task-Id", mcp->task_id}}},
                       {"timeout", 15000}}}};
  }
  return config.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<ProcessSpec> OpencodeAdapter::Prepare(const TaskRun& run,
                                             const ModelEndpoint& endpoint) const {
  auto home = cli::HomeDir(run);
  if (!home) return tl::unexpected(home.error());
  auto env = cli::BaseChildEnv(run, *home);
  if (!env) return tl::unexpected(env.error());
  // BaseChildEnv moved XDG_CONFIG_HOME under the task's home: opencode reads its
  // opencode/opencode.json there, and keeps its database under XDG_DATA_HOME.
  const std::filesystem::path config_dir =
      std::filesystem::path((*env)["XDG_CONFIG_HOME"]) / "opencode";
  const std::string plugin = std::string("{\"@opencode-ai/plugin\":\"") + kOpencodeVersion + "\"}";
  for (const auto& [name, content] : {
           std::pair<const char*, std::string>{"opencode.json",
                                               OpencodeConfigJson(endpoint, run.mcp)},
           // Without these opencode runs `npm install @opencode-ai/plugin` on every start.
           {"package.json", "{\"dependencies\":" + plugin + "}\n"},
           {"package-lock.json",
            "{\"lockfileVersion\":3,\"packages\":{\"\":{\"dependencies\":" + plugin + "}}}\n"},
       }) {
    if (auto written = cli::WriteFile(config_dir / name, content); !written) {
      return tl::unexpected(written.error());
    }
  }
  if (auto made = cli::MakeDirs(config_dir / "node_modules"); !made) {
    return tl::unexpected(made.error());
  }

  ProcessSpec spec;
  spec.env = std::move(*env);
  auto& e = spec.env;
  e["OPENCODE_DISABLE_AUTOUPDATE"] = "1";
  e["OPENCODE_DISABLE_MODELS_FETCH"] = "1";  // else models.opencode.ai on every run
  e["OPENCODE_DISABLE_LSP_DOWNLOAD"] = "1";
  e["OPENCODE_DISABLE_DEFAULT_PLUGINS"] = "1";
  e["OPENCODE_DISABLE_SHARE"] = "1";
  e["OPENCODE_DISABLE_CLAUDE_CODE"] = "1";  // don't read ~/.claude
  if (!endpoint.api_key.empty()) e[cli::kModelKeyEnv] = endpoint.api_key;
  cli::AddMcpEnv(run, e);

  // Always on stdin: a positional prompt with a space reaches the model wrapped in quotes.
  spec.argv = {"opencode", "run", "--format", "json", "--auto"};
  spec.stdin_data = cli::BuildPrompt(run);
  spec.cwd = run.work_dir;
  spec.timeout = run.timeout;
  return spec;
}

std::unique_ptr<OutputParser> OpencodeAdapter::NewParser() const {
  return std::make_unique<OpencodeParser>();
}

}  // namespace swarm::harness
