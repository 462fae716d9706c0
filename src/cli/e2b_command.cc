#include "cli/e2b_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/api_key.h"
#include "cli/table.h"
#include "core/redact.h"
#include "core/strings.h"
#include "sandbox/dotenv.h"
#include "sandbox/env_redaction.h"

namespace swarm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sandbox::StringMap;

constexpr char kArgvKeyWarning[] =
    "warning: --api-key puts the swarm key on the command line, where other users of this "
    "machine can read it; prefer AGENT_SWARM_API_KEY or --api-key-file";

// A failure the command reports and exits with; thrown inside callbacks only.
struct CommandFailure {
  int status;
  std::string message;
};

[[noreturn]] void Usage(std::string message) {
  throw CommandFailure{kE2bUsage, std::move(message)};
}
[[noreturn]] void Failure(std::string message) {
  throw CommandFailure{kE2bFailure, std::move(message)};
}

struct RoleDefaults {
  const char* template_name;
  int cpu_count;
  int memory_mb;
};
constexpr RoleDefaults kWorkerDefaults{"agent-swarm-worker", 4, 8192};
constexpr RoleDefaults kApiDefaults{"agent-swarm-api", 2, 2048};

// Flags every subcommand has.
struct CommonFlags {
  bool json = false;
  bool dry_run = false;
  bool verbose = false;
  std::string e2b_key_file;
  std::string e2b_key_argv;  // refused: accepted only to say so without echoing the key
  std::string e2b_api_base;
};

struct StartWorkerFlags {
  std::string api_url;
  std::string api_key;
  std::string api_key_file;
  std::string agent_id;
  std::string agent_role = "worker";
  std::string provider;
  bool worker_yolo = false;
  std::vector<std::string> secrets;
  std::vector<std::string> env_files;
  std::vector<std::string> inherit_env;
  std::vector<std::string> metadata;
  std::string worker_template;
  std::string template_name;
  int timeout_sec = 3600;
  int wait_ms = 90'000;
  bool no_wait = false;
  std::optional<int> cpu_count;
  std::optional<int> memory_mb;
};

struct BuildTemplateFlags {
  std::string role = "worker";
  std::string source = "image";
  std::string image;
  std::string dockerfile;
  std::vector<std::string> build_args;
  std::string worker_template;
  std::string api_template;
  std::string template_name;
  std::optional<int> cpu_count;
  std::optional<int> memory_mb;
  bool no_cache = false;
  std::vector<std::string> copies;
  std::vector<std::string> envs;
};

// Output, with the secrets the command knows of scrubbed from every line.
class Printer {
 public:
  explicit Printer(E2bEnvironment& env) : env_(env) {}
  void Out(const std::string& text) const { *env_.out << Scrub(text); }
  void Err(const std::string& text) const { *env_.err << Scrub(text); }
  void Json(const json& value) const { Out(sandbox::RedactObjectWithEnv(value).dump(2) + "\n"); }
  void AddEnv(const StringMap& env) {
    for (const auto& [k, v] : env) scrub_env_[k] = v;
  }
  std::string Scrub(std::string text) const {
    return sandbox::RedactWithEnv(std::move(text), scrub_env_, env_.process_env);
  }

 private:
  E2bEnvironment& env_;
  StringMap scrub_env_;
};

Result<std::pair<std::string, std::string>> Assignment(std::string_view flag, std::string_view text,
                                                       bool env_name) {
  return ParseAssignment(flag, text, env_name);
}

// The .env and .env.e2b files for the controller: at the repository root above `cwd` (the
// nearest directory with a .git), then in `cwd`; later files win.
std::vector<fs::path> ControllerDotenvFiles(const std::string& cwd) {
  std::vector<fs::path> dirs;
  if (cwd.empty()) return {};
  std::error_code ec;
  for (fs::path dir = fs::path(cwd); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / ".git", ec)) {
      if (dir != fs::path(cwd)) dirs.push_back(dir);
      break;
    }
    if (dir == dir.parent_path()) break;
  }
  dirs.emplace_back(cwd);
  std::vector<fs::path> files;
  for (const auto& dir : dirs) {
    for (const char* name : {".env", ".env.e2b"}) {
      if (fs::is_regular_file(dir / name, ec)) files.push_back(dir / name);
    }
  }
  return files;
}

