#include "cli/smoke_command.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/api_key.h"
#include "cli/e2b_command.h"
#include "cli/local_smoke.h"
#include "cli/table.h"
#include "core/log.h"
#include "core/process_setup.h"
#include "core/redact.h"
#include "sandbox/e2b_config.h"
#include "sandbox/template_client.h"

namespace swarm {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReasonCellWidth = 60;

std::optional<std::string> EnvValue(const std::map<std::string, std::string>& env,
                                    const std::string& name) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

std::string Seconds(int64_t ms) { return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000); }

bool Stopped(const SmokeConsole& console) { return console.stop && console.stop->load(); }

// Sleeps `duration` in short slices, returning early (false) once stop is set.
bool SleepUnlessStopped(milliseconds duration, const SmokeConsole& console) {
  const auto until = Clock::now() + duration;
  while (Clock::now() < until) {
    if (Stopped(console)) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(50), until - Clock::now()));
  }
  return !Stopped(console);
}

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

}  // namespace

Result<std::vector<std::string>> ParseProviderList(std::string_view csv) {
  std::vector<std::string> providers;
  std::size_t at = 0;
  while (at <= csv.size()) {
    auto comma = csv.find(',', at);
    if (comma == std::string_view::npos) comma = csv.size();
    std::string name = Trim(csv.substr(at, comma - at));
    at = comma + 1;
    if (name.empty()) continue;
    const auto known = std::find(std::begin(kSmokeProviders), std::end(kSmokeProviders), name);
    if (known == std::end(kSmokeProviders)) {
      return BadRequest(
          fmt::format("--providers: unknown provider '{}' (known: claude, codex, pi, opencode)",
                      Redact(name.substr(0, 40))));
    }
    if (std::find(providers.begin(), providers.end(), name) != providers.end()) {
      return BadRequest(fmt::format("--providers: {} is named twice", name));
    }
    providers.push_back(std::move(name));
  }
  if (providers.empty()) {
    return BadRequest("--providers: name at least one of claude, codex, pi, opencode");
  }
  return providers;
}

Result<void> CheckSmokeFlags(const SmokeFlags& flags) {
  if (flags.stub_model && !flags.local) {
    return BadRequest("--stub-model needs --local (a deployed API uses its own model endpoints)");
  }
  if (flags.local && !flags.api_url.empty()) {
    return BadRequest("--local starts its own API: it takes no --api-url");
  }
  if (flags.local && !flags.api_key_file.empty()) {
    return BadRequest(
        "--local starts its own API with a key of its own: it takes no --api-key-file");
  }
  static const std::regex kSha("[A-Za-z0-9._-]{1,40}");
  if (!flags.sha.empty() && !std::regex_match(flags.sha, kSha)) {
    return BadRequest("--sha: 1 to 40 characters of A-Z a-z 0-9 . _ -");
  }
  if (!flags.template_id.empty()) {
    if (auto checked = sandbox::CheckTemplateName(flags.template_id); !checked) {
      return BadRequest("--template: " + checked.error().message);
    }
  }
  return {};
}

json SmokeRequestBody(const SmokeFlags& flags, const std::vector<std::string>& providers,
                      const std::optional<std::string>& model_base_url) {
  json body = {{"providers", providers}};
  if (!flags.template_id.empty()) body["template"] = flags.template_id;
  if (!flags.sha.empty()) body["deploymentSha"] = flags.sha;
  if (flags.timeout_sec) body["timeoutMs"] = *flags.timeout_sec * 1000;
  if (flags.sandbox_timeout_sec) body["sandboxTimeoutSec"] = *flags.sandbox_timeout_sec;
  if (flags.allow_version_skew) body["allowVersionSkew"] = true;
  if (model_base_url) body["modelBaseUrl"] = *model_base_url;
  return body;
}

milliseconds SmokeFollowBound(const SmokeFlags& flags) {
  const int64_t timeout_sec = flags.timeout_sec.value_or(SmokeRequest{}.timeout_ms / 1000);
  return std::chrono::seconds(timeout_sec) + kSmokeFollowMargin;
}

std::string SmokePhaseLabel(const ProviderSmokeResult& result) {
  switch (result.phase) {
    case SmokePhase::kQueued:
      return "queued";
    case SmokePhase::kCreatingSandbox:
      return "creating sandbox";
    case SmokePhase::kStartingWorker:
      return "sandbox up, starting worker";
    case SmokePhase::kRegistered:
      return "worker registered";
    case SmokePhase::kTaskRunning:
      return "task running";
    case SmokePhase::kCleaningUp:
      return "cleaning up";
    case SmokePhase::kDone:
      return result.ok ? "passed" : "failed";
  }
  return SmokePhaseName(result.phase);
}

