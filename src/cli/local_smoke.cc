#include "cli/local_smoke.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>

#include <fmt/format.h>

#include "core/redact.h"
#include "core/role_process.h"
#include "http/client.h"
#include "sandbox/e2b_client.h"
#include "sandbox/e2b_config.h"
#include "sandbox/template_client.h"
#include "sandbox/worker_entrypoint.h"

namespace swarm {
namespace {

// stub-llm's script for --stub-model (see stub_llm/script.h): the seed's task is finished through
// MCP; the task id comes from the worker's prompt ("Task ID: <id>").
constexpr const char* kStubModelScript = R"({
  "rules": [
    {"match": "Reply with exactly: pong",
     "mcp": {"tool": "store-progress",
             "arguments": {"taskId": "{{taskId}}", "status": "completed",
                           "output": {"reply": "pong"}}}}
  ]
}
)";

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr char kDefaultTemplate[] = "agent-swarm-worker";
constexpr char kFallbackPath[] = "/usr/local/bin:/usr/bin:/bin";
// The API stops its runs on SIGTERM and waits (its shutdown grace, 10 s by default) for their
// sandboxes to be killed; this leaves room for that before SIGKILL.
constexpr seconds kApiStopGrace{30};

std::string Url(uint16_t port) { return fmt::format("http://127.0.0.1:{}", port); }

bool Stopped(const std::atomic<bool>* stop) { return stop && stop->load(); }

// A private work directory: mkdtemp under $TMPDIR (else /tmp).
Result<std::string> MakeWorkDir(const EnvMap& process_env) {
  auto tmp = process_env.find("TMPDIR");
  std::string pattern = (tmp != process_env.end() && !tmp->second.empty() ? tmp->second : "/tmp");
  pattern += "/agent-swarm-smoke-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    return Internal(fmt::format("cannot create a work directory under {}: {}",
                                fs::path(pattern).parent_path().string(), std::strerror(errno)));
  }
  // Run as root, the worker runs each CLI as an unprivileged user, who must be able to pass
  // through here to its task directory (but not list what is here).
  ::chmod(pattern.c_str(), 0711);
  return pattern;
}

// Everything started for the run, stopped in reverse order of need: the API first (its
// runner kills the run's sandboxes), then the check of sandboxd, then sandboxd and stub-llm.
struct LocalStack {
  std::string work_dir;
  std::string sandboxd_key;
  std::unique_ptr<RoleProcess> sandboxd;
  std::unique_ptr<RoleProcess> stub_llm;
  std::unique_ptr<RoleProcess> api;
};

sandbox::StringMap SandboxdClientEnv(const std::string& url, const std::string& key) {
  return {{"E2B_API_URL", url}, {"E2B_SANDBOX_URL", url}, {"E2B_API_KEY", key}};
}

Result<std::unique_ptr<RoleProcess>> StartRole(const std::string& self, const std::string& name,
                                               std::vector<std::string> args, EnvMap env,
                                               const std::string& work_dir, std::ostream& err) {
  RoleProcessSpec spec;
  spec.executable = self;
  spec.args = std::move(args);
  spec.env = std::move(env);
  spec.log_path = work_dir + "/" + name + ".log";
  // A terminal's Ctrl-C goes to its whole foreground process group; out of it, the children
  // are stopped by this command in order (the API before sandboxd) instead of all at once.
  spec.own_process_group = true;
  auto child = RoleProcess::Start(spec);
  if (!child) return tl::unexpected(child.error());
  err << fmt::format("== {} on {} (log {})\n", name, Url((*child)->port()), spec.log_path);
  return child;
}

// Asks sandboxd what still runs, kills it, and says so. The number of sandboxes found.
Result<std::size_t> CheckNoSandboxLeft(const std::string& sandboxd_url, const std::string& key,
                                       std::ostream& err) {
  sandbox::E2bSandboxProvider sandboxes(
      sandbox::E2bConfig::FromEnv(SandboxdClientEnv(sandboxd_url, key)),
      std::make_unique<http::CurlHttpClient>());
  auto left = sandboxes.List({});
  if (!left) return tl::unexpected(left.error());
  err << fmt::format("== sandboxd: {} sandbox(es) left\n", left->size());
  for (const auto& info : *left) {
    auto killed = sandboxes.Kill(info.id());
    err << fmt::format("   {} (template {}): {}\n", info.id(), info.template_id,
                       killed ? "killed now" : "kill failed: " + killed.error().message);
  }
  return left->size();
}

}  // namespace