// E2B_* settings: dotenv files < the environment < the flags.
StringMap ControllerEnv(const E2bEnvironment& env, const CommonFlags& flags) {
  if (!flags.e2b_key_argv.empty()) {
    RegisterSecret(flags.e2b_key_argv);
    Usage(
        "--e2b-api-key is not accepted: other processes on this machine can read a command "
        "line; set E2B_API_KEY or pass --e2b-api-key-file");
  }
  StringMap out;
  auto take = [&](const StringMap& from) {
    for (const auto& [k, v] : from) {
      if (k.starts_with("E2B_") && !v.empty()) out[k] = v;
    }
  };
  for (const auto& file : ControllerDotenvFiles(env.cwd)) {
    auto values = sandbox::ReadDotenvFile(file.string());
    if (!values) Failure(values.error().message);
    take(*values);
  }
  take(env.process_env);
  if (!flags.e2b_key_file.empty()) {
    auto key = ReadApiKeyFile(flags.e2b_key_file);
    if (!key) {
      std::string message = key.error().message;
      if (message.starts_with("--api-key-file")) message.replace(0, 14, "--e2b-api-key-file");
      Failure(message);
    }
    out["E2B_API_KEY"] = *key;
  }
  if (!flags.e2b_api_base.empty()) out["E2B_API_URL"] = flags.e2b_api_base;
  if (flags.dry_run) out["E2B_API_KEY"] = "dry-run";
  if (out["E2B_API_KEY"].empty()) {
    Failure(
        "no E2B API key: set E2B_API_KEY, put it in .env or .env.e2b, or pass "
        "--e2b-api-key-file");
  }
  RegisterSecret(out["E2B_API_KEY"]);
  if (auto it = out.find("E2B_ACCESS_TOKEN"); it != out.end()) RegisterSecret(it->second);
  return out;
}

std::unique_ptr<sandbox::SandboxProvider> Provider(E2bEnvironment& env, const CommonFlags& flags) {
  const StringMap controller = ControllerEnv(env, flags);
  if (!env.make_provider) Failure("this build has no E2B client");
  auto provider = env.make_provider(controller);
  if (!provider) Failure(provider.error().message);
  return std::move(*provider);
}

std::unique_ptr<TemplateOps> Templates(E2bEnvironment& env, const CommonFlags& flags) {
  const StringMap controller = ControllerEnv(env, flags);
  if (!env.make_templates) Failure("this build has no E2B template client");
  auto templates = env.make_templates(controller);
  if (!templates) Failure(templates.error().message);
  return std::move(*templates);
}

json SandboxJson(const sandbox::SandboxInfo& info) {
  json out = {{"sandboxId", info.id()},     {"templateId", info.template_id},
              {"state", info.state},        {"startedAt", info.started_at},
              {"endAt", info.end_at},       {"cpuCount", info.cpu_count},
              {"memoryMB", info.memory_mb}, {"metadata", info.metadata}};
  if (!info.handle.domain.empty()) out["domain"] = info.handle.domain;
  return out;
}

std::string ValueOr(const StringMap& map, const std::string& key, const std::string& fallback) {
  auto it = map.find(key);
  return it == map.end() || it->second.empty() ? fallback : it->second;
}

std::vector<std::string> SplitKeys(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    for (auto& key : SplitCsv(v)) out.push_back(std::move(key));
  }
  return out;
}

// Runs a subcommand body, turning a CommandFailure into its message and exit status.
void Guard(E2bEnvironment& env, const CommonFlags& common,
           const std::function<void(Printer&)>& body) {
  if (env.init_logging) env.init_logging(common.verbose);
  Printer printer(env);
  try {
    body(printer);
  } catch (const CommandFailure& failure) {
    printer.Err("error: " + failure.message + "\n");
    throw CLI::RuntimeError(failure.status);
  }
}

void AddCommonFlags(CLI::App* cmd, CommonFlags& flags, bool dry_run) {
  cmd->add_flag("--json", flags.json, "print JSON (secrets redacted, tokens left out)");
  cmd->add_flag("--verbose", flags.verbose, "log each E2B call on stderr");
  if (dry_run) {
    cmd->add_flag("--dry-run", flags.dry_run, "print what would be done; call nothing");
  }
  cmd->add_option("--e2b-api-key-file", flags.e2b_key_file,
                  "read the E2B key from this file's first line (default: $E2B_API_KEY, else "
                  ".env / .env.e2b)");
  cmd->add_option("--e2b-api-key", flags.e2b_key_argv)->group("");
  cmd->add_option("--e2b-api-base", flags.e2b_api_base,
                  "E2B API URL (default: $E2B_API_URL, else https://api.$E2B_DOMAIN)");
}

