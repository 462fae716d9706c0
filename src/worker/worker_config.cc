#include "worker/worker_config.h"

#include <array>
#include <cctype>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "core/mcp_token.h"
#include "core/redact.h"
#include "core/strings.h"
#include "harness/process_hardening.h"

namespace swarm::worker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using harness::ModelEndpoint;
using harness::Provider;

constexpr std::array<std::pair<std::string_view, Provider>, 4> kProviders = {{
    {"claude", Provider::kClaude},
    {"codex", Provider::kCodex},
    {"opencode", Provider::kOpencode},
    {"pi", Provider::kPi},
}};

// Every variable that may hold a credential: registered for redaction whenever present, even
// when this provider does not use it, because a CLI or a log line could still echo it.
constexpr std::array<std::string_view, 5> kSecretVars = {
    "AGENT_SWARM_API_KEY", "API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"};

// Copied from the worker's environment into every CLI's: what a Node program needs to run
// and to reach the network. Credentials are not among them: the adapter adds the one its CLI
// uses.
constexpr std::array<std::string_view, 17> kPassThroughVars = {"LANG",
                                                               "LC_ALL",
                                                               "LC_CTYPE",
                                                               "TZ",
                                                               "TMPDIR",
                                                               "USER",
                                                               "LOGNAME",
                                                               "SHELL",
                                                               "SSL_CERT_FILE",
                                                               "SSL_CERT_DIR",
                                                               "NODE_EXTRA_CA_CERTS",
                                                               "HTTP_PROXY",
                                                               "HTTPS_PROXY",
                                                               "NO_PROXY",
                                                               "http_proxy",
                                                               "https_proxy",
                                                               "no_proxy"};

constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

// Collects every problem so one run of the worker reports them all.
class Problems {
 public:
  template <typename T>
  std::optional<T> Take(Result<T> result) {
    if (result) return std::move(*result);
    Add(result.error().message);
    return std::nullopt;
  }
  void Add(std::string message) { list_.push_back(std::move(message)); }
  bool empty() const { return list_.empty(); }
  std::string Joined() const {
    std::string out;
    for (const auto& p : list_) out += (out.empty() ? "" : "; ") + p;
    return out;
  }

 private:
  std::vector<std::string> list_;
};

bool ValidAgentId(const std::string& id) {
  if (id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!std::isgraph(c)) return false;  // no spaces or control characters: it is a header
  }
  return true;
}

// A directory name derived from the agent id: the id is free text, a path segment is not.
std::string PathSegment(const std::string& id) {
  std::string out;
  for (unsigned char c : id) {
    out += std::isalnum(c) || c == '-' || c == '_' || c == '.' ? static_cast<char>(c) : '_';
  }
  return out == "." || out == ".." ? "_" : out;
}

struct ApiChoice {
  ModelEndpoint::Api api;
  const char* key_var;
  const char* url_var;
  const char* default_url;
};

constexpr ApiChoice kAnthropic{ModelEndpoint::Api::kAnthropic, "ANTHROPIC_API_KEY",
                               "ANTHROPIC_BASE_URL", "https://api.anthropic.com"};
constexpr ApiChoice kOpenAi{ModelEndpoint::Api::kOpenAi, "OPENAI_API_KEY", "OPENAI_BASE_URL",
                            "https://api.openai.com/v1"};
constexpr ApiChoice kOpenRouter{ModelEndpoint::Api::kOpenRouter, "OPENROUTER_API_KEY",
                                "OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1"};

// Which model API the provider's CLI talks to. claude and codex speak one API each; opencode
// and pi speak any of the three, so they take the one whose key is set (HARNESS_MODEL_API
// decides when several are).
std::optional<ApiChoice> ChooseApi(const EnvMap& env, const std::string& provider,
                                   Problems& problems) {
  if (provider == "claude") return kAnthropic;
  if (provider == "codex") return kOpenAi;
  if (auto named = EnvValue(env, "HARNESS_MODEL_API")) {
    if (*named == "anthropic") return kAnthropic;
    if (*named == "openai") return kOpenAi;
    if (*named == "openrouter") return kOpenRouter;
    problems.Add(fmt::format(
        "HARNESS_MODEL_API must be anthropic, openai or openrouter, got \"{}\"", *named));
    return std::nullopt;
  }
  for (const ApiChoice& choice : {kAnthropic, kOpenAi, kOpenRouter}) {
    if (EnvValue(env, choice.key_var)) return choice;
  }
  problems.Add(fmt::format(
      "HARNESS_PROVIDER={} needs a model credential: set ANTHROPIC_API_KEY, OPENAI_API_KEY or "
      "OPENROUTER_API_KEY (with its *_BASE_URL to use another endpoint)",
      provider));
  return std::nullopt;
}