EnvMap BaseChildEnv(const EnvMap& process_env) {
  EnvMap env;
  for (const char* name : {"PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "LANG", "LC_ALL"}) {
    if (auto it = process_env.find(name); it != process_env.end()) env[name] = it->second;
  }
  if (!env.count("PATH")) env["PATH"] = kFallbackPath;
  return env;
}

std::optional<std::string> HarnessBinDir(const EnvMap& process_env, const std::string& self_exe) {
  if (auto it = process_env.find("HARNESS_BIN_DIR"); it != process_env.end() && !it->second.empty())
    return it->second;
  const fs::path repo = fs::path(self_exe).parent_path().parent_path();
  const fs::path bin_dir = repo / ".harnesses" / "node_modules" / ".bin";
  std::error_code ec;
  if (repo.empty() || !fs::is_directory(bin_dir, ec)) return std::nullopt;
  return bin_dir.string();
}

LocalApiPlan PlanLocalApi(const EnvMap& process_env, const std::string& self_exe,
                          const std::string& work_dir, const std::string& api_key,
                          const std::string& sandboxd_url, const std::string& sandboxd_key,
                          const std::string& template_id, bool stub_model) {
  LocalApiPlan plan;
  plan.env = BaseChildEnv(process_env);
  plan.env["AGENT_SWARM_API_KEY"] = api_key;
  for (auto& [name, value] : SandboxdClientEnv(sandboxd_url, sandboxd_key)) plan.env[name] = value;
  if (stub_model) {
    // The runner's preflight wants a credential per provider; stub-llm accepts any key.
    plan.env["ANTHROPIC_API_KEY"] = "sk-ant-stub-model-unused";
    plan.env["OPENAI_API_KEY"] = "sk-stub-model-unused";
  } else {
    for (const char* name : kPassedCredentialVars) {
      if (auto it = process_env.find(name); it != process_env.end() && !it->second.empty())
        plan.env[name] = it->second;
    }
  }
  // Not secret, and the same binary: a stamped build stays stamped in the API and in the
  // workers alike, so their versions agree.
  std::vector<std::string> worker_env = {"AGENT_SWARM_BIN=" + self_exe, "PATH=" + plan.env["PATH"]};
  if (auto dir = HarnessBinDir(process_env, self_exe))
    worker_env.push_back("HARNESS_BIN_DIR=" + *dir);
  if (auto it = process_env.find("AGENT_SWARM_BUILD_SHA"); it != process_env.end()) {
    plan.env["AGENT_SWARM_BUILD_SHA"] = it->second;
    worker_env.push_back("AGENT_SWARM_BUILD_SHA=" + it->second);
  }
  plan.args = {
      "api", "--port",           "0",        "--db", work_dir + "/swarm.sqlite", "--smoke-backend",
      "e2b", "--smoke-template", template_id};
  for (const auto& entry : worker_env) {
    plan.args.push_back("--smoke-worker-env");
    plan.args.push_back(entry);
  }
  return plan;
}

std::string RandomLocalKey(const std::string& prefix) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device random;  // the OS's generator (getrandom) on Linux
  std::string key = prefix + "-";
  for (int i = 0; i < 32; ++i) key.push_back(kHex[random() % 16]);
  return key;
}