// ---------------------------------------------------------------------------------------------
// start-worker

void StartWorker(E2bEnvironment& env, const CommonFlags& common, const StartWorkerFlags& f,
                 Printer& printer) {
  if (!f.api_key.empty()) {
    RegisterSecret(f.api_key);
    printer.Err(std::string(kArgvKeyWarning) + "\n");
  }
  sandbox::RuntimeEnvSources sources;
  sources.process_env = env.process_env;
  sources.inherit_env = SplitKeys(f.inherit_env);
  for (const auto& text : f.secrets) {
    auto kv = Assignment("--secret", text, /*env_name=*/true);
    if (!kv) Usage(kv.error().message);
    // Secret by its name, as the seed's redaction decides: `--secret SLACK_DISABLE=true` is
    // how the seed's guide passes plain settings too, and "true" must stay printable.
    if (sandbox::IsSensitiveKey(kv->first)) RegisterSecret(kv->second);
    sources.secrets.push_back(std::move(*kv));
  }
  StringMap metadata;
  for (const auto& text : f.metadata) {
    auto kv = Assignment("--metadata", text, /*env_name=*/false);
    if (!kv) Usage(kv.error().message);
    metadata[kv->first] = kv->second;
  }
  for (const auto& path : f.env_files) {
    auto values = sandbox::ReadDotenvFile(path);
    if (!values) Failure(values.error().message);
    sources.env_files.push_back(std::move(*values));
  }
  if (f.timeout_sec <= 0) Usage("--timeout-sec must be positive");
  if (f.wait_ms < 0) Usage("--wait-ms must not be negative");

  // The swarm key: --api-key-file > --api-key > AGENT_SWARM_API_KEY > API_KEY, those two as
  // the sandbox would see them (forwarded, from env files, from secrets).
  StringMap layered;
  for (const char* name : {"AGENT_SWARM_API_KEY", "API_KEY"}) {
    if (auto it = env.process_env.find(name); it != env.process_env.end())
      layered[name] = it->second;
  }
  for (const auto& file : sources.env_files) {
    for (const char* name : {"AGENT_SWARM_API_KEY", "API_KEY"}) {
      if (auto it = file.find(name); it != file.end()) layered[name] = it->second;
    }
  }
  for (const auto& [k, v] : sources.secrets) layered[k] = v;
  auto at = [&](const char* name) -> std::optional<std::string> {
    auto it = layered.find(name);
    return it == layered.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto key = ResolveApiKey(f.api_key_file, f.api_key, at("AGENT_SWARM_API_KEY"), at("API_KEY"));
  if (key) {
    sources.api_key = std::move(*key);
  } else if (common.dry_run && f.api_key_file.empty()) {
    sources.api_key = "dry-run";
  } else {
    Failure(key.error().message);
  }
  RegisterSecret(sources.api_key);

  sandbox::WorkerLaunchOptions options;
  options.template_id = !f.worker_template.empty() ? f.worker_template
                        : !f.template_name.empty() ? f.template_name
                                                   : sandbox::kDefaultWorkerTemplate;
  options.api_url = !f.api_url.empty() ? f.api_url : ValueOr(env.process_env, "MCP_BASE_URL", "");
  options.agent_id = f.agent_id;
  options.agent_role = f.agent_role;
  options.provider = f.provider;
  options.worker_yolo = f.worker_yolo;
  options.metadata = std::move(metadata);
  options.timeout = std::chrono::seconds(f.timeout_sec);
  options.wait = std::chrono::milliseconds(f.wait_ms);
  options.wait_for_registration = !f.no_wait;
  options.cpu_count = f.cpu_count;
  options.memory_mb = f.memory_mb;
  auto plan = sandbox::PlanWorkerLaunch(sources, options);
  if (!plan) Usage(plan.error().message);
  printer.AddEnv(plan->sandbox.env_vars);

  const std::string agent_id = plan->agent_id.empty() ? "e2b-<sandboxID>" : plan->agent_id;
  if (common.dry_run) {
    json out = {{"dryRun", true},
                {"templateId", plan->sandbox.template_id},
                {"timeoutSec", plan->sandbox.timeout.count()},
                {"agentId", agent_id},
                {"apiUrl", plan->api_url},
                {"metadata", plan->sandbox.metadata},
                {"envVars", sandbox::RedactedEnvJson(plan->sandbox.env_vars)},
                {"command", plan->command.cmd},
                {"user", plan->command.user},
                {"logPath", sandbox::kWorkerLogPath},
                {"waitMs", plan->wait_for_registration ? plan->wait.count() : 0}};
    printer.Json(out);
    return;
  }

  auto provider = Provider(env, common);
  sandbox::WorkerLaunchDeps deps;
  deps.provider = provider.get();
  deps.probe = env.make_probe ? env.make_probe() : nullptr;
  if (!deps.probe && plan->wait_for_registration) Failure("this build cannot reach the swarm API");
  deps.sleep = env.sleep;
  deps.controller_env = env.process_env;
  if (!common.json) {
    printer.Err(
        fmt::format("starting worker {} from template {}…\n", agent_id, plan->sandbox.template_id));
  }
  auto launched = sandbox::LaunchWorker(*plan, std::move(deps));
  if (!launched) Failure(launched.error().message);

  if (common.json) {
    json out = SandboxJson(launched->sandbox);
    out["agentId"] = launched->agent_id;
    out["pid"] = launched->pid;
    out["apiUrl"] = plan->api_url;
    out["registered"] = launched->registered;
    out["logPath"] = sandbox::kWorkerLogPath;
    out["timeoutSec"] = plan->sandbox.timeout.count();
    printer.Json(out);
    return;
  }
  printer.Out(
      fmt::format("sandbox {} runs worker {} (pid {}){}\nlog: {} in the sandbox; stop it with: "
                  "agent-swarm e2b kill {}\n",
                  launched->sandbox.id(), launched->agent_id, launched->pid,
                  launched->registered ? fmt::format(", registered at {}", plan->api_url)
                                       : ", not waiting for registration",
                  sandbox::kWorkerLogPath, launched->sandbox.id()));
}

// ---------------------------------------------------------------------------------------------
// Templates

void BuildTemplate(E2bEnvironment& env, const CommonFlags& common, const BuildTemplateFlags& f,
                   Printer& printer) {
  if (!f.build_args.empty()) {
    Usage("--build-arg is not supported: bake build arguments into the image before publishing");
  }
  if (f.role != "worker" && f.role != "api") Usage("--role must be worker or api");
  if (f.source == "local") {
    Usage(
        "--source local needs Docker, which agent-swarm does not use: build and push the image "
        "in CI, then run build-template --source image --image <ref>");
  }
  if (f.source != "image") Usage("--source must be image (or local, which needs Docker)");
  if (!f.dockerfile.empty()) Usage("--dockerfile goes with --source local; use --image");
  if (f.image.empty()) Usage("--image is required with --source image");
  const RoleDefaults& defaults = f.role == "api" ? kApiDefaults : kWorkerDefaults;
  TemplateBuildRequest request;
  const std::string& role_template = f.role == "api" ? f.api_template : f.worker_template;
  request.name = !role_template.empty()     ? role_template
                 : !f.template_name.empty() ? f.template_name
                                            : defaults.template_name;
  request.image = f.image;
  request.cpu_count = f.cpu_count.value_or(defaults.cpu_count);
  request.memory_mb = f.memory_mb.value_or(defaults.memory_mb);
  request.no_cache = f.no_cache;
  json copied = json::array();
  for (const auto& copy : f.copies) {
    const auto colon = copy.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= copy.size() ||
        copy[colon + 1] != '/') {
      Usage(fmt::format("--copy takes LOCAL:DEST with DEST an absolute path; got \"{}\"", copy));
    }
    TemplateBuildRequest::File file{copy.substr(0, colon), copy.substr(colon + 1)};
    std::error_code ec;
    const auto status = fs::status(file.local_path, ec);
    if (ec || !fs::is_regular_file(status)) {
      Usage(fmt::format("--copy: {} is not a readable file", file.local_path));
    }
    file.mode = static_cast<int>(status.permissions() & fs::perms::mask) & 0777;
    copied.push_back({{"local", file.local_path},
                      {"dest", file.dest_path},
                      {"mode", fmt::format("{:04o}", file.mode)}});
    request.files.push_back(std::move(file));
  }
  for (const auto& entry : f.envs) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      Usage(fmt::format("--env takes KEY=VALUE; got \"{}\"", entry));
    }
    request.env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  if (request.cpu_count <= 0 || request.memory_mb <= 0) {
    Usage("--cpu-count and --memory-mb must be positive");
  }
  json described = {{"template", request.name},
                    {"image", request.image},
                    {"role", f.role},
                    {"cpuCount", request.cpu_count},
                    {"memoryMB", request.memory_mb},
                    {"noCache", request.no_cache},
                    {"startCmd", request.start_cmd},
                    {"readyCmd", request.ready_cmd},
                    {"files", copied},
                    {"env", request.env}};
  if (common.dry_run) {
    described["dryRun"] = true;
    printer.Json(described);
    return;
  }
  auto templates = Templates(env, common);
  auto built = templates->Build(request, [&](std::string_view line) {
    printer.Err(std::string(line) + (line.ends_with('\n') ? "" : "\n"));
  });
  if (!built) Failure(fmt::format("building template {}: {}", request.name, built.error().message));
  if (common.json) {
    printer.Json(described);
  } else {
    printer.Out(fmt::format("template {} built from {} ({} CPU, {} MB)\n", request.name,
                            request.image, request.cpu_count, request.memory_mb));
  }
}

