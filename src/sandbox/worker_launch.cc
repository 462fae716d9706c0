#include "sandbox/worker_launch.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "http/query.h"
#include "sandbox/dotenv.h"
#include "sandbox/env_redaction.h"

namespace swarm::sandbox {
namespace {

using std::chrono::milliseconds;

// The end of the worker's log quoted in an error: enough to see why it stopped.
constexpr std::size_t kLogTailBytes = 4096;
constexpr std::size_t kLogTailLines = 40;

constexpr std::string_view kProviders[] = {"claude", "codex", "opencode", "pi"};

std::string LogTail(std::string_view log) {
  if (log.size() > kLogTailBytes) log = log.substr(log.size() - kLogTailBytes);
  while (!log.empty() && (log.back() == '\n' || log.back() == '\r')) log.remove_suffix(1);
  std::size_t lines = 0;
  for (std::size_t i = log.size(); i > 0; --i) {
    if (log[i - 1] == '\n' && ++lines == kLogTailLines) return std::string(log.substr(i));
  }
  return std::string(log);
}

}  // namespace

const std::vector<std::string_view>& DefaultForwardKeys() {
  static const std::vector<std::string_view> keys = {"AGENT_SWARM_API_KEY",
                                                     "API_KEY",
                                                     "SECRETS_ENCRYPTION_KEY",
                                                     "ANTHROPIC_API_KEY",
                                                     "CLAUDE_CODE_OAUTH_TOKEN",
                                                     "OPENAI_API_KEY",
                                                     "OPENROUTER_API_KEY",
                                                     "GITHUB_TOKEN",
                                                     "GITLAB_TOKEN",
                                                     "LINEAR_API_KEY",
                                                     "SLACK_BOT_TOKEN",
                                                     "SLACK_SIGNING_SECRET",
                                                     "BUSINESS_USE_API_KEY",
                                                     "SENTRY_AUTH_TOKEN",
                                                     "OTEL_EXPORTER_OTLP_ENDPOINT",
                                                     "OTEL_EXPORTER_OTLP_HEADERS",
                                                     "SIGNOZ_INGESTION_KEY",
                                                     "DEVIN_API_KEY",
                                                     "DEVIN_ORG_ID",
                                                     "MANAGED_AGENT_ID",
                                                     "MANAGED_ENVIRONMENT_ID",
                                                     "MANAGED_AGENT_MODEL",
                                                     "MANAGED_GITHUB_TOKEN",
                                                     "HARNESS_PROVIDER",
                                                     "MODEL_OVERRIDE",
                                                     "STARTUP_SCRIPT_STRICT"};
  return keys;
}

Result<StringMap> BuildRuntimeEnv(const RuntimeEnvSources& sources,
                                  const WorkerLaunchOptions& options) {
  if (sources.api_key.empty()) {
    return BadRequest(
        "no swarm API key for the worker: set AGENT_SWARM_API_KEY (or API_KEY), or pass "
        "--api-key-file");
  }
  if (options.agent_role != "worker" && options.agent_role != "lead") {
    return BadRequest(
        fmt::format("--agent-role must be worker or lead, got \"{}\"", options.agent_role));
  }
  if (!options.provider.empty() && std::find(std::begin(kProviders), std::end(kProviders),
                                             options.provider) == std::end(kProviders)) {
    return BadRequest(fmt::format("--provider must be claude, codex, opencode or pi, got \"{}\"",
                                  options.provider));
  }
  StringMap env;
  auto forward = [&](std::string_view key) {
    auto it = sources.process_env.find(std::string(key));
    if (it != sources.process_env.end() && !it->second.empty()) env[it->first] = it->second;
  };
  for (std::string_view key : DefaultForwardKeys()) forward(key);
  for (const auto& key : sources.inherit_env) {
    if (!IsValidEnvKey(key)) {
      return BadRequest(fmt::format("--inherit-env: \"{}\" is not a variable name", key));
    }
    forward(key);
  }
  for (const auto& file : sources.env_files) {
    for (const auto& [key, value] : file) env[key] = value;
  }
  for (const auto& [key, value] : sources.secrets) env[key] = value;
  env["AGENT_SWARM_API_KEY"] = sources.api_key;
  env["API_KEY"] = sources.api_key;

  env["MCP_BASE_URL"] = options.api_url;
  env["AGENT_ROLE"] = options.agent_role;
  env["WORKER_YOLO"] = options.worker_yolo ? "true" : "false";
  env["WORKER_LOG_DIR"] = options.log_dir;
  env["LEAD_LOG_DIR"] = options.log_dir;
  if (!options.provider.empty()) {
    env["HARNESS_PROVIDER"] = options.provider;
  } else if (env["HARNESS_PROVIDER"].empty()) {
    env["HARNESS_PROVIDER"] = "claude";
  }
  // The launcher's E2B credentials stay with the launcher: a worker has no use for them.
  env.erase("E2B_API_KEY");
  env.erase("E2B_ACCESS_TOKEN");
  if (std::string id = ResolveAgentId(env, options.agent_id, ""); !id.empty()) {
    env["AGENT_ID"] = std::move(id);
  }
  return env;
}

std::string ResolveAgentId(const StringMap& env, std::string_view flag,
                           std::string_view sandbox_id) {
  if (auto it = env.find("AGENT_ID"); it != env.end() && !it->second.empty()) return it->second;
  if (!flag.empty()) return std::string(flag);
  if (sandbox_id.empty()) return {};
  return fmt::format("e2b-{}", sandbox_id);
}

StringMap WorkerMetadata(const StringMap& user, std::string_view agent_id) {
  StringMap out = user;
  out["app"] = "agent-swarm";
  out["role"] = "worker";
  out["launcher"] = kLauncher;
  if (agent_id.empty()) {
    out.erase("agentId");  // reserved: only the launcher says which agent a sandbox runs
  } else {
    out["agentId"] = std::string(agent_id);
  }
  return out;
}

std::string WorkerCommandLine() {
  return fmt::format("bash -lc 'set -o pipefail; {} 2>&1 | tee {}'", kWorkerEntrypoint,
                     kWorkerLogPath);
}

Result<WorkerLaunchPlan> PlanWorkerLaunch(const RuntimeEnvSources& sources,
                                          const WorkerLaunchOptions& options) {
  std::string api_url = options.api_url;
  while (!api_url.empty() && api_url.back() == '/') api_url.pop_back();
  if (!api_url.starts_with("http://") && !api_url.starts_with("https://")) {
    return BadRequest(api_url.empty() ? "--api-url is required: the swarm API the worker reports to"
                                      : "--api-url must be an http:// or https:// URL");
  }
  if (options.template_id.empty()) return BadRequest("the worker template name is empty");
  if (options.timeout.count() <= 0) return BadRequest("--timeout-sec must be positive");
  WorkerLaunchOptions normalized = options;
  normalized.api_url = api_url;
  auto env = BuildRuntimeEnv(sources, normalized);
  if (!env) return tl::unexpected(env.error());

  WorkerLaunchPlan plan;
  plan.agent_id = ResolveAgentId(*env, options.agent_id, "");
  plan.api_url = api_url;
  plan.api_key = sources.api_key;
  plan.wait = options.wait;
  plan.wait_for_registration = options.wait_for_registration;
  plan.sandbox.template_id = options.template_id;
  plan.sandbox.timeout = options.timeout;
  plan.sandbox.env_vars = *env;
  plan.sandbox.metadata = WorkerMetadata(options.metadata, plan.agent_id);
  plan.sandbox.secure = true;
  plan.sandbox.cpu_count = options.cpu_count;
  plan.sandbox.memory_mb = options.memory_mb;
  plan.command.cmd = WorkerCommandLine();
  plan.command.envs = std::move(*env);
  // The image's entrypoint expects root (it drops to an unprivileged user for the CLIs). No
  // cwd: the entrypoint moves to /workspace when the image has one, so the same command runs
  // over a local sandbox's read-only host root, where no /workspace exists.
  plan.command.user = "root";
  plan.command.tag = kWorkerCommandTag;
  plan.command.timeout = milliseconds(0);  // a worker lives as long as its sandbox
  return plan;
}

RegistrationProbe HttpRegistrationProbe(http::HttpClient& http) {
  return [&http](std::string_view api_url, std::string_view agent_id,
                 std::string_view api_key) -> Result<void> {
    http::ClientRequest request;
    request.url = fmt::format("{}/api/agents/{}", api_url, http::UrlEncode(agent_id));
    request.headers.emplace_back("Authorization", fmt::format("Bearer {}", api_key));
    request.timeout = milliseconds(5000);
    auto response = http.Send(request);
    if (!response) return tl::unexpected(response.error());
    if (response->status >= 200 && response->status < 300) return {};
    if (response->status == 404) return NotFound("not registered yet (404)");
    if (response->status == 401)
      return MakeError(ErrorCode::kUnauthorized, "HTTP 401: wrong API key");
    return Unavailable(fmt::format("HTTP {}", response->status));
  };
}

Result<WorkerLaunchResult> LaunchWorker(const WorkerLaunchPlan& plan, WorkerLaunchDeps deps) {
  if (!deps.provider) return Internal("LaunchWorker: no sandbox provider");
  if (plan.wait_for_registration && !deps.probe) return Internal("LaunchWorker: no probe");
  if (!deps.sleep) deps.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  if (!deps.now) deps.now = [] { return std::chrono::steady_clock::now(); };
  SandboxProvider& provider = *deps.provider;

  auto created = provider.Create(plan.sandbox);
  if (!created) return tl::unexpected(created.error());
  WorkerLaunchResult result;
  result.sandbox = *created;
  if (deps.on_created) deps.on_created(*created);
  const std::string sandbox_id = created->id();
  CommandSpec command = plan.command;
  result.agent_id = ResolveAgentId(command.envs, plan.agent_id, sandbox_id);
  command.envs["AGENT_ID"] = result.agent_id;

  // From here on the sandbox exists: whatever fails must not leave it running.
  auto fail = [&](Error error) -> Result<WorkerLaunchResult> {
    error.message = RedactWithEnv(std::move(error.message), command.envs, deps.controller_env);
    auto killed = provider.Kill(sandbox_id);
    if (!killed) {
      error.message += fmt::format(" (and the sandbox {} could not be killed: {})", sandbox_id,
                                   killed.error().message);
    }
    return tl::unexpected(std::move(error));
  };
  auto exited_early = [&](std::string_view when) -> Error {
    auto log = provider.ReadFile(created->handle, kWorkerLogPath);
    const std::string tail = log ? LogTail(*log) : "(no log: " + log.error().message + ")";
    return Error{ErrorCode::kUnavailable,
                 fmt::format("the worker in sandbox {} exited {}; the end of {}:\n{}", sandbox_id,
                             when, kWorkerLogPath, tail.empty() ? "(empty)" : tail)};
  };
  auto alive = [&]() -> Result<bool> {
    auto processes = provider.ListProcesses(created->handle);
    if (!processes) return tl::unexpected(processes.error());
    return std::any_of(processes->begin(), processes->end(),
                       [&](const ProcessInfo& p) { return p.pid == result.pid; });
  };

  auto pid = provider.StartBackground(created->handle, command);
  if (!pid) {
    Error error = pid.error();
    error.message =
        fmt::format("starting {} in sandbox {}: {}", kWorkerEntrypoint, sandbox_id, error.message);
    return fail(std::move(error));
  }
  result.pid = *pid;

  // One loop for both waits: an entrypoint that dies within the startup grace failed to
  // start (its log says why); after that, one that dies has given up (the API unreachable, a
  // bad config) and will never register. Polling fast during the grace lets a worker that
  // registers in a few hundred milliseconds be reported as soon as it has.
  const auto started = deps.now();
  const auto grace_end = started + deps.startup_grace;
  const auto deadline = started + plan.wait;
  std::string last_error = "no answer yet";
  while (true) {
    if (deps.stop != nullptr && deps.stop->load()) {
      return fail(Error{ErrorCode::kUnavailable,
                        fmt::format("stopped while waiting for worker {} to {}", result.agent_id,
                                    plan.wait_for_registration ? "register" : "start")});
    }
    auto running = alive();
    if (!running) return fail(running.error());
    if (!*running) {
      return fail(exited_early(deps.now() < grace_end ? "at once" : "before registering"));
    }
    if (plan.wait_for_registration) {
      auto probe = deps.probe(plan.api_url, result.agent_id, plan.api_key);
      if (probe) {
        result.registered = true;
        return result;
      }
      last_error = probe.error().message;
    }
    const auto now = deps.now();
    const bool in_grace = now < grace_end;
    if (!plan.wait_for_registration && !in_grace) return result;
    if (plan.wait_for_registration && now >= deadline) break;
    auto pause = in_grace ? deps.startup_poll_interval : deps.poll_interval;
    const auto limit = plan.wait_for_registration ? deadline : grace_end;
    pause = std::min(pause, std::chrono::duration_cast<milliseconds>(limit - now));
    deps.sleep(pause);
  }
  return fail(Error{ErrorCode::kUnavailable,
                    fmt::format("Timed out waiting for worker {} to register at {} ({})",
                                result.agent_id, plan.api_url, last_error)});
}

}  // namespace swarm::sandbox