int RunLocalSmoke(const SmokeFlags& flags, const EnvMap& process_env, const std::atomic<bool>* stop,
                  std::ostream& err,
                  const std::function<int(const std::string& api_url, const std::string& api_key,
                                          const std::optional<std::string>& model_base_url)>& run) {
  auto self = SelfExecutable();
  if (!self) {
    err << "error: " << self.error().message << "\n";
    return kSmokeFailed;
  }
  auto work_dir = MakeWorkDir(process_env);
  if (!work_dir) {
    err << "error: " << work_dir.error().message << "\n";
    return kSmokeFailed;
  }
  const std::string template_id = flags.template_id.empty() ? kDefaultTemplate : flags.template_id;
  LocalStack stack;
  stack.work_dir = *work_dir;
  stack.sandboxd_key = RandomLocalKey("sandboxd");
  const std::string api_key = RandomLocalKey("swarm");
  RegisterSecret(stack.sandboxd_key);
  RegisterSecret(api_key);

  int status = kSmokeFailed;
  std::string sandboxd_url;
  auto fail = [&](const std::string& what, const Error& error) {
    err << "error: " << what << ": " << Redact(error.message) << "\n";
    status = kSmokeFailed;
  };
  [&] {
    EnvMap sandboxd_env = BaseChildEnv(process_env);
    sandboxd_env["SANDBOXD_API_KEY"] = stack.sandboxd_key;
    auto sandboxd = StartRole(*self, "sandboxd",
                              {"sandboxd", "--port", "0", "--root", stack.work_dir + "/sandboxd"},
                              std::move(sandboxd_env), stack.work_dir, err);
    if (!sandboxd) return fail("starting sandboxd", sandboxd.error());
    stack.sandboxd = std::move(*sandboxd);
    sandboxd_url = Url(stack.sandboxd->port());

    std::optional<std::string> model_base_url;
    if (flags.stub_model) {
      // The model does what the swarm's prompt asks of a real one: it finishes the seed's task
      // by calling the swarm's MCP tool store-progress (whatever name each CLI gives it), then
      // replies the same JSON, which the worker's /finish safety net would send otherwise.
      const std::string script_path = stack.work_dir + "/stub-llm-script.json";
      {
        std::ofstream script(script_path);
        script << kStubModelScript;
        if (!script) {
          return fail("writing the stub model's script",
                      Error{ErrorCode::kInternal, "cannot write " + script_path});
        }
      }
      auto stub = StartRole(
          *self, "stub-llm",
          {"stub-llm", "--port", "0", "--reply", R"({"reply":"pong"})", "--script", script_path},
          BaseChildEnv(process_env), stack.work_dir, err);
      if (!stub) return fail("starting stub-llm", stub.error());
      stack.stub_llm = std::move(*stub);
      model_base_url = Url(stack.stub_llm->port());
    }
    if (Stopped(stop)) return;

    sandbox::E2bTemplateService templates(
        sandbox::E2bConfig::FromEnv(SandboxdClientEnv(sandboxd_url, stack.sandboxd_key)),
        std::make_unique<http::CurlHttpClient>());
    std::ofstream build_log(stack.work_dir + "/template.log");
    auto built = templates.Build(
        sandbox::LocalWorkerTemplate(template_id),
        [&](const sandbox::BuildLogEntry& entry) { build_log << Redact(entry.message) << "\n"; });
    if (!built) return fail("building the worker template " + template_id, built.error());
    err << fmt::format("== worker template {} built in sandboxd\n", template_id);
    if (Stopped(stop)) return;

    auto plan = PlanLocalApi(process_env, *self, stack.work_dir, api_key, sandboxd_url,
                             stack.sandboxd_key, template_id, flags.stub_model);
    for (const auto& [name, value] : plan.env) {
      if (name.find("API_KEY") != std::string::npos) RegisterSecret(value);
    }
    auto api = StartRole(*self, "api", plan.args, plan.env, stack.work_dir, err);
    if (!api) return fail("starting the API", api.error());
    stack.api = std::move(*api);

    status = run(Url(stack.api->port()), api_key, model_base_url);
  }();
  if (Stopped(stop)) err << "== stopping: a signal asked for it\n";

  if (stack.api) {
    const int api_status = stack.api->Stop(kApiStopGrace);
    if (api_status != 0) {
      err << fmt::format("warning: the API exited with status {} (log {})\n", api_status,
                         stack.api->log_path());
    }
  }
  if (stack.sandboxd) {
    auto left = CheckNoSandboxLeft(sandboxd_url, stack.sandboxd_key, err);
    if (!left) {
      fail("listing sandboxd's sandboxes", left.error());
    } else if (*left > 0) {
      status = kSmokeFailed;
    }
  }
  if (stack.stub_llm) stack.stub_llm->Stop();
  if (stack.sandboxd) stack.sandboxd->Stop();
  if (status == kSmokePassed) {
    std::error_code ec;
    fs::remove_all(stack.work_dir, ec);
  } else {
    err << "== logs kept in " << stack.work_dir << "\n";
  }
  return status;
}

}  // namespace swarm