enum class TemplateAction { kPublish, kUnpublish, kDelete };

void ChangeTemplates(E2bEnvironment& env, const CommonFlags& common,
                     const std::vector<std::string>& names, TemplateAction action,
                     Printer& printer) {
  const char* verb = action == TemplateAction::kPublish     ? "publish"
                     : action == TemplateAction::kUnpublish ? "unpublish"
                                                            : "delete";
  if (common.dry_run) {
    printer.Json({{"dryRun", true}, {"action", verb}, {"templates", names}});
    return;
  }
  auto templates = Templates(env, common);
  json results = json::array();
  int failures = 0;
  for (const auto& name : names) {
    json entry = {{"template", name}};
    std::string done;
    if (action == TemplateAction::kDelete) {
      auto deleted = templates->Delete(name);
      if (deleted) {
        entry["deleted"] = *deleted;
        done = *deleted ? "deleted" : "did not exist";
      } else {
        entry["error"] = deleted.error().message;
      }
    } else {
      auto changed = templates->SetPublic(name, action == TemplateAction::kPublish);
      if (changed) {
        entry["public"] = action == TemplateAction::kPublish;
        done = action == TemplateAction::kPublish ? "published" : "unpublished";
      } else {
        entry["error"] = changed.error().message;
      }
    }
    if (entry.contains("error")) {
      ++failures;
      printer.Err(fmt::format("error: {} {}: {}\n", verb, name, entry["error"].get<std::string>()));
    } else if (!common.json) {
      printer.Out(fmt::format("template {} {}\n", name, done));
    }
    results.push_back(std::move(entry));
  }
  if (common.json) printer.Json(results);
  if (failures > 0) throw CLI::RuntimeError(kE2bFailure);
}