std::optional<ModelEndpoint> ReadEndpoint(const EnvMap& env, const std::string& provider,
                                          Problems& problems) {
  auto choice = ChooseApi(env, provider, problems);
  if (!choice) return std::nullopt;
  ModelEndpoint endpoint;
  endpoint.api = choice->api;
  auto key = EnvValue(env, choice->key_var);
  if (!key) {
    problems.Add(fmt::format("{} is required for HARNESS_PROVIDER={}", choice->key_var, provider));
  } else {
    endpoint.api_key = *key;
  }
  auto url = problems.Take(NormalizeBaseUrl(
      choice->url_var, EnvValue(env, choice->url_var).value_or(choice->default_url)));
  if (url) endpoint.base_url = *url;
  endpoint.model = EnvValue(env, "MODEL_OVERRIDE");
  return endpoint;
}

std::map<std::string, std::string> ChildBaseEnv(const EnvMap& env) {
  std::map<std::string, std::string> out;
  for (std::string_view name : kPassThroughVars) {
    if (auto it = env.find(std::string(name)); it != env.end()) out.emplace(*it);
  }
  std::string path = EnvValue(env, "PATH").value_or(kDefaultPath);
  // The project-local CLI prefix comes first so pinned versions win over whatever is on PATH.
  // Resolved through symlinks: a CLI that runs as another user must reach it by a path whose
  // every directory that user may enter (install-harnesses.sh links .harnesses/ to /opt when
  // root, as a checkout under a private home would otherwise hide the CLIs).
  if (auto bin = EnvValue(env, "HARNESS_BIN_DIR")) {
    std::error_code ec;
    const auto resolved = std::filesystem::weakly_canonical(*bin, ec);
    path = (ec ? *bin : resolved.string()) + ":" + path;
  }
  out["PATH"] = path;
  return out;
}

}  // namespace