int64_t SmokeProgressView::ElapsedMs(const ProviderSmokeResult& result, milliseconds elapsed) {
  if (result.phase != SmokePhase::kDone) return elapsed.count();
  if (result.timings.total_ms) return *result.timings.total_ms;
  return done_at_ms_.try_emplace(result.provider, elapsed.count()).first->second;
}

std::string SmokeProgressView::Update(const std::vector<ProviderSmokeResult>& results,
                                      milliseconds elapsed) {
  return terminal_ ? Block(results, elapsed) : PlainLines(results, elapsed);
}

std::string SmokeProgressView::Block(const std::vector<ProviderSmokeResult>& results,
                                     milliseconds elapsed) {
  TextTable table({"", "", "", ""}, kReasonCellWidth);
  // The phase column as wide as its widest label, so the block does not shift as phases pass.
  constexpr std::size_t kPhaseWidth = std::string_view("sandbox up, starting worker").size();
  for (const auto& r : results) {
    std::string phase = SmokePhaseLabel(r);
    phase.resize(std::max(phase.size(), kPhaseWidth), ' ');
    table.AddRow({r.provider, phase, r.sandbox_id.empty() ? "-" : r.sandbox_id,
                  Seconds(ElapsedMs(r, elapsed))});
  }
  std::string rendered = table.Render();
  rendered.erase(0, rendered.find('\n') + 1);  // the empty header row
  // Back to the block's first line, then each line cleared and rewritten; a block that shrank
  // leaves its old tail cleared below.
  std::string out;
  if (lines_drawn_ > 0) out += fmt::format("\x1b[{}A", lines_drawn_);
  std::size_t lines = 0;
  std::size_t at = 0;
  while (at < rendered.size()) {
    const auto end = rendered.find('\n', at);
    out += "\r\x1b[2K" + Redact(rendered.substr(at, end - at)) + "\n";
    at = end + 1;
    ++lines;
  }
  for (std::size_t i = lines; i < lines_drawn_; ++i) out += "\r\x1b[2K\n";
  lines_drawn_ = std::max(lines, lines_drawn_);
  return out;
}

std::string SmokeProgressView::PlainLines(const std::vector<ProviderSmokeResult>& results,
                                          milliseconds elapsed) {
  std::string out;
  for (const auto& r : results) {
    const std::string label = SmokePhaseLabel(r);
    auto [it, first] = last_shown_.try_emplace(r.provider, label);
    if (!first && it->second == label) continue;
    it->second = label;
    std::string line =
        fmt::format("[{:>7}] {}: {}", Seconds(ElapsedMs(r, elapsed)), r.provider, label);
    if (!r.sandbox_id.empty() && r.phase == SmokePhase::kStartingWorker) {
      line += " (sandbox " + r.sandbox_id + ")";
    }
    if (r.phase == SmokePhase::kDone && !r.ok && r.failure_reason) {
      line += ": " + *r.failure_reason;
    }
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    out += Redact(std::move(line)) + "\n";
  }
  return out;
}

std::string RenderSmokeReport(const SmokeRun& run) {
  TextTable table({"PROVIDER", "OK", "STATUS", "VIA", "SESSION", "COST", "TIME", "REASON"},
                  kReasonCellWidth);
  std::vector<std::string> long_reasons;
  int passed = 0;
  for (const auto& r : run.results) {
    if (r.ok) ++passed;
    const std::string reason = r.failure_reason.value_or("");
    if (reason.size() > kReasonCellWidth) long_reasons.push_back(r.provider + ": " + reason);
    table.AddRow({r.provider, r.ok ? "yes" : "no", r.task_status.value_or(SmokePhaseName(r.phase)),
                  r.finished_via.value_or("-"), r.session_id.value_or("-"),
                  r.cost_usd ? fmt::format("${:.4f}", *r.cost_usd) : "-",
                  r.timings.total_ms ? Seconds(*r.timings.total_ms) : "-", reason});
  }
  std::string out = table.Render();
  for (const auto& reason : long_reasons) out += reason + "\n";
  out += fmt::format("smoke run {} {}: {}/{} provider(s) ok", run.id,
                     SmokeRunStatusName(run.status), passed, run.results.size());
  if (!run.api_version.empty()) out += ", API " + run.api_version;
  out += "\n";
  return Redact(std::move(out));
}

int SmokeExitStatus(const SmokeRun& run) {
  const bool all_ok =
      !run.results.empty() && std::all_of(run.results.begin(), run.results.end(),
                                          [](const ProviderSmokeResult& r) { return r.ok; });
  return run.status == SmokeRunStatus::kPassed && run.ok && all_ok ? kSmokePassed : kSmokeFailed;
}