// ---------------------------------------------------------------------------------------------
// list, kill, extend

const StringMap kOurSandboxes = {{"launcher", sandbox::kLauncher}};

void List(E2bEnvironment& env, const CommonFlags& common, Printer& printer) {
  auto provider = Provider(env, common);
  auto sandboxes = provider->List(kOurSandboxes);
  if (!sandboxes) Failure(sandboxes.error().message);
  if (common.json) {
    json out = json::array();
    for (const auto& s : *sandboxes) out.push_back(SandboxJson(s));
    printer.Json(out);
    return;
  }
  if (sandboxes->empty()) {
    printer.Out("no sandboxes launched by agent-swarm\n");
    return;
  }
  TextTable table({"SANDBOX", "TEMPLATE", "ROLE", "AGENT", "STATE", "STARTED", "ENDS"});
  for (const auto& s : *sandboxes) {
    table.AddRow({s.id(), s.template_id, ValueOr(s.metadata, "role", "-"),
                  ValueOr(s.metadata, "agentId", "-"), s.state.empty() ? "-" : s.state,
                  s.started_at.empty() ? "-" : s.started_at, s.end_at.empty() ? "-" : s.end_at});
  }
  printer.Out(table.Render());
}

void Kill(E2bEnvironment& env, const CommonFlags& common, std::vector<std::string> ids, bool all,
          bool yes, Printer& printer) {
  if (all == !ids.empty()) Usage("kill takes sandbox ids or --all, not both or neither");
  if (common.dry_run && !all) {
    printer.Json({{"dryRun", true}, {"kill", ids}});
    return;
  }
  auto provider = Provider(env, common);
  if (all) {
    auto sandboxes = provider->List(kOurSandboxes);
    if (!sandboxes) Failure(sandboxes.error().message);
    for (const auto& s : *sandboxes) ids.push_back(s.id());
    if (common.dry_run) {
      printer.Json({{"dryRun", true}, {"kill", ids}});
      return;
    }
    if (!yes && !ids.empty() && env.stdin_is_terminal && env.stdin_is_terminal()) {
      printer.Err(fmt::format("kill {} sandbox(es) launched by agent-swarm? [y/N] ", ids.size()));
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y" && answer != "yes")
        Failure("not confirmed; nothing killed");
    }
  }
  json results = json::array();
  int failures = 0;
  for (const auto& id : ids) {
    auto killed = provider->Kill(id);
    json entry = {{"sandboxId", id}};
    if (!killed) {
      ++failures;
      entry["error"] = killed.error().message;
      printer.Err(fmt::format("error: kill {}: {}\n", id, killed.error().message));
    } else {
      entry["killed"] = *killed;
      if (!common.json) {
        printer.Out(fmt::format("{} {}\n", id, *killed ? "killed" : "was already gone"));
      }
    }
    results.push_back(std::move(entry));
  }
  if (common.json) printer.Json(results);
  if (all && ids.empty() && !common.json) printer.Out("no sandboxes launched by agent-swarm\n");
  if (failures > 0) throw CLI::RuntimeError(kE2bFailure);
}