Result<WorkerConfig> WorkerConfig::FromEnv(const EnvMap& env) {
  for (std::string_view name : kSecretVars) {
    if (auto value = EnvValue(env, name)) RegisterSecret(*value);
  }

  Problems problems;
  WorkerConfig c;

  if (auto url = EnvValue(env, "MCP_BASE_URL")) {
    if (auto normalized = problems.Take(NormalizeBaseUrl("MCP_BASE_URL", *url))) {
      c.api_url = *normalized;
    }
  } else {
    problems.Add("MCP_BASE_URL is required (the swarm API's base URL, e.g. http://host:3013)");
  }

  if (auto key = EnvValue(env, "AGENT_SWARM_API_KEY")) {
    c.api_key = *key;
  } else if (auto legacy = EnvValue(env, "API_KEY")) {
    c.api_key = *legacy;
  } else {
    problems.Add("AGENT_SWARM_API_KEY (or API_KEY) is required");
  }

  // Upstream falls back to "unknown", which makes every unconfigured worker the same agent;
  // an id must be given so a worker's identity is deterministic.
  if (auto id = EnvValue(env, "AGENT_ID")) {
    if (ValidAgentId(*id)) {
      c.agent_id = *id;
    } else {
      problems.Add("AGENT_ID must be at most 128 printable characters without spaces");
    }
  } else {
    problems.Add("AGENT_ID is required (the worker's agent id, sent as X-Agent-ID)");
  }

  c.role = EnvValue(env, "AGENT_ROLE").value_or("worker");
  if (c.role != "worker" && c.role != "lead") {
    problems.Add(fmt::format("AGENT_ROLE must be worker or lead, got \"{}\"", c.role));
  }
  c.is_lead = c.role == "lead";
  c.agent_name = EnvValue(env, "AGENT_NAME").value_or(c.role + "-" + c.agent_id.substr(0, 8));
  if (auto caps = EnvValue(env, "CAPABILITIES")) c.capabilities = SplitCsv(*caps);
  if (auto max =
          problems.Take(ParseIntVar(env, "MAX_CONCURRENT_TASKS", 1, 100, c.is_lead ? 2 : 1))) {
    c.max_tasks = *max;
  }

  const std::string mcp_auth = EnvValue(env, "MCP_AUTH").value_or("auto");
  if (mcp_auth == "auto") {
    c.mcp_auth = McpAuth::kAuto;
  } else if (mcp_auth == "task") {
    c.mcp_auth = McpAuth::kTask;
  } else if (mcp_auth == "key") {
    c.mcp_auth = McpAuth::kKey;
  } else if (mcp_auth == "off") {
    c.mcp_auth = McpAuth::kOff;
  } else {
    problems.Add(fmt::format("MCP_AUTH must be auto, task, key or off, got \"{}\"", mcp_auth));
  }

  c.provider_name = EnvValue(env, "HARNESS_PROVIDER").value_or("claude");
  bool known_provider = false;
  for (const auto& [name, provider] : kProviders) {
    if (name == c.provider_name) {
      c.provider = provider;
      known_provider = true;
    }
  }
  if (!known_provider) {
    problems.Add(fmt::format("HARNESS_PROVIDER must be claude, codex, opencode or pi, got \"{}\"",
                             c.provider_name));
  } else if (auto endpoint = ReadEndpoint(env, c.provider_name, problems)) {
    c.endpoint = std::move(*endpoint);
  }
  c.base_env = ChildBaseEnv(env);

  if (auto v = problems.Take(ParseBoolVar(env, "WORKER_YOLO", false))) c.yolo = *v;
  if (auto v = problems.Take(ParseBoolVar(env, "SLACK_DISABLE", false))) c.slack_disable = *v;
  if (auto v = problems.Take(ParseBoolVar(env, "GITHUB_DISABLE", false))) c.github_disable = *v;

  const milliseconds s(1000);
  const milliseconds ms(1);
  auto duration = [&](const char* name, milliseconds unit, double min, double max,
                      milliseconds& out) {
    if (auto v = problems.Take(ParseDurationVar(env, name, unit, min, max, out))) out = *v;
  };
  duration("WORKER_API_READY_TIMEOUT_SECONDS", s, 0, 3600, c.api_ready_timeout);
  duration("WORKER_TASK_TIMEOUT_SECONDS", s, 1, 86400, c.task_timeout);
  duration("SHUTDOWN_TIMEOUT", ms, 0, 3'600'000, c.shutdown_timeout);
  duration("WORKER_POLL_WAIT_SECONDS", s, 0.1, 300, c.poll_wait);
  duration("WORKER_HEARTBEAT_SECONDS", s, 0.1, 300, c.heartbeat_interval);
  duration("WORKER_CANCEL_CHECK_SECONDS", s, 0.1, 60, c.cancel_check_interval);
  duration("WORKER_LOG_FLUSH_SECONDS", s, 0.1, 60, c.log_flush_interval);

  if (auto user = problems.Take(harness::ResolveCliUser(EnvValue(env, "WORKER_CLI_USER")))) {
    c.cli_user = *user;
  }
  if (auto dir = EnvValue(env, "WORKER_WORK_DIR")) {
    c.work_root = *dir;
  } else {
    const std::string segment = PathSegment(c.agent_id);
    auto home = EnvValue(env, "HOME");
    // A CLI that runs as another user (the worker is root) must be able to reach its task
    // directory, and root's home is closed to others: then the tasks live under /tmp.
    c.work_root = home && !c.cli_user
                      ? std::filesystem::path(*home) / ".agent-swarm" / "worker" / segment
                      : std::filesystem::path("/tmp/agent-swarm-worker") / segment;
  }
  if (!c.work_root.is_absolute()) {
    problems.Add("WORKER_WORK_DIR must be an absolute path");
  }
  if (auto v = problems.Take(ParseBoolVar(env, "WORKER_KEEP_TASK_DIRS", false))) {
    c.keep_task_dirs = *v;
  }

  if (!problems.empty()) return BadRequest(problems.Joined());
  return c;
}

const char* McpAuthName(McpAuth auth) {
  switch (auth) {
    case McpAuth::kAuto:
      return "auto";
    case McpAuth::kTask:
      return "task";
    case McpAuth::kKey:
      return "key";
    case McpAuth::kOff:
      return "off";
  }
  return "off";
}

McpAuth ResolveMcpAuth(McpAuth configured, const nlohmann::json& health) {
  if (configured != McpAuth::kAuto) return configured;
  // A /health from another server may hold anything: only a literal true counts.
  if (!health.is_object()) return McpAuth::kOff;
  const auto mcp = health.find("mcp");
  if (mcp == health.end() || !mcp->is_object()) return McpAuth::kOff;
  const auto tokens = mcp->find("taskTokens");
  const bool yes = tokens != mcp->end() && tokens->is_boolean() && tokens->get<bool>();
  return yes ? McpAuth::kTask : McpAuth::kOff;
}

std::optional<harness::McpAccess> McpAccessFor(const WorkerConfig& config, McpAuth auth,
                                               const std::string& task_id) {
  if (auth == McpAuth::kOff || auth == McpAuth::kAuto) return std::nullopt;
  harness::McpAccess mcp;
  mcp.url = config.api_url + "/mcp";
  mcp.agent_id = config.agent_id;
  mcp.task_id = task_id;
  mcp.token = auth == McpAuth::kKey ? config.api_key
                                    : MintMcpTaskToken(config.api_key, config.agent_id, task_id);
  return mcp;
}

}  // namespace swarm::worker