int RunRemoteSmoke(SwarmClient& api, const json& body, milliseconds bound, SmokeConsole& console) {
  const auto started = Clock::now();
  auto created = api.Call("POST", "/api/smoke-runs", body);
  if (!created) {
    console.err << "error: starting the smoke run: " << Redact(created.error().message) << "\n";
    return created.error().code == ErrorCode::kBadRequest ? kSmokeUsage : kSmokeFailed;
  }
  auto run = SmokeRunFromJson(created->body);
  if (!run || run->id.empty()) {
    console.err << "error: POST /api/smoke-runs did not answer with a smoke run\n";
    return kSmokeFailed;
  }
  const std::string id = run->id;
  console.err << "smoke run " << Redact(id) << " started on " << Redact(api.options().base_url)
              << "\n";
  json last_body = created->body;
  SmokeProgressView view(console.err_is_terminal);
  const std::string path = "/api/smoke-runs/" + UrlEncode(id);
  std::string last_error;
  // Left behind, a deployed API's run goes on; the local API's ends when it is stopped.
  const std::string left_behind =
      console.api_outlives_command ? fmt::format("; it goes on in the API (GET {})", path) : "";
  while (run->status == SmokeRunStatus::kRunning) {
    console.err << view.Update(run->results, milliseconds(MsSince(started))) << std::flush;
    if (Clock::now() - started >= bound) {
      console.err << fmt::format("error: smoke run {} still running after {}{}\n", Redact(id),
                                 Seconds(bound.count()), left_behind);
      return kSmokeFailed;
    }
    if (!SleepUnlessStopped(console.poll_interval, console)) {
      console.err << fmt::format("stopped following smoke run {}{}\n", Redact(id), left_behind);
      return kSmokeFailed;
    }
    auto got = api.Call("GET", path);
    if (!got) {
      // The API restarting or a network blip: keep trying until the bound, saying so once
      // per distinct error. Anything but unavailability will not get better.
      if (got.error().code != ErrorCode::kUnavailable && got.error().code != ErrorCode::kInternal) {
        console.err << "error: following the smoke run: " << Redact(got.error().message) << "\n";
        return kSmokeFailed;
      }
      if (got.error().message != last_error) {
        last_error = got.error().message;
        console.err << "warning: " << Redact(last_error) << " (retrying)\n";
      }
      continue;
    }
    auto next = SmokeRunFromJson(got->body);
    if (!next) {
      console.err << "error: GET " << path << " did not answer with a smoke run\n";
      return kSmokeFailed;
    }
    run = std::move(next);
    last_body = std::move(got->body);
    last_error.clear();
  }
  console.err << view.Update(run->results, milliseconds(MsSince(started))) << std::flush;
  if (console.json) {
    console.out << Redact(last_body.dump(2)) << "\n";
  } else {
    console.out << RenderSmokeReport(*run);
  }
  return SmokeExitStatus(*run);
}

namespace {

[[noreturn]] void Exit(int status) { throw CLI::RuntimeError(status); }

void RunSmoke(const SmokeFlags& flags, SmokeCliEnvironment& env) {
  std::ostream& err = *env.err;
  if (env.init_logging) env.init_logging();
  if (!flags.api_key.empty()) {
    RegisterSecret(flags.api_key);
    err << "error: " << kArgvKeyRefused << "\n";
    Exit(kSmokeUsage);
  }
  auto providers = ParseProviderList(flags.providers);
  if (!providers) {
    err << "error: " << providers.error().message << "\n";
    Exit(kSmokeUsage);
  }
  if (auto checked = CheckSmokeFlags(flags); !checked) {
    err << "error: " << checked.error().message << "\n";
    Exit(kSmokeUsage);
  }
  const std::atomic<bool>* stop = env.watch_stop_signals ? env.watch_stop_signals() : nullptr;
  SmokeConsole console{*env.out,
                       err,
                       env.err_is_terminal,
                       flags.json,
                       stop,
                       env.poll_interval,
                       /*api_outlives_command=*/!flags.local};
  auto follow = [&](const std::string& api_url, const std::string& api_key,
                    const std::optional<std::string>& model_base_url) {
    SwarmClientOptions options;
    options.base_url = api_url;
    options.api_key = api_key;
    auto http = env.make_http();
    SwarmClient client(*http, options);
    return RunRemoteSmoke(client, SmokeRequestBody(flags, *providers, model_base_url),
                          SmokeFollowBound(flags), console);
  };

  int status;
  if (flags.local) {
    if (!env.run_local) {
      err << "error: --local is not available here\n";
      Exit(kSmokeFailed);
    }
    status = env.run_local(flags, follow);
  } else {
    auto key = ResolveApiKey(flags.api_key_file, /*key_flag=*/"",
                             EnvValue(env.process_env, "AGENT_SWARM_API_KEY"),
                             EnvValue(env.process_env, "API_KEY"));
    if (!key) {
      err << "error: " << Redact(key.error().message) << "\n";
      Exit(kSmokeUsage);
    }
    RegisterSecret(*key);
    std::string api_url = flags.api_url;
    if (api_url.empty()) {
      api_url = EnvValue(env.process_env, "MCP_BASE_URL").value_or("http://127.0.0.1:3013");
    }
    status = follow(api_url, *key, std::nullopt);
  }
  if (status != 0) Exit(status);
}

// SIGINT/SIGTERM set a flag the command polls. A plain handler rather than a watcher thread
// with the signals blocked: the child processes of --local must not inherit a blocked mask.
std::atomic<bool> g_stop_requested{false};

extern "C" void OnStopSignal(int) { g_stop_requested.store(true); }

const std::atomic<bool>* WatchStopSignals() {
  IgnoreSigpipe();  // a closed stdout must not end the command before it has cleaned up
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return &g_stop_requested;
}

}  // namespace