void Extend(E2bEnvironment& env, const CommonFlags& common, const std::vector<std::string>& ids,
            int timeout_sec, Printer& printer) {
  if (timeout_sec <= 0) Usage("--timeout-sec must be positive");
  if (common.dry_run) {
    printer.Json({{"dryRun", true}, {"extend", ids}, {"timeoutSec", timeout_sec}});
    return;
  }
  auto provider = Provider(env, common);
  json results = json::array();
  int failures = 0;
  for (const auto& id : ids) {
    json entry = {{"sandboxId", id}, {"timeoutSec", timeout_sec}};
    auto set = provider->SetTimeout(id, std::chrono::seconds(timeout_sec));
    if (!set) {
      ++failures;
      entry["error"] = set.error().message;
      printer.Err(fmt::format("error: extend {}: {}\n", id, set.error().message));
      results.push_back(std::move(entry));
      continue;
    }
    auto info = provider->Get(id);
    const std::string end_at = info ? info->end_at : "";
    entry["endAt"] = end_at;
    if (!common.json) {
      printer.Out(end_at.empty() ? fmt::format("{} now ends {} s from now\n", id, timeout_sec)
                                 : fmt::format("{} now ends at {}\n", id, end_at));
    }
    results.push_back(std::move(entry));
  }
  if (common.json) printer.Json(results);
  if (failures > 0) throw CLI::RuntimeError(kE2bFailure);
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseAssignment(std::string_view flag,
                                                            std::string_view text,
                                                            bool key_is_env_name) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return BadRequest(fmt::format("{} takes KEY=VALUE; got an argument without '='", flag));
  }
  std::string key(text.substr(0, eq));
  if (key_is_env_name ? !sandbox::IsValidEnvKey(key) : key.empty()) {
    return BadRequest(fmt::format(
        "{} takes KEY=VALUE with KEY a variable name ([A-Za-z_][A-Za-z0-9_]*); got \"{}\"", flag,
        key.size() > 64 ? key.substr(0, 64) + "…" : key));
  }
  return std::pair{std::move(key), std::string(text.substr(eq + 1))};
}

