#include "smoke/smoke_runner.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/swarm_client.h"
#include "core/bounded_json.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/utf8.h"
#include "sandbox/worker_launch.h"
#include "smoke/smoke_request.h"

namespace swarm::smoke {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// How often a wait looks at `stop`: a stopped run must not sit out a poll interval.
constexpr milliseconds kStopSlice{50};
// Each call to the swarm API; the registration probe has its own (worker_launch.cc).
constexpr milliseconds kApiCallTimeout{15'000};
// Killing is retried a little: a sandbox left running costs until its TTL.
constexpr int kKillAttempts = 3;
constexpr milliseconds kKillRetryPause{500};
// What a result keeps of text from outside (the task's reason and output, error messages,
// the worker's versions): enough to read, bounded for the stored report.
constexpr std::size_t kMaxReasonBytes = 2048;
constexpr std::size_t kMaxOutputBytes = 4096;
constexpr std::size_t kMaxVersionBytes = 100;
// GET /api/tasks/{id}/session-logs answers at most this many lines, the API's own limit: a
// smoke task has a few dozen, so "at least one" is what is checked, not a total.
constexpr int kLogLinesLimit = 1000;
// Values shorter than this are not scrubbed (as core/redact.h): they would mangle text.
constexpr std::size_t kMinSecretBytes = 4;

// Whether a provider's CLI reports a cost for every run, so a completed smoke task without one
// is a failure. claude's result line always carries total_cost_usd (claude_adapter.cc). codex
// reports none (the worker prices its tokens only for models in pricing.cc); opencode and pi
// price tokens only with a known model price (zero otherwise, reported as unpriced). For those
// three a cost is recorded when there is one and not required.
bool CostRequired(std::string_view provider) { return provider == "claude"; }

// `text` cut to at most `max` bytes on a UTF-8 boundary, marked when cut, and valid UTF-8.
std::string Bounded(std::string_view text, std::size_t max) {
  if (text.size() <= max) return SanitizeUtf8(text);
  return SanitizeUtf8(Utf8Prefix(text, max)) + "…";
}

// The part of a run id that tells concurrent runs apart. Run ids are UUIDs of version 7
// (core/ids.h): 12 hex digits of milliseconds and the version digit come first, so the
// random part starts at the 14th digit. Any other id gives its own first 8. Lower-case
// alphanumerics only: the suffix goes into an agent id, a header and a directory name.
std::string RunSuffix(std::string_view run_id) {
  std::string chars;
  for (char c : run_id) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      chars.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  const bool uuid = chars.size() == 32 && run_id.size() == 36 &&
                    std::all_of(chars.begin(), chars.end(), [](char c) {
                      return std::isxdigit(static_cast<unsigned char>(c));
                    });
  if (uuid) chars.erase(0, 13);
  return chars.substr(0, 8);
}

// "ANTHROPIC_API_KEY" → "ANTHROPIC_BASE_URL": the endpoint a credential goes with.
std::string BaseUrlVar(const std::string& key_var) {
  constexpr std::string_view kSuffix = "_API_KEY";
  if (!key_var.ends_with(kSuffix)) return {};
  return key_var.substr(0, key_var.size() - kSuffix.size()) + "_BASE_URL";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// Replaces every secret a run knows (the swarm key, the request's and the host's provider
// credentials) in text that came from outside, then whatever core/redact.h knows.
class Scrubber {
 public:
  Scrubber(const SmokeRequest& request, const SmokeEnvironment& env) {
    Add(request.api_key);
    for (const auto& [provider, vars] : request.secrets) {
      for (const auto& [name, value] : vars) Add(value);
    }
    for (const auto& [name, value] : env.credentials) Add(value);
    // Longest first: a secret that contains another is replaced whole.
    std::sort(secrets_.begin(), secrets_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }

  std::string operator()(std::string text) const {
    for (const auto& secret : secrets_) {
      for (auto at = text.find(secret); at != std::string::npos;
           at = text.find(secret, at + kRedacted.size())) {
        text.replace(at, secret.size(), kRedacted);
      }
    }
    return Redact(std::move(text));
  }

 private:
  void Add(const std::string& value) {
    if (value.size() >= kMinSecretBytes) secrets_.push_back(value);
  }
  std::vector<std::string> secrets_;
};

// What every provider's check of one run shares.
struct RunContext {
  RunContext(sandbox::SandboxProvider& sandboxes_in, http::HttpClient& http_in,
             const SmokeEnvironment& env_in, const SmokeRunnerOptions& options_in,
             const SmokeRequest& request_in, const std::string& run_id_in,
             const SmokeProgress& on_progress_in, const std::atomic<bool>& stop_in)
      : sandboxes(sandboxes_in),
        http(http_in),
        env(env_in),
        options(options_in),
        request(request_in),
        run_id(run_id_in),
        on_progress(on_progress_in),
        stop(stop_in) {}

  sandbox::SandboxProvider& sandboxes;
  http::HttpClient& http;
  const SmokeEnvironment& env;
  const SmokeRunnerOptions& options;
  const SmokeRequest& request;
  const std::string& run_id;
  const SmokeProgress& on_progress;
  const std::atomic<bool>& stop;
  const Clock::time_point started = Clock::now();
  const Scrubber scrub{request, env};
  std::mutex progress_mu;

  int64_t ElapsedMs() const {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
  }

  // Sleeps until `until` in slices; false, early, once `stop` is set.
  bool SleepUntil(Clock::time_point until) const {
    for (auto now = Clock::now(); now < until; now = Clock::now()) {
      if (stop.load()) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(kStopSlice, until - now));
    }
    return !stop.load();
  }

  // One call at a time, whatever thread; a callback that throws is logged, not fatal.
  void Report(const ProviderSmokeResult& result) {
    if (!on_progress) return;
    std::lock_guard lock(progress_mu);
    try {
      on_progress(result);
    } catch (const std::exception& e) {
      log::Warn("smoke progress callback failed",
                {{"runId", run_id}, {"provider", result.provider}, {"error", e.what()}});
    } catch (...) {
      log::Warn("smoke progress callback failed",
                {{"runId", run_id}, {"provider", result.provider}});
    }
  }
};

// Owns a created sandbox until it is killed: whatever path a check takes (an error, a stop,
// an exception), the sandbox does not outlive it.
class SandboxGuard {
 public:
  explicit SandboxGuard(sandbox::SandboxProvider& sandboxes) : sandboxes_(sandboxes) {}
  SandboxGuard(const SandboxGuard&) = delete;
  SandboxGuard& operator=(const SandboxGuard&) = delete;
  ~SandboxGuard() {
    if (id_.empty() || done_) return;
    try {
      (void)sandboxes_.Kill(id_);
    } catch (...) {
      // A destructor that runs while unwinding must not throw; Kill() reported already.
    }
  }

  void Watch(std::string id) { id_ = std::move(id); }
  bool watching() const { return !id_.empty(); }

  // Kills the sandbox now, retrying a failed call a little. OK when it was killed or was
  // already gone (LaunchWorker kills it itself on its failures).
  Result<void> Kill() {
    Error last;
    for (int attempt = 1; attempt <= kKillAttempts; ++attempt) {
      auto killed = sandboxes_.Kill(id_);
      if (killed) {
        done_ = true;
        return {};
      }
      last = killed.error();
      if (attempt < kKillAttempts) std::this_thread::sleep_for(kKillRetryPause);
    }
    done_ = true;  // the guard would only try the same again
    return tl::unexpected(std::move(last));
  }

 private:
  sandbox::SandboxProvider& sandboxes_;
  std::string id_;
  bool done_ = false;
};

// One provider's check, on its own thread.
class ProviderCheck {
 public:
  ProviderCheck(RunContext& ctx, const std::string& provider, ProviderSmokeResult& result)
      : ctx_(ctx), provider_(provider), r_(result) {}

  // Never throws: every outcome ends in `result`, with the sandbox killed.
  void Run() noexcept {
    try {
      r_.provider = provider_;
      r_.agent_id = fmt::format("smoke-{}-{}-{}", provider_, ctx_.request.deployment_sha,
                                RunSuffix(ctx_.run_id));
      r_.phase = SmokePhase::kQueued;
      ctx_.Report(r_);
    } catch (...) {
      // Reported below with whatever is known.
    }
    SandboxGuard guard(ctx_.sandboxes);
    Guarded([&] { Check(guard); }, "checking");
    Guarded([&] { CleanUp(guard); }, "killing the sandbox");
    Guarded([&] { Finish(); }, "finishing the report");
    if (r_.phase != SmokePhase::kDone) {  // Finish threw: the least a caller must see
      r_.ok = false;
      r_.phase = SmokePhase::kDone;
      if (!r_.failure_reason) r_.failure_reason = "internal error while finishing the report";
    }
  }

 private:
  template <typename F>
  void Guarded(F&& step, const char* what) noexcept {
    try {
      step();
    } catch (const std::exception& e) {
      Problem(fmt::format("internal error while {}: {}", what, e.what()));
    } catch (...) {
      Problem(fmt::format("internal error while {}", what));
    }
  }

  void Problem(std::string reason) noexcept {
    try {
      problems_.push_back(std::move(reason));
    } catch (...) {
    }
  }

  bool Stopped(std::string_view where) {
    if (!ctx_.stop.load()) return false;
    stop_reason_ = fmt::format("stopped: {}", where);
    return true;
  }

  void SetPhase(SmokePhase phase) {
    r_.phase = phase;
    ctx_.Report(r_);
  }

  void Check(SandboxGuard& guard) {
    if (auto missing = Preflight()) {
      Problem(std::move(*missing));
      return;
    }
    if (Stopped("before the sandbox was created")) return;
    SetPhase(SmokePhase::kCreatingSandbox);
    auto plan = Plan();
    if (!plan) {
      Problem("planning the worker sandbox failed: " + plan.error().message);
      return;
    }
    sandbox::WorkerLaunchDeps deps;
    deps.provider = &ctx_.sandboxes;
    deps.probe = sandbox::HttpRegistrationProbe(ctx_.http);
    deps.sleep = [this](milliseconds d) { ctx_.SleepUntil(Clock::now() + d); };
    deps.startup_grace = ctx_.options.startup_grace;
    deps.controller_env = ctx_.env.credentials;
    deps.stop = &ctx_.stop;
    deps.on_created = [&](const sandbox::SandboxInfo& info) {
      guard.Watch(info.id());
      r_.sandbox_id = info.id();
      r_.timings.sandbox_created_ms = ctx_.ElapsedMs();
      SetPhase(SmokePhase::kStartingWorker);
    };
    auto launched = sandbox::LaunchWorker(*plan, deps);
    if (!launched) {
      if (Stopped("while the worker was starting")) return;
      Problem(fmt::format(
          "{}: {}",
          r_.sandbox_id.empty() ? "creating the sandbox failed" : "the worker did not register",
          launched.error().message));
      return;
    }
    r_.timings.worker_registered_ms = ctx_.ElapsedMs();
    SetPhase(SmokePhase::kRegistered);

    SwarmClient client(ctx_.http, SwarmClientOptions{ctx_.request.api_url, ctx_.request.api_key, "",
                                                     kApiCallTimeout});
    // A worker built from another version still runs the task: the report then says whether
    // only the template is stale or the path is broken too, and the sandbox is paid for.
    CheckVersions(client);
    if (Stopped("after the worker registered")) return;
    RunTask(client);
  }

  // Why the provider cannot run, naming the variables it needs; nullopt when it can.
  std::optional<std::string> Preflight() const {
    const auto& vars = ProviderCredentialVars(provider_);
    if (vars.empty()) return fmt::format("unknown provider \"{}\"", provider_);
    const auto* secrets = Secrets();
    for (const auto& var : vars) {
      if (secrets) {
        if (auto it = secrets->find(var); it != secrets->end() && !it->second.empty()) {
          return std::nullopt;
        }
      }
      if (auto it = ctx_.env.credentials.find(var);
          it != ctx_.env.credentials.end() && !it->second.empty()) {
        return std::nullopt;
      }
    }
    return fmt::format(
        "missing credential: {} needs {}{} (in the run's secrets for {} or the runner's "
        "environment); no sandbox was created",
        provider_, vars.size() > 1 ? "one of " : "", JoinNames(vars), provider_);
  }

  const std::map<std::string, std::string>* Secrets() const {
    auto it = ctx_.request.secrets.find(provider_);
    return it == ctx_.request.secrets.end() ? nullptr : &it->second;
  }

  // The host's credentials this provider's worker reads (and the endpoints they go with).
  sandbox::StringMap HostCredentials() const {
    sandbox::StringMap out;
    for (const auto& var : ProviderCredentialVars(provider_)) {
      for (const std::string& name : {var, BaseUrlVar(var)}) {
        if (name.empty()) continue;
        if (auto it = ctx_.env.credentials.find(name); it != ctx_.env.credentials.end()) {
          out[name] = it->second;
        }
      }
    }
    return out;
  }

  Result<sandbox::WorkerLaunchPlan> Plan() const {
    const SmokeRequest& request = ctx_.request;
    sandbox::RuntimeEnvSources sources;  // no process_env: nothing of the host is forwarded
    sources.api_key = request.api_key;
    // Lowest first: the host's worker env, the host's credentials, the run's model endpoint,
    // the run's secrets for this provider (the most specific, so a request can point one
    // provider elsewhere). The seed's runtime env goes over all of them (BuildRuntimeEnv and
    // below).
    sources.env_files.push_back(ctx_.env.worker_env);
    sources.env_files.push_back(HostCredentials());
    if (request.model_base_url) {
      std::string url = *request.model_base_url;
      while (!url.empty() && url.back() == '/') url.pop_back();
      sources.env_files.push_back({{"ANTHROPIC_BASE_URL", url},
                                   {"OPENAI_BASE_URL", url + "/v1"},
                                   {"OPENROUTER_BASE_URL", url + "/v1"}});
    }
    if (const auto* secrets = Secrets()) sources.env_files.push_back(*secrets);
    // The agent id is the runner's: an AGENT_ID in any layer would win over it.
    for (auto& layer : sources.env_files) layer.erase("AGENT_ID");

    sandbox::WorkerLaunchOptions options;
    options.template_id = request.template_id;
    options.api_url = request.api_url;
    options.agent_id = r_.agent_id;
    options.agent_role = "worker";
    options.provider = provider_;
    options.worker_yolo = true;
    options.metadata = {{kRunIdMetadataKey, ctx_.run_id}, {kProviderMetadataKey, provider_}};
    options.timeout = std::chrono::seconds(request.sandbox_timeout_sec);
    options.wait = ctx_.options.registration_wait;
    options.wait_for_registration = true;
    auto plan = sandbox::PlanWorkerLaunch(sources, options);
    if (!plan) return plan;
    // The rest of the seed's runtime env, which the launcher leaves to its caller.
    for (auto* env : {&plan->sandbox.env_vars, &plan->command.envs}) {
      (*env)["MAX_CONCURRENT_TASKS"] = "1";
      (*env)["SLACK_DISABLE"] = "true";
      (*env)["GITHUB_DISABLE"] = "true";
    }
    return plan;
  }

  std::string Outside(std::string text, std::size_t max = kMaxReasonBytes) const {
    return Bounded(ctx_.scrub(std::move(text)), max);
  }

  void CheckVersions(SwarmClient& client) {
    auto agent = client.Call("GET", "/api/agents/" + UrlEncode(r_.agent_id));
    if (!agent) {
      Problem("reading the registered agent failed: " + agent.error().message);
      return;
    }
    const std::string version = TextField(agent->body, "version");
    const std::string cli_version = TextField(agent->body, "cliVersion");
    if (!version.empty()) r_.worker_version = Outside(version, kMaxVersionBytes);
    if (!cli_version.empty()) r_.cli_version = Outside(cli_version, kMaxVersionBytes);
    ctx_.Report(r_);
    if (ctx_.request.allow_version_skew || version == ctx_.env.api_version) return;
    if (version.empty()) {
      Problem(fmt::format("worker template reports no version; API is v{}", ctx_.env.api_version));
    } else {
      Problem(fmt::format("worker template v{} does not match API v{}", *r_.worker_version,
                          ctx_.env.api_version));
    }
  }

  void RunTask(SwarmClient& client) {
    const json body = {{"task", kSmokeTaskText},
                       {"agentId", r_.agent_id},
                       {"source", "api"},
                       {"outputSchema", SmokeOutputSchema()},
                       {"tags", {"smoke", "smoke-run:" + ctx_.run_id}}};
    auto created = client.Call("POST", "/api/tasks", body);
    if (!created) {
      Problem("creating the smoke task failed: " + created.error().message);
      return;
    }
    const auto deadline = Clock::now() + milliseconds(ctx_.request.timeout_ms);
    const std::string id = TextField(created->body, "id");
    if (id.empty()) {
      Problem("creating the smoke task failed: the API's reply has no task id");
      return;
    }
    r_.task_id = Outside(id, kMaxVersionBytes);
    json task = std::move(created->body);
    r_.task_status = TextField(task, "status");
    SetPhase(SmokePhase::kTaskRunning);

    const std::string path = "/api/tasks/" + UrlEncode(id);
    std::string last_error;
    while (true) {
      // logsLimit=1: the task's agent log is not needed, only its fields.
      auto got = client.Call("GET", path + "?logsLimit=1");
      if (got) {
        last_error.clear();
        task = std::move(got->body);
        const std::string status = TextField(task, "status");
        if (status != r_.task_status.value_or("")) {
          r_.task_status = status;
          ctx_.Report(r_);
        }
        if (status == "completed" || status == "failed" || status == "cancelled" ||
            status == "superseded") {
          break;
        }
      } else if (got.error().code == ErrorCode::kNotFound) {
        Problem(fmt::format("the smoke task {} is gone: {}", id, got.error().message));
        return;
      } else {
        last_error = got.error().message;  // the API may be restarting: keep trying
      }
      if (ctx_.stop.load()) {
        Stopped(fmt::format("while the task was {}", r_.task_status.value_or("unknown")));
        Cancel(client, id, "the smoke run was stopped");
        return;
      }
      if (Clock::now() >= deadline) {
        const std::string last = r_.task_status.value_or("unknown");
        const bool cancelled =
            Cancel(client, id, fmt::format("smoke timeoutMs ({}) passed", ctx_.request.timeout_ms));
        Problem(fmt::format("the task did not finish within timeoutMs ({} ms){}; last status {}{}",
                            ctx_.request.timeout_ms, cancelled ? " and was cancelled" : "", last,
                            last_error.empty() ? "" : " (last error: " + last_error + ")"));
        return;
      }
      ctx_.SleepUntil(std::min(Clock::now() + ctx_.options.poll_interval, deadline));
    }
    r_.timings.task_done_ms = ctx_.ElapsedMs();
    if (TextField(task, "status") == "completed") AwaitReports(client, path, id, task, deadline);
    if (TextField(task, "status") == "superseded") Superseded(client, id);
    Judge(client, id, task);
  }

  // A task the agent finished through MCP is terminal while its CLI is still exiting: the
  // worker reports the session id, the log lines and the cost after that. So before judging
  // (and killing the sandbox), wait until they are in, within options.reports_settle and the run's
  // timeout; whatever is still missing then is judged missing.
  void AwaitReports(SwarmClient& client, const std::string& path, const std::string& id, json& task,
                    Clock::time_point deadline) {
    const auto until = std::min(deadline, Clock::now() + ctx_.options.reports_settle);
    while (true) {
      const bool session = !TextField(task, "claudeSessionId").empty();
      bool logs = false;
      if (auto got = client.Call(
              "GET", fmt::format("/api/tasks/{}/session-logs?limit=1", UrlEncode(id)))) {
        const json& lines = ArrayField(got->body, "logs");
        logs = lines.is_array() && !lines.empty();
      }
      // The worker records a cost row for every run with a session, priced or not.
      bool cost = false;
      if (auto got = client.Call("GET", "/api/session-costs?taskId=" + UrlEncode(id))) {
        const json& rows = ArrayField(got->body, "costs");
        cost = rows.is_array() && !rows.empty();
      }
      if ((session && logs && cost) || ctx_.stop.load() || Clock::now() >= until) return;
      ctx_.SleepUntil(std::min(Clock::now() + ctx_.options.poll_interval, until));
      if (auto got = client.Call("GET", path + "?logsLimit=1")) task = std::move(got->body);
    }
  }

  // The task was superseded: its worker died with it in hand (the API's crash recovery) or
  // handed it back. A run proves this provider's own worker, so the resume child the API made
  // is cancelled rather than left for whichever worker claims it next, and the provider fails.
  void Superseded(SwarmClient& client, const std::string& id) {
    std::string reason = "unknown";
    std::string child;
    const auto metadata = LifecycleMetadata(client, id, [](const json& log) {
      return TextField(log, "eventType") == "task_superseded";
    });
    if (metadata) {
      if (std::string r = TextField(*metadata, "reason"); !r.empty()) {
        reason = Outside(std::move(r), kMaxVersionBytes);
      }
      child = Outside(TextField(*metadata, "resumeTaskId"), kMaxVersionBytes);
    }
    std::string what = fmt::format(
        "the worker lost the task: the API superseded it ({}), as it does when a worker dies or "
        "hands a task back",
        reason);
    if (!child.empty()) {
      auto cancelled = client.Call(
          "POST", "/api/tasks/" + UrlEncode(child) + "/cancel",
          json{{"reason", "a smoke run proves its provider's own worker; not resumed elsewhere"}});
      what += cancelled ? fmt::format("; its resume task {} was cancelled", child)
                        : fmt::format("; cancelling its resume task {} failed: {}", child,
                                      cancelled.error().message);
    }
    Problem(std::move(what));
  }

  // POST /api/tasks/{id}/cancel; false (and a problem said) when it did not take.
  bool Cancel(SwarmClient& client, const std::string& id, const std::string& reason) {
    auto reply =
        client.Call("POST", "/api/tasks/" + UrlEncode(id) + "/cancel", json{{"reason", reason}});
    if (!reply) {
      Problem("cancelling the task failed: " + reply.error().message);
      return false;
    }
    std::string status = reply->body.is_object() && reply->body.contains("task")
                             ? TextField(reply->body["task"], "status")
                             : std::string();
    r_.task_status = status.empty() ? "cancelled" : status;
    ctx_.Report(r_);
    return true;
  }

  // The worker reports its CLI's version once it knows it, which may be after registering.
  void RefreshCliVersion(SwarmClient& client) {
    if (r_.cli_version) return;
    auto agent = client.Call("GET", "/api/agents/" + UrlEncode(r_.agent_id));
    if (!agent) return;
    if (std::string cli = TextField(agent->body, "cliVersion"); !cli.empty()) {
      r_.cli_version = Outside(std::move(cli), kMaxVersionBytes);
    }
  }

  // The seed's checks of a terminal task: session id, output, logs, cost.
  void Judge(SwarmClient& client, const std::string& id, const json& task) {
    RefreshCliVersion(client);
    const std::string status = TextField(task, "status");
    const bool completed = status == "completed";
    if (std::string session = TextField(task, "claudeSessionId"); !session.empty()) {
      r_.session_id = Outside(std::move(session), kMaxVersionBytes);
    }
    if (std::string output = TextField(task, "output"); !output.empty()) {
      r_.output = Outside(std::move(output), kMaxOutputBytes);
    }
    if (completed) {
      // The API judged the output against the outputSchema before it took "completed".
      if (!r_.session_id) Problem("the completed task has no session id");
      if (!r_.output) Problem("the completed task has no output");
    } else if (status != "superseded") {  // Superseded() said why
      // The task's reason as it stands (the schema's verdict, the CLI's error), scrubbed.
      std::string reason = TextField(task, "failureReason");
      if (reason.empty()) reason = fmt::format("the task ended {} without a reason", status);
      Problem(status == "cancelled" ? "the task was cancelled: " + reason : std::move(reason));
    }

    // A superseded task has no finish to attribute (Superseded() read its logs already).
    if (status != "superseded") r_.finished_via = FinishedVia(client, id);

    auto logs = client.Call(
        "GET", fmt::format("/api/tasks/{}/session-logs?limit={}", UrlEncode(id), kLogLinesLimit));
    if (!logs) {
      Problem("reading the session logs failed: " + logs.error().message);
    } else {
      const json& lines = ArrayField(logs->body, "logs");
      r_.log_lines = lines.is_array() ? static_cast<int64_t>(lines.size()) : 0;
      if (completed && r_.log_lines == 0) Problem("no session logs were recorded");
    }

    r_.cost_usd = Cost(client, id, task);
    if (completed && !r_.cost_usd && CostRequired(provider_)) {
      Problem(fmt::format("no cost was reported ({} reports one for every run)", provider_));
    }
  }

  // The `via` of the task's change to a terminal status (its lifecycle log, newest first):
  // whether the agent finished through MCP or the worker's /finish did. Informational: a
  // provider passes either way, the output is judged the same.
  std::optional<std::string> FinishedVia(SwarmClient& client, const std::string& id) {
    const auto metadata = LifecycleMetadata(client, id, [](const json& log) {
      if (TextField(log, "eventType") != "task_status_change") return false;
      const std::string to = TextField(log, "newValue");
      return to == "completed" || to == "failed" || to == "cancelled";
    });
    if (!metadata) return std::nullopt;
    std::string via = TextField(*metadata, "via");
    if (via.empty()) return std::nullopt;
    return Outside(std::move(via), kMaxVersionBytes);
  }

  // The metadata (a JSON object, bounded) of the newest lifecycle log of the task that `match`
  // picks; none when the task cannot be read, nothing matches, or that log has no object.
  std::optional<json> LifecycleMetadata(SwarmClient& client, const std::string& id,
                                        const std::function<bool(const json&)>& match) {
    auto task = client.Call("GET", fmt::format("/api/tasks/{}?logsLimit=50", UrlEncode(id)));
    if (!task || !task->body.is_object()) return std::nullopt;
    const json& logs = ArrayField(task->body, "logs");
    if (!logs.is_array()) return std::nullopt;
    for (const json& log : logs) {
      if (!log.is_object() || !match(log)) continue;
      const auto metadata = log.find("metadata");
      if (metadata == log.end() || !metadata->is_string()) return std::nullopt;
      auto parsed = ParseBoundedJson(metadata->get<std::string>());
      if (!parsed || !parsed->is_object()) return std::nullopt;
      return std::move(*parsed);
    }
    return std::nullopt;
  }

  // The priced session costs of the task; the task's own total when they cannot be read.
  std::optional<double> Cost(SwarmClient& client, const std::string& id, const json& task) {
    auto costs = client.Call("GET", "/api/session-costs?taskId=" + UrlEncode(id));
    if (!costs) {
      auto total = task.find("totalCostUsd");
      if (total != task.end() && total->is_number()) return total->get<double>();
      return std::nullopt;
    }
    std::optional<double> sum;
    const json& rows = ArrayField(costs->body, "costs");
    if (!rows.is_array()) return std::nullopt;
    for (const json& row : rows) {
      if (!row.is_object()) continue;
      // The CLI's own run time, priced or not (the benchmark's measure of the CLIs' share).
      // Saturating: the rows are the API's reply, and a signed overflow is undefined.
      if (auto d = row.find("durationMs"); d != row.end() && d->is_number_integer()) {
        const int64_t so_far = r_.timings.cli_ms.value_or(0);
        constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
        const int64_t add = d->is_number_unsigned() && d->get<uint64_t>() > uint64_t{kMax}
                                ? kMax
                                : std::max<int64_t>(0, d->get<int64_t>());
        r_.timings.cli_ms = add > kMax - so_far ? kMax : so_far + add;
      }
      if (TextField(row, "costSource") == "unpriced") continue;
      auto value = row.find("totalCostUsd");
      if (value != row.end() && value->is_number()) sum = sum.value_or(0) + value->get<double>();
    }
    return sum;
  }

  void CleanUp(SandboxGuard& guard) {
    if (!guard.watching()) return;
    SetPhase(SmokePhase::kCleaningUp);
    auto killed = guard.Kill();
    if (killed) {
      r_.sandbox_killed = true;
    } else {
      Problem(fmt::format("the sandbox {} could not be killed: {}", r_.sandbox_id,
                          killed.error().message));
    }
  }

  void Finish() {
    std::string reason = stop_reason_;
    for (const auto& problem : problems_) reason += (reason.empty() ? "" : "; ") + problem;
    r_.ok = reason.empty();
    if (!reason.empty()) r_.failure_reason = Outside(std::move(reason));
    r_.timings.total_ms = ctx_.ElapsedMs();
    r_.phase = SmokePhase::kDone;
    log::Info("smoke provider done", {{"runId", ctx_.run_id},
                                      {"provider", provider_},
                                      {"ok", r_.ok},
                                      {"agentId", r_.agent_id},
                                      {"sandboxId", r_.sandbox_id},
                                      {"taskId", r_.task_id.value_or("")},
                                      {"taskStatus", r_.task_status.value_or("")},
                                      {"sandboxKilled", r_.sandbox_killed},
                                      {"totalMs", *r_.timings.total_ms},
                                      {"failureReason", r_.failure_reason.value_or("")}});
    ctx_.Report(r_);
  }

  RunContext& ctx_;
  const std::string& provider_;
  ProviderSmokeResult& r_;
  std::vector<std::string> problems_;
  std::string stop_reason_;
};

}  // namespace

SmokeRunner::SmokeRunner(sandbox::SandboxProvider& sandboxes, http::HttpClient& http,
                         SmokeEnvironment env, SmokeRunnerOptions options)
    : sandboxes_(sandboxes), http_(http), env_(std::move(env)), options_(options) {}

std::vector<ProviderSmokeResult> SmokeRunner::Run(const SmokeRequest& request,
                                                  const std::string& run_id,
                                                  const SmokeProgress& on_progress,
                                                  const std::atomic<bool>& stop) {
  std::vector<ProviderSmokeResult> results(request.providers.size());
  RunContext ctx(sandboxes_, http_, env_, options_, request, run_id, on_progress, stop);
  std::vector<std::thread> threads;
  threads.reserve(request.providers.size());
  for (std::size_t i = 0; i < request.providers.size(); ++i) {
    auto check = [&ctx, &request, &results, i] {
      ProviderCheck(ctx, request.providers[i], results[i]).Run();
    };
    try {
      threads.emplace_back(check);
    } catch (const std::system_error& e) {
      // No thread to be had: this provider runs here, after the others have started.
      log::Warn("smoke: no thread for a provider; running it in turn",
                {{"runId", run_id}, {"provider", request.providers[i]}, {"error", e.what()}});
      check();
    }
  }
  for (auto& thread : threads) thread.join();
  return results;
}

}  // namespace swarm::smoke