void AddSmokeCommand(CLI::App& root, std::shared_ptr<SmokeCliEnvironment> env) {
  auto flags = std::make_shared<SmokeFlags>();
  auto* cmd = root.add_subcommand(
      "smoke",
      "run the provider smoke test: one worker sandbox per provider, each given the "
      "task 'Reply with exactly: pong'");
  cmd->add_option("--providers", flags->providers,
                  "comma-separated: any of claude,codex,pi,opencode")
      ->required();
  cmd->add_option("--api-url", flags->api_url,
                  "the API that runs it (default: $MCP_BASE_URL, else http://127.0.0.1:3013)");
  cmd->add_option("--template", flags->template_id,
                  "worker template (default: the API's --smoke-template; with --local "
                  "agent-swarm-worker, built locally)");
  cmd->add_option("--sha", flags->sha, "deployment sha in the agent ids (default: the API's)");
  cmd->add_option("--timeout-sec", flags->timeout_sec,
                  "per provider, from its task's creation (default 300)")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}));
  cmd->add_option("--sandbox-timeout-sec", flags->sandbox_timeout_sec,
                  "each sandbox's lifetime at most (default 900)")
      ->check(CLI::Range(int64_t{60}, int64_t{86400}));
  cmd->add_flag("--local", flags->local,
                "start sandboxd and an API on loopback for this run, and stop them after");
  cmd->add_flag("--stub-model", flags->stub_model,
                "with --local: every CLI talks to a local stub-llm answering {\"reply\":\"pong\"}");
  cmd->add_flag("--allow-version-skew", flags->allow_version_skew,
                "a worker whose version differs from the API's may still pass");
  cmd->add_flag("--json", flags->json, "print the final run as JSON instead of the table");
  auto* file = cmd->add_option("--api-key-file", flags->api_key_file,
                               "read the API key from the first line of this file (default: "
                               "$AGENT_SWARM_API_KEY, else $API_KEY)");
  cmd->add_option("--api-key", flags->api_key)->group("")->excludes(file);
  cmd->footer(
      "Exit status: 0 every provider passed, 1 one failed (or the run did not finish), 2 bad "
      "usage.\nWith --local, provider credentials come from this environment "
      "(ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENROUTER_API_KEY); --stub-model needs none.");
  cmd->callback([flags, env] { RunSmoke(*flags, *env); });
}

std::shared_ptr<SmokeCliEnvironment> ProcessSmokeEnvironment() {
  auto env = std::make_shared<SmokeCliEnvironment>();
  env->process_env = sandbox::ProcessEnvironment();
  env->out = &std::cout;
  env->err = &std::cerr;
  env->err_is_terminal = ::isatty(STDERR_FILENO) == 1;
  env->make_http = [] { return std::make_unique<http::CurlHttpClient>(); };
  env->watch_stop_signals = WatchStopSignals;
  env->init_logging = [] {
    log::Init();
    spdlog::set_level(spdlog::level::warn);
  };
  env->run_local = [process_env = env->process_env](const SmokeFlags& flags, const auto& run) {
    return RunLocalSmoke(flags, process_env, &g_stop_requested, std::cerr, run);
  };
  return env;
}

int RunSmokeCommandLine(std::vector<std::string> args, std::shared_ptr<SmokeCliEnvironment> env) {
  return RunCommandLine(std::move(args), [&](CLI::App& app) { AddSmokeCommand(app, env); });
}

}  // namespace swarm