void AddE2bCommand(CLI::App& root, std::shared_ptr<E2bEnvironment> env) {
  auto* e2b = root.add_subcommand(
      "e2b", "worker sandboxes on E2B (or a local sandboxd): templates, start-worker, list, kill");
  e2b->require_subcommand(1);
  e2b->footer(
      "E2B settings: E2B_API_KEY (or --e2b-api-key-file), E2B_API_URL, E2B_DOMAIN, "
      "E2B_SANDBOX_URL;\nread from the environment, else from .env / .env.e2b at the "
      "repository root and in the current directory.");

  {
    auto common = std::make_shared<CommonFlags>();
    auto f = std::make_shared<BuildTemplateFlags>();
    auto* cmd = e2b->add_subcommand("build-template",
                                    "build an E2B template from a pushed image (no Docker)");
    cmd->add_option("--role", f->role, "worker (default) or api");
    cmd->add_option("--source", f->source, "image (default); local needs Docker");
    cmd->add_option("--image", f->image,
                    "the registry image, e.g. ghcr.io/o/agent-swarm-worker:SHA");
    cmd->add_option("--dockerfile", f->dockerfile)->group("");
    cmd->add_option("--build-arg", f->build_args)->group("");
    cmd->add_option("--worker-template", f->worker_template, "template name for --role worker");
    cmd->add_option("--api-template", f->api_template, "template name for --role api");
    cmd->add_option("--template", f->template_name,
                    "template name (default agent-swarm-worker / agent-swarm-api)");
    cmd->add_option("--cpu-count", f->cpu_count, "CPUs (default 4 worker, 2 api)");
    cmd->add_option("--memory-mb", f->memory_mb, "memory (default 8192 worker, 2048 api)");
    cmd->add_flag("--no-cache", f->no_cache, "rebuild every layer");
    cmd->add_option("--env", f->envs,
                    "KEY=VALUE baked into the template, as an image's ENV (repeatable)");
    cmd->add_option("--copy", f->copies,
                    "LOCAL:DEST: put a local file in the template, keeping its mode (repeatable; "
                    "e.g. docker/docker-entrypoint.sh:/docker-entrypoint.sh over a bare base)");
    AddCommonFlags(cmd, *common, /*dry_run=*/true);
    cmd->callback(
        [=] { Guard(*env, *common, [&](Printer& p) { BuildTemplate(*env, *common, *f, p); }); });
  }
  struct NamedAction {
    const char* name;
    const char* help;
    TemplateAction action;
  };
  for (const NamedAction& a :
       {NamedAction{"publish-template", "make templates public", TemplateAction::kPublish},
        NamedAction{"unpublish-template", "make templates private", TemplateAction::kUnpublish},
        NamedAction{"delete-template", "delete templates", TemplateAction::kDelete}}) {
    auto common = std::make_shared<CommonFlags>();
    auto names = std::make_shared<std::vector<std::string>>();
    auto* cmd = e2b->add_subcommand(a.name, a.help);
    cmd->add_option("name", *names, "template names")->required();
    AddCommonFlags(cmd, *common, /*dry_run=*/true);
    const TemplateAction action = a.action;
    cmd->callback([=] {
      Guard(*env, *common, [&](Printer& p) { ChangeTemplates(*env, *common, *names, action, p); });
    });
  }
  {
    auto common = std::make_shared<CommonFlags>();
    auto f = std::make_shared<StartWorkerFlags>();
    auto* cmd = e2b->add_subcommand(
        "start-worker",
        "start a worker sandbox pointed at a swarm API and wait for it to register");
    cmd->add_option("--api-url", f->api_url,
                    "the swarm API the worker reports to (default: $MCP_BASE_URL)");
    auto* key_file = cmd->add_option("--api-key-file", f->api_key_file,
                                     "read the swarm key from this file (default: "
                                     "$AGENT_SWARM_API_KEY, else $API_KEY)");
    cmd->add_option("--api-key", f->api_key,
                    "the swarm key (visible to other users in argv: prefer the environment)")
        ->excludes(key_file);
    cmd->add_option(
        "--agent-id", f->agent_id,
        "the worker's id (default: AGENT_ID from --env-file/--secret, else e2b-<sandboxID>)");
    cmd->add_option("--agent-role", f->agent_role, "worker (default) or lead");
    cmd->add_option("--provider", f->provider, "claude (default), codex, opencode or pi");
    cmd->add_flag("--worker-yolo", f->worker_yolo, "WORKER_YOLO=true");
    cmd->add_option("--secret", f->secrets, "KEY=VALUE for the sandbox's env (repeatable)");
    cmd->add_option("--env-file", f->env_files, "a dotenv file for the sandbox's env (repeatable)");
    cmd->add_option("--inherit-env", f->inherit_env,
                    "K[,K]: forward these variables of this environment too (repeatable)");
    cmd->add_option("--metadata", f->metadata, "KEY=VALUE sandbox metadata (repeatable)");
    cmd->add_option("--worker-template", f->worker_template, "the worker template");
    cmd->add_option("--template", f->template_name, "the template (default agent-swarm-worker)");
    cmd->add_option("--timeout-sec", f->timeout_sec, "sandbox TTL in seconds (default 3600)");
    cmd->add_option("--wait-ms", f->wait_ms, "how long to wait for registration (default 90000)");
    cmd->add_flag("--no-wait", f->no_wait, "return once the worker has started");
    cmd->add_option("--cpu-count", f->cpu_count, "CPUs (sandboxd; E2B takes the template's)");
    cmd->add_option("--memory-mb", f->memory_mb, "memory (sandboxd; E2B takes the template's)");
    AddCommonFlags(cmd, *common, /*dry_run=*/true);
    cmd->callback(
        [=] { Guard(*env, *common, [&](Printer& p) { StartWorker(*env, *common, *f, p); }); });
  }
  {
    auto common = std::make_shared<CommonFlags>();
    auto* cmd = e2b->add_subcommand("list", "list the sandboxes agent-swarm launched");
    AddCommonFlags(cmd, *common, /*dry_run=*/false);
    cmd->callback([=] { Guard(*env, *common, [&](Printer& p) { List(*env, *common, p); }); });
  }
  {
    auto common = std::make_shared<CommonFlags>();
    auto ids = std::make_shared<std::vector<std::string>>();
    auto all = std::make_shared<bool>(false);
    auto yes = std::make_shared<bool>(false);
    auto* cmd = e2b->add_subcommand("kill", "kill sandboxes by id, or all agent-swarm launched");
    cmd->add_option("id", *ids, "sandbox ids");
    cmd->add_flag("--all", *all, "every sandbox with launcher=agent-swarm-e2b");
    cmd->add_flag("--yes", *yes, "do not ask before --all on a terminal");
    AddCommonFlags(cmd, *common, /*dry_run=*/true);
    cmd->callback([=] {
      Guard(*env, *common, [&](Printer& p) { Kill(*env, *common, *ids, *all, *yes, p); });
    });
  }
  {
    auto common = std::make_shared<CommonFlags>();
    auto ids = std::make_shared<std::vector<std::string>>();
    auto timeout = std::make_shared<int>(0);
    auto* cmd = e2b->add_subcommand("extend", "set sandboxes' TTL, counted from now");
    cmd->add_option("id", *ids, "sandbox ids")->required();
    cmd->add_option("--timeout-sec", *timeout, "the new TTL in seconds")->required();
    AddCommonFlags(cmd, *common, /*dry_run=*/true);
    cmd->callback([=] {
      Guard(*env, *common, [&](Printer& p) { Extend(*env, *common, *ids, *timeout, p); });
    });
  }
}

int ExitStatusForParseError(CLI::App& app, const CLI::ParseError& error) {
  const int status = app.exit(error);
  if (status == 0 || error.get_name() == "RuntimeError") return status;
  const auto subcommands = app.get_subcommands();
  // The commands whose contract says "2 for bad usage" (the seed's e2b, and smoke).
  const bool usage_is_2 = std::any_of(
      subcommands.begin(), subcommands.end(),
      [](const CLI::App* sub) { return sub->get_name() == "e2b" || sub->get_name() == "smoke"; });
  return usage_is_2 ? kE2bUsage : status;
}

int RunCommandLine(std::vector<std::string> args,
                   const std::function<void(CLI::App&)>& add_commands) {
  CLI::App app{"agent-swarm"};
  app.require_subcommand(1);
  add_commands(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector last argument first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return ExitStatusForParseError(app, e);
  }
  return 0;
}

int RunE2bCommandLine(std::vector<std::string> args, std::shared_ptr<E2bEnvironment> env) {
  return RunCommandLine(std::move(args), [&](CLI::App& app) { AddE2bCommand(app, env); });
}

}  // namespace swarm
