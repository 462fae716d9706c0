#include "smoke/smoke_runner.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/query.h"
#include "sandbox/worker_launch.h"

namespace swarm::smoke {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr char kApiUrl[] = "http://api.test:3013";
constexpr char kApiKey[] = "swarm-key-0123456789";
constexpr char kApiVersion[] = "0.1.0+abc123";
constexpr char kRunId[] = "0190a5f2-1c3d-7e4f-9a8b-0123456789ab";
constexpr char kRunSuffix[] = "e4f9a8b0";  // the random part's first 8, after "0190a5f21c3d7"
constexpr char kAnthropicKey[] = "sk-ant-host-0123456789";
constexpr char kOpenAiKey[] = "sk-openai-host-0123456789";

std::string AgentId(const std::string& provider) {
  return fmt::format("smoke-{}-sha1-{}", provider, kRunSuffix);
}

// How the fake swarm behaves for one provider's worker and task.
struct Script {
  bool registers = true;  // the agent appears once its entrypoint starts
  std::optional<std::string> version = kApiVersion;
  std::optional<std::string> cli_version = "2.0.1 (Claude Code)";
  bool cli_version_late = false;  // reported after registration: absent from the first GET
  // kSuperseded: the API's crash recovery (a resume child, `<id>-resume`, left in the pool).
  enum class Outcome { kComplete, kFail, kHang, kSuperseded } outcome = Outcome::kComplete;
  int polls_to_finish = 2;      // GETs of the task before it is terminal
  int tasks_before_finish = 0;  // tasks that must exist before it finishes (overlap)
  std::string output = R"({"reply":"pong"})";
  std::string failure_reason;
  std::string session_id = "sess-1";
  int log_lines = 3;
  int reports_late_by = 0;
  std::string via = "finish";  // the `via` of the task's terminal status-change log  // reads of
                               // the session logs that find none yet (MCP finished first)
  std::optional<double> cost = 0.0123;
  std::string cost_source = "harness";
  // kSuperseded: the task_superseded log's metadata, as the API would write it when empty.
  std::optional<std::string> superseded_metadata;
};

// The swarm API as the runner sees it through http::HttpClient; thread-safe, as the runner's
// client must be.
class FakeApi : public http::HttpClient {
 public:
  std::map<std::string, Script> scripts;  // by provider; set before the run

  void Register(const std::string& agent_id) {
    std::lock_guard lock(mu_);
    registered_.insert(agent_id);
  }
  std::vector<json> created_tasks() const {
    std::lock_guard lock(mu_);
    return created_;
  }
  std::vector<std::string> cancelled() const {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  bool saw_wrong_key() const {
    std::lock_guard lock(mu_);
    return wrong_key_;
  }

  Result<http::ClientResponse> Send(const http::ClientRequest& request) override {
    std::lock_guard lock(mu_);
    const std::string prefix = kApiUrl;
    if (!request.url.starts_with(prefix)) return Unavailable("unexpected host: " + request.url);
    std::string path = request.url.substr(prefix.size());
    std::string query;
    if (auto q = path.find('?'); q != std::string::npos) {
      query = path.substr(q + 1);
      path.resize(q);
    }
    const bool authorized =
        std::any_of(request.headers.begin(), request.headers.end(), [](const auto& h) {
          return h.first == "Authorization" && h.second == std::string("Bearer ") + kApiKey;
        });
    if (!authorized) {
      wrong_key_ = true;
      return Reply(401, {{"error", "unauthorized"}});
    }
    const auto params = http::QueryParams::Parse(query);
    const std::string method = request.method;
    if (method == "GET" && path.starts_with("/api/agents/")) {
      const std::string id = http::QueryUnescape(path.substr(12));
      if (!registered_.count(id)) return Reply(404, {{"error", "agent not found"}});
      const Script& s = ScriptOf(id);
      json agent = {{"id", id}, {"status", "idle"}};
      if (s.version) agent["version"] = *s.version;
      const bool too_early = s.cli_version_late && agent_gets_[id]++ == 0;
      if (s.cli_version && !too_early) agent["cliVersion"] = *s.cli_version;
      return Reply(200, agent);
    }
    if (method == "POST" && path == "/api/tasks") {
      json body = json::parse(request.body);
      created_.push_back(body);
      const std::string id = fmt::format("task-{}", created_.size());
      tasks_[id] = {
          {"id", id}, {"agentId", body["agentId"]}, {"status", "pending"}, {"task", body["task"]}};
      polls_[id] = 0;
      return Reply(201, tasks_[id]);
    }
    if (path == "/api/session-costs") {
      const std::string id = params.Get("taskId").value_or("");
      const Script& s = ScriptOf(tasks_.at(id)["agentId"]);
      json rows = json::array();
      if (s.cost) {
        rows.push_back(
            {{"totalCostUsd", *s.cost}, {"costSource", s.cost_source}, {"durationMs", 700}});
      }
      return Reply(200, {{"costs", rows}});
    }
    if (!path.starts_with("/api/tasks/")) return Reply(404, {{"error", "no route " + path}});
    std::string rest = path.substr(11);
    const auto slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string tail = slash == std::string::npos ? "" : rest.substr(slash);
    if (!tasks_.count(id)) return Reply(404, {{"error", "task not found"}});
    json& task = tasks_[id];
    const Script& s = ScriptOf(task["agentId"]);
    if (method == "GET" && tail.empty()) {
      Advance(task, s, ++polls_[id]);
      return Reply(200, task);
    }
    if (method == "POST" && tail == "/cancel") {
      cancelled_.push_back(id);
      task["status"] = "cancelled";
      task["failureReason"] = json::parse(request.body).value("reason", "");
      return Reply(200, {{"success", true}, {"task", task}});
    }
    if (method == "GET" && tail == "/session-logs") {
      // limit=1: waiting for the first line; 1000: counting them for the report.
      const std::string limit = params.Get("limit").value_or("");
      EXPECT_TRUE(limit == "1" || limit == "1000") << limit;
      json logs = json::array();
      const int lines = s.reports_late_by > session_log_gets_[id]++ ? 0 : s.log_lines;
      for (int i = 0; i < lines; ++i) logs.push_back({{"lineNumber", i}});
      return Reply(200, {{"logs", logs}});
    }
    return Reply(404, {{"error", "no route " + path}});
  }

 private:
  static Result<http::ClientResponse> Reply(int status, const json& body) {
    http::ClientResponse r;
    r.status = status;
    r.body = body.dump();
    return r;
  }

  const Script& ScriptOf(const std::string& agent_id) const {
    for (const auto& [provider, script] : scripts) {
      if (agent_id.starts_with("smoke-" + provider + "-")) return script;
    }
    throw std::logic_error("no script for " + agent_id);
  }

  void Advance(json& task, const Script& s, int polls) {
    if (task["status"] != "pending" && task["status"] != "in_progress") return;
    task["status"] = "in_progress";
    if (s.outcome == Script::Outcome::kHang || polls < s.polls_to_finish) return;
    if (static_cast<int>(created_.size()) < s.tasks_before_finish) return;
    if (!s.session_id.empty()) task["claudeSessionId"] = s.session_id;
    if (s.outcome == Script::Outcome::kSuperseded) {
      task["status"] = "superseded";
      const std::string child = task["id"].get<std::string>() + "-resume";
      tasks_[child] = {{"id", child},
                       {"agentId", task["agentId"]},
                       {"status", "unassigned"},
                       {"parentTaskId", task["id"]}};
      task["logs"] = json::array(
          {{{"eventType", "task_superseded"},
            {"metadata",
             s.superseded_metadata.value_or(
                 json({{"reason", "crash_recovery"}, {"resumeTaskId", child}}).dump())}}});
      return;
    }
    if (s.outcome == Script::Outcome::kFail) {
      task["status"] = "failed";
      task["failureReason"] = s.failure_reason;
      return;
    }
    task["status"] = "completed";
    if (!s.output.empty()) task["output"] = s.output;
    task["logs"] = json::array({{{"eventType", "task_status_change"},
                                 {"newValue", "completed"},
                                 {"metadata", json({{"via", s.via}}).dump()}}});
  }

  mutable std::mutex mu_;
  std::set<std::string> registered_;
  std::vector<json> created_;
  std::map<std::string, json> tasks_;
  std::map<std::string, int> polls_;
  std::map<std::string, int> agent_gets_;
  std::map<std::string, int> session_log_gets_;
  std::vector<std::string> cancelled_;
  bool wrong_key_ = false;
};

// Sandboxes in memory, thread-safe, with per-provider faults (told by HARNESS_PROVIDER).
class FakeSandboxes : public sandbox::SandboxProvider {
 public:
  explicit FakeSandboxes(FakeApi& api) : api_(api) {}

  // Faults, by provider; set before the run.
  std::map<std::string, Error> create_error;
  std::set<std::string> exits_at_once;  // the entrypoint dies at once
  std::set<std::string> start_throws;
  std::set<std::string> kill_fails;
  std::string worker_log = "boot\n";

  std::vector<sandbox::SandboxSpec> created() const {
    std::lock_guard lock(mu_);
    return created_;
  }
  std::vector<std::string> killed() const {
    std::lock_guard lock(mu_);
    return killed_;
  }
  std::vector<sandbox::CommandSpec> started() const {
    std::lock_guard lock(mu_);
    return started_;
  }
  std::set<std::string> live() const {
    std::lock_guard lock(mu_);
    std::set<std::string> out;
    for (const auto& [id, provider] : provider_of_) out.insert(id);
    return out;
  }
  const sandbox::SandboxSpec* SpecFor(const std::string& provider) const {
    std::lock_guard lock(mu_);
    for (const auto& spec : created_) {
      if (spec.env_vars.at("HARNESS_PROVIDER") == provider) return &spec;
    }
    return nullptr;
  }

  Result<sandbox::SandboxInfo> Create(const sandbox::SandboxSpec& spec) override {
    const std::string provider = spec.env_vars.at("HARNESS_PROVIDER");
    std::lock_guard lock(mu_);
    if (auto it = create_error.find(provider); it != create_error.end()) {
      return tl::unexpected(it->second);
    }
    created_.push_back(spec);
    sandbox::SandboxInfo info;
    info.handle.sandbox_id = fmt::format("sbx-{}", ++next_);
    info.handle.envd_access_token = "envd-token-secret";
    info.template_id = spec.template_id;
    info.metadata = spec.metadata;
    info.state = "running";
    provider_of_[info.id()] = provider;
    return info;
  }
  Result<sandbox::SandboxInfo> Get(std::string_view) override { return NotFound("unused"); }
  Result<std::vector<sandbox::SandboxInfo>> List(const sandbox::StringMap&) override {
    return NotFound("unused");
  }
  Result<bool> Kill(std::string_view id) override {
    std::lock_guard lock(mu_);
    killed_.emplace_back(id);
    auto it = provider_of_.find(std::string(id));
    if (it == provider_of_.end()) return false;
    if (kill_fails.count(it->second)) return Unavailable("sandboxd 503: busy");
    provider_of_.erase(it);
    return true;
  }
  Result<void> SetTimeout(std::string_view, std::chrono::seconds) override { return {}; }
  Result<sandbox::SandboxInfo> Connect(std::string_view, std::chrono::seconds) override {
    return NotFound("unused");
  }
  Result<sandbox::CommandResult> Run(const sandbox::SandboxHandle&, const sandbox::CommandSpec&,
                                     const sandbox::OutputCallbacks&) override {
    return Internal("unused");
  }
  Result<int> StartBackground(const sandbox::SandboxHandle& handle,
                              const sandbox::CommandSpec& command) override {
    const std::string provider = command.envs.at("HARNESS_PROVIDER");
    if (start_throws.count(provider)) throw std::runtime_error("envd client exploded");
    {
      std::lock_guard lock(mu_);
      started_.push_back(command);
      if (exits_at_once.count(provider)) dead_.insert(handle.sandbox_id);
    }
    const auto it = api_.scripts.find(provider);
    if (it != api_.scripts.end() && it->second.registers && !exits_at_once.count(provider)) {
      api_.Register(command.envs.at("AGENT_ID"));
    }
    return 42;
  }
  Result<std::vector<sandbox::ProcessInfo>> ListProcesses(
      const sandbox::SandboxHandle& handle) override {
    std::lock_guard lock(mu_);
    if (dead_.count(handle.sandbox_id)) return std::vector<sandbox::ProcessInfo>{};
    return std::vector<sandbox::ProcessInfo>{{42, "/bin/bash", {}, "", "agent-swarm-worker"}};
  }
  Result<bool> SendSignal(const sandbox::SandboxHandle&, int, sandbox::Signal) override {
    return true;
  }
  Result<std::string> ReadFile(const sandbox::SandboxHandle&, std::string_view) override {
    std::lock_guard lock(mu_);
    return worker_log;
  }
  Result<void> WriteFile(const sandbox::SandboxHandle&, std::string_view,
                         std::string_view) override {
    return {};
  }

 private:
  FakeApi& api_;
  mutable std::mutex mu_;
  int next_ = 0;
  std::vector<sandbox::SandboxSpec> created_;
  std::vector<std::string> killed_;
  std::vector<sandbox::CommandSpec> started_;
  std::map<std::string, std::string> provider_of_;  // live sandboxes
  std::set<std::string> dead_;
};

class SmokeRunnerTest : public ::testing::Test {
 protected:
  SmokeRunnerTest() {
    env.api_version = kApiVersion;
    env.credentials = {{"ANTHROPIC_API_KEY", kAnthropicKey}, {"OPENAI_API_KEY", kOpenAiKey}};
    env.worker_env = {{"PATH", "/usr/bin:/bin"}, {"HARNESS_BIN_DIR", "/opt/harnesses/bin"}};
    options.poll_interval = milliseconds(5);
    options.startup_grace = milliseconds(10);
    options.registration_wait = milliseconds(3000);
    // Scripts without a cost row would otherwise wait the whole settle out.
    options.reports_settle = milliseconds(300);
    request.template_id = "agent-swarm-worker-sha1";
    request.api_url = std::string(kApiUrl) + "/";
    request.api_key = kApiKey;
    request.deployment_sha = "sha1";
    request.timeout_ms = 5000;
    request.sandbox_timeout_sec = 600;
  }

  std::vector<ProviderSmokeResult> Run(std::vector<std::string> providers) {
    request.providers = std::move(providers);
    for (const auto& p : request.providers) api.scripts.try_emplace(p);
    SmokeRunner runner(sandboxes, api, env, options);
    const auto start = Clock::now();
    auto results = runner.Run(
        request, kRunId,
        [this](const ProviderSmokeResult& r) {
          EXPECT_EQ(in_callback.fetch_add(1), 0) << "progress calls overlapped";
          std::this_thread::sleep_for(milliseconds(1));  // widen the window an overlap needs
          progress.push_back(r);
          if (on_progress) on_progress(r);
          in_callback.fetch_sub(1);
        },
        stop);
    wall = Clock::now() - start;
    return results;
  }

  // Every sandbox created was killed and none is left.
  void ExpectNoSandboxLeft() {
    EXPECT_TRUE(sandboxes.live().empty());
    const auto kills = sandboxes.killed();
    const std::set<std::string> killed(kills.begin(), kills.end());
    EXPECT_EQ(killed.size(), sandboxes.created().size());
  }

  const ProviderSmokeResult& LastProgress(const std::string& provider) {
    for (auto it = progress.rbegin(); it != progress.rend(); ++it) {
      if (it->provider == provider) return *it;
    }
    throw std::logic_error("no progress for " + provider);
  }

  FakeApi api;
  FakeSandboxes sandboxes{api};
  SmokeEnvironment env;
  SmokeRunnerOptions options;
  SmokeRequest request;
  std::atomic<bool> stop{false};
  std::atomic<int> in_callback{0};
  std::vector<ProviderSmokeResult> progress;
  std::function<void(const ProviderSmokeResult&)> on_progress;
  Clock::duration wall{};
};

TEST_F(SmokeRunnerTest, AllProvidersPassWithEverythingTheSeedChecks) {
  api.scripts["codex"].cost.reset();  // codex reports no cost: not required
  auto results = Run({"claude", "codex", "pi", "opencode"});
  ASSERT_EQ(results.size(), 4u);
  const std::vector<std::string> order = {"claude", "codex", "pi", "opencode"};
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    SCOPED_TRACE(r.provider);
    EXPECT_EQ(r.provider, order[i]);
    EXPECT_TRUE(r.ok) << r.failure_reason.value_or("");
    EXPECT_FALSE(r.failure_reason);
    EXPECT_EQ(r.phase, SmokePhase::kDone);
    EXPECT_EQ(r.agent_id, AgentId(r.provider));
    EXPECT_TRUE(r.sandbox_id.starts_with("sbx-"));
    EXPECT_TRUE(r.task_id);
    EXPECT_EQ(r.task_status, "completed");
    EXPECT_EQ(r.session_id, "sess-1");
    EXPECT_EQ(r.output, R"({"reply":"pong"})");
    EXPECT_EQ(r.log_lines, 3);
    EXPECT_EQ(r.worker_version, kApiVersion);
    EXPECT_EQ(r.cli_version, "2.0.1 (Claude Code)");
    EXPECT_TRUE(r.sandbox_killed);
    ASSERT_TRUE(r.timings.sandbox_created_ms && r.timings.worker_registered_ms &&
                r.timings.task_done_ms && r.timings.total_ms);
    EXPECT_LE(*r.timings.sandbox_created_ms, *r.timings.worker_registered_ms);
    EXPECT_LE(*r.timings.worker_registered_ms, *r.timings.task_done_ms);
    EXPECT_LE(*r.timings.task_done_ms, *r.timings.total_ms);
    // The last progress call is the final result.
    EXPECT_EQ(LastProgress(r.provider).phase, SmokePhase::kDone);
    EXPECT_EQ(LastProgress(r.provider).ok, true);
  }
  EXPECT_EQ(results[0].cost_usd, 0.0123);
  EXPECT_EQ(results[0].timings.cli_ms, 700);  // the CLI's run time, from its session cost
  EXPECT_FALSE(results[1].timings.cli_ms);    // codex: no session cost row here
  EXPECT_FALSE(results[1].cost_usd);
  // Every phase was reported, in order, for each provider.
  std::vector<SmokePhase> phases;
  for (const auto& p : progress) {
    if (p.provider == "pi" && (phases.empty() || phases.back() != p.phase)) {
      phases.push_back(p.phase);
    }
  }
  EXPECT_EQ(phases, (std::vector<SmokePhase>{SmokePhase::kQueued, SmokePhase::kCreatingSandbox,
                                             SmokePhase::kStartingWorker, SmokePhase::kRegistered,
                                             SmokePhase::kTaskRunning, SmokePhase::kCleaningUp,
                                             SmokePhase::kDone}));
  // The tasks the seed creates.
  const auto tasks = api.created_tasks();
  ASSERT_EQ(tasks.size(), 4u);
  for (const auto& t : tasks) {
    EXPECT_EQ(t["task"], "Reply with exactly: pong");
    EXPECT_EQ(t["source"], "api");
    EXPECT_EQ(t["outputSchema"], SmokeOutputSchema());
    EXPECT_EQ(t["tags"], json::array({"smoke", std::string("smoke-run:") + kRunId}));
  }
  EXPECT_TRUE(api.cancelled().empty());
  EXPECT_FALSE(api.saw_wrong_key());
  ExpectNoSandboxLeft();
}

// An agent that finished through MCP makes the task terminal before its worker has reported
// the session's lines and cost: the runner waits for them (within the settle) before judging.
TEST_F(SmokeRunnerTest, ReportsThatArriveAfterAnMcpFinishAreWaitedFor) {
  api.scripts["claude"].reports_late_by = 5;
  api.scripts["claude"].via = "mcp";
  auto results = Run({"claude"});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  EXPECT_EQ(results[0].log_lines, 3);
  EXPECT_EQ(results[0].finished_via, "mcp");
}

TEST_F(SmokeRunnerTest, ReportsThatNeverArriveFailOnceTheSettleIsOver) {
  api.scripts["claude"].reports_late_by = 1'000'000;
  const auto started = std::chrono::steady_clock::now();
  auto results = Run({"claude"});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].failure_reason.value_or("").find("no session logs were recorded"),
            std::string::npos)
      << results[0].failure_reason.value_or("");
  EXPECT_EQ(results[0].finished_via, "finish");
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            std::chrono::seconds(4));  // the 300 ms settle
}

TEST_F(SmokeRunnerTest, TheSandboxGetsTheSeedsRuntimeEnvAndMetadataExactly) {
  env.worker_env["AGENT_ID"] = "not-this-one";
  env.worker_env["MAX_CONCURRENT_TASKS"] = "8";
  env.credentials["ANTHROPIC_BASE_URL"] = "https://anthropic.proxy.example";
  env.credentials["OPENROUTER_API_KEY"] = "sk-or-host-0123456789";
  env.credentials["GITHUB_TOKEN"] = "ghp_host_0123456789";  // not a model credential
  request.secrets["claude"] = {{"ANTHROPIC_API_KEY", "sk-ant-request-0123456789"},
                               {"EXTRA_TOKEN", "extra-secret-value"}};
  request.secrets["codex"] = {{"OPENAI_API_KEY", "sk-openai-codex-only"}};
  auto results = Run({"claude"});
  ASSERT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  const auto* spec = sandboxes.SpecFor("claude");
  ASSERT_NE(spec, nullptr);
  const sandbox::StringMap expected_env = {
      {"PATH", "/usr/bin:/bin"},
      {"HARNESS_BIN_DIR", "/opt/harnesses/bin"},
      {"ANTHROPIC_API_KEY", "sk-ant-request-0123456789"},  // the request's over the host's
      {"ANTHROPIC_BASE_URL", "https://anthropic.proxy.example"},
      {"EXTRA_TOKEN", "extra-secret-value"},
      {"MCP_BASE_URL", kApiUrl},
      {"AGENT_SWARM_API_KEY", kApiKey},
      {"API_KEY", kApiKey},
      {"AGENT_ROLE", "worker"},
      {"AGENT_ID", AgentId("claude")},
      {"HARNESS_PROVIDER", "claude"},
      {"MAX_CONCURRENT_TASKS", "1"},
      {"WORKER_YOLO", "true"},
      {"SLACK_DISABLE", "true"},
      {"GITHUB_DISABLE", "true"},
      {"WORKER_LOG_DIR", "/logs"},  // the shared launcher's, as `e2b start-worker` sets them
      {"LEAD_LOG_DIR", "/logs"}};
  EXPECT_EQ(spec->env_vars, expected_env);
  const sandbox::StringMap expected_metadata = {
      {"app", "agent-swarm"},         {"role", "worker"},     {"launcher", "agent-swarm-e2b"},
      {"agentId", AgentId("claude")}, {"smokeRunId", kRunId}, {"smokeProvider", "claude"}};
  EXPECT_EQ(spec->metadata, expected_metadata);
  EXPECT_EQ(spec->template_id, "agent-swarm-worker-sha1");
  EXPECT_EQ(spec->timeout, std::chrono::seconds(600));
  EXPECT_TRUE(spec->secure);
  ASSERT_EQ(sandboxes.started().size(), 1u);
  EXPECT_EQ(sandboxes.started()[0].envs, expected_env);
  EXPECT_EQ(sandboxes.started()[0].cmd, sandbox::WorkerCommandLine());
}

TEST_F(SmokeRunnerTest, AModelBaseUrlPointsEveryCliAtIt) {
  env.credentials["ANTHROPIC_BASE_URL"] = "https://anthropic.proxy.example";
  request.model_base_url = "http://127.0.0.1:8765/";
  auto results = Run({"pi"});
  ASSERT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  const auto& vars = sandboxes.SpecFor("pi")->env_vars;
  EXPECT_EQ(vars.at("ANTHROPIC_BASE_URL"), "http://127.0.0.1:8765");
  EXPECT_EQ(vars.at("OPENAI_BASE_URL"), "http://127.0.0.1:8765/v1");
  EXPECT_EQ(vars.at("OPENROUTER_BASE_URL"), "http://127.0.0.1:8765/v1");
  // pi may use any model credential: the host's are all passed.
  EXPECT_EQ(vars.at("ANTHROPIC_API_KEY"), kAnthropicKey);
  EXPECT_EQ(vars.at("OPENAI_API_KEY"), kOpenAiKey);
}

TEST_F(SmokeRunnerTest, ACliVersionReportedAfterRegistrationIsPickedUp) {
  api.scripts["pi"].cli_version = "0.73.1";
  api.scripts["pi"].cli_version_late = true;
  auto results = Run({"pi"});
  ASSERT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  EXPECT_EQ(results[0].cli_version, "0.73.1");
}

TEST_F(SmokeRunnerTest, AProvidersSecretsWinOverTheRunsModelBaseUrl) {
  request.model_base_url = "http://127.0.0.1:8765";
  request.secrets["claude"] = {{"ANTHROPIC_BASE_URL", "http://127.0.0.1:9999"}};
  auto results = Run({"claude", "pi"});
  ASSERT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  EXPECT_EQ(sandboxes.SpecFor("claude")->env_vars.at("ANTHROPIC_BASE_URL"),
            "http://127.0.0.1:9999");
  EXPECT_EQ(sandboxes.SpecFor("pi")->env_vars.at("ANTHROPIC_BASE_URL"), "http://127.0.0.1:8765");
}

TEST_F(SmokeRunnerTest, AMissingCredentialFailsAtOnceWithoutASandbox) {
  env.credentials.erase("OPENAI_API_KEY");
  request.secrets["codex"] = {{"OPENAI_API_KEY", ""}};  // empty is missing
  auto results = Run({"claude", "codex"});
  EXPECT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  const auto& r = results[1];
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_reason,
            "missing credential: codex needs OPENAI_API_KEY (in the run's secrets for codex or "
            "the runner's environment); no sandbox was created");
  EXPECT_TRUE(r.sandbox_id.empty());
  EXPECT_FALSE(r.sandbox_killed);
  EXPECT_FALSE(r.task_id);
  EXPECT_EQ(r.phase, SmokePhase::kDone);
  EXPECT_EQ(sandboxes.SpecFor("codex"), nullptr);
  EXPECT_EQ(sandboxes.created().size(), 1u);
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, ACredentialFromTheRequestAloneIsEnough) {
  env.credentials.clear();
  request.secrets["opencode"] = {{"OPENROUTER_API_KEY", "sk-or-request-0123456789"}};
  auto results = Run({"opencode", "pi"});
  EXPECT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  EXPECT_NE(results[1].failure_reason->find(
                "pi needs one of ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENROUTER_API_KEY"),
            std::string::npos)
      << *results[1].failure_reason;
}

TEST_F(SmokeRunnerTest, AWrongReplyCarriesTheTasksReasonScrubbed) {
  api.scripts["pi"].outcome = Script::Outcome::kFail;
  api.scripts["pi"].output.clear();
  api.scripts["pi"].failure_reason =
      std::string("output does not match the outputSchema: /reply must be \"pong\" (key ") +
      kApiKey + ", " + kOpenAiKey + ")";
  auto results = Run({"claude", "pi"});
  EXPECT_TRUE(results[0].ok);
  const auto& r = results[1];
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.task_status, "failed");
  EXPECT_EQ(r.failure_reason,
            "output does not match the outputSchema: /reply must be \"pong\" (key [REDACTED], "
            "[REDACTED])");
  EXPECT_EQ(r.session_id, "sess-1");  // what was known is still reported
  EXPECT_EQ(r.log_lines, 3);
  EXPECT_TRUE(r.sandbox_killed);
  ExpectNoSandboxLeft();
}

// The worker died holding the task and the API superseded it: the provider fails saying so,
// and the resume child is cancelled, not left in the pool for another worker.
TEST_F(SmokeRunnerTest, ASupersededTaskFailsTheProviderAndItsResumeChildIsCancelled) {
  api.scripts["pi"].outcome = Script::Outcome::kSuperseded;
  auto results = Run({"claude", "pi"});
  EXPECT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  const auto& r = results[1];
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.task_status, "superseded");
  ASSERT_TRUE(r.failure_reason);
  const std::string child = *r.task_id + "-resume";
  EXPECT_EQ(*r.failure_reason,
            "the worker lost the task: the API superseded it (crash_recovery), as it does when a "
            "worker dies or hands a task back; its resume task " +
                child + " was cancelled");
  const auto cancelled = api.cancelled();
  EXPECT_NE(std::find(cancelled.begin(), cancelled.end(), child), cancelled.end());
  EXPECT_TRUE(r.sandbox_killed);
  ExpectNoSandboxLeft();
}

// The API's log of the supersede is unreadable (cut off, nested past the bound): the provider
// still fails saying its worker lost the task, and nothing is cancelled blindly.
TEST_F(SmokeRunnerTest, ASupersededTaskWithUnreadableLogsStillFailsClearly) {
  for (const std::string& metadata :
       {std::string(R"({"reason":"crash_recov)"), std::string(200, '[') + std::string(200, ']'),
        std::string(R"(["crash_recovery"])")}) {
    api.scripts["codex"].outcome = Script::Outcome::kSuperseded;
    api.scripts["codex"].superseded_metadata = metadata;
    auto results = Run({"codex"});
    ASSERT_TRUE(results[0].failure_reason);
    EXPECT_EQ(*results[0].failure_reason,
              "the worker lost the task: the API superseded it (unknown), as it does when a "
              "worker dies or hands a task back");
    EXPECT_EQ(results[0].task_status, "superseded");
    for (const std::string& id : api.cancelled()) {
      EXPECT_FALSE(id.ends_with("-resume")) << id;
    }
  }
}

TEST_F(SmokeRunnerTest, ALongFailureReasonIsBounded) {
  api.scripts["codex"].outcome = Script::Outcome::kFail;
  api.scripts["codex"].failure_reason = std::string(10'000, 'x');
  auto results = Run({"codex"});
  ASSERT_TRUE(results[0].failure_reason);
  EXPECT_LE(results[0].failure_reason->size(), 2048u + 3);
  EXPECT_TRUE(results[0].failure_reason->ends_with("…"));
}

TEST_F(SmokeRunnerTest, ATaskPastTimeoutMsIsCancelled) {
  api.scripts["opencode"].outcome = Script::Outcome::kHang;
  request.timeout_ms = 200;
  auto results = Run({"claude", "opencode"});
  EXPECT_TRUE(results[0].ok) << results[0].failure_reason.value_or("");
  const auto& r = results[1];
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.task_status, "cancelled");
  EXPECT_EQ(r.failure_reason,
            "the task did not finish within timeoutMs (200 ms) and was cancelled; last status "
            "in_progress");
  EXPECT_EQ(api.cancelled(), std::vector<std::string>{*r.task_id});
  EXPECT_FALSE(r.timings.task_done_ms);
  EXPECT_TRUE(r.sandbox_killed);
  EXPECT_LT(wall, std::chrono::seconds(3));
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, AWorkerOfAnotherVersionIsNotOkUnlessSkewIsAllowed) {
  api.scripts["codex"].version = "0.0.9";
  api.scripts["pi"].version.reset();
  auto results = Run({"codex", "pi"});
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].failure_reason, "worker template v0.0.9 does not match API v0.1.0+abc123");
  EXPECT_EQ(results[0].worker_version, "0.0.9");
  // The task still ran: the report says the path works, only the template is stale.
  EXPECT_EQ(results[0].task_status, "completed");
  EXPECT_EQ(results[0].output, R"({"reply":"pong"})");
  EXPECT_EQ(results[1].failure_reason, "worker template reports no version; API is v0.1.0+abc123");
  ExpectNoSandboxLeft();

  request.allow_version_skew = true;
  progress.clear();
  auto skewed = Run({"codex", "pi"});
  EXPECT_TRUE(skewed[0].ok) << skewed[0].failure_reason.value_or("");
  EXPECT_EQ(skewed[0].worker_version, "0.0.9");
  EXPECT_TRUE(skewed[1].ok) << skewed[1].failure_reason.value_or("");
}

TEST_F(SmokeRunnerTest, ARefusedCreateFailsThatProviderOnly) {
  sandboxes.create_error["claude"] =
      Error{ErrorCode::kUnavailable, "E2B 503: sandboxd is at its sandbox limit"};
  auto results = Run({"claude", "codex"});
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].failure_reason,
            "creating the sandbox failed: E2B 503: sandboxd is at its sandbox limit");
  EXPECT_TRUE(results[0].sandbox_id.empty());
  EXPECT_FALSE(results[0].sandbox_killed);
  EXPECT_FALSE(results[0].timings.sandbox_created_ms);
  EXPECT_TRUE(results[1].ok) << results[1].failure_reason.value_or("");
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, AWorkerThatDiesAtOnceFailsWithItsScrubbedLogAndIsKilled) {
  sandboxes.exits_at_once.insert("pi");
  sandboxes.worker_log = std::string("boot\nOPENAI key ") + kOpenAiKey + "\nno model reachable\n";
  auto results = Run({"pi"});
  const auto& r = results[0];
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.failure_reason);
  EXPECT_TRUE(r.failure_reason->starts_with("the worker did not register: the worker in sandbox " +
                                            r.sandbox_id + " exited at once"))
      << *r.failure_reason;
  EXPECT_NE(r.failure_reason->find("no model reachable"), std::string::npos);
  EXPECT_EQ(r.failure_reason->find(kOpenAiKey), std::string::npos) << *r.failure_reason;
  EXPECT_TRUE(r.sandbox_killed);  // killed by the launch, seen gone by the runner
  EXPECT_FALSE(r.task_id);
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, AWorkerThatNeverRegistersTimesOutAndIsKilled) {
  api.scripts["codex"].registers = false;
  options.registration_wait = milliseconds(300);
  auto results = Run({"codex"});
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].failure_reason->find("Timed out waiting for worker " + AgentId("codex")),
            std::string::npos)
      << *results[0].failure_reason;
  EXPECT_TRUE(results[0].sandbox_killed);
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, AStopMidTaskCancelsItAndKillsTheSandboxPromptly) {
  api.scripts["claude"].outcome = Script::Outcome::kHang;
  api.scripts["codex"].outcome = Script::Outcome::kHang;
  request.timeout_ms = 60'000;
  options.poll_interval = milliseconds(10'000);  // the stop must not wait a poll out
  std::set<std::string> running;
  on_progress = [&](const ProviderSmokeResult& r) {
    if (r.phase == SmokePhase::kTaskRunning) running.insert(r.provider);
    if (running.size() == 2) stop = true;
  };
  auto results = Run({"claude", "codex"});
  EXPECT_LT(wall, std::chrono::seconds(3));
  for (const auto& r : results) {
    SCOPED_TRACE(r.provider);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.failure_reason, "stopped: while the task was in_progress");
    EXPECT_EQ(r.task_status, "cancelled");
    EXPECT_TRUE(r.sandbox_killed);
    EXPECT_EQ(r.phase, SmokePhase::kDone);
  }
  EXPECT_EQ(api.cancelled().size(), 2u);
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, AStopWhileTheWorkerStartsKillsTheSandbox) {
  api.scripts["opencode"].registers = false;
  options.registration_wait = milliseconds(60'000);
  on_progress = [&](const ProviderSmokeResult& r) {
    if (r.phase == SmokePhase::kStartingWorker) stop = true;
  };
  auto results = Run({"opencode"});
  EXPECT_LT(wall, std::chrono::seconds(3));
  EXPECT_EQ(results[0].failure_reason, "stopped: while the worker was starting");
  EXPECT_TRUE(results[0].sandbox_killed);
  EXPECT_FALSE(results[0].task_id);
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, AStopBeforeStartCreatesNothing) {
  stop = true;
  auto results = Run({"claude"});
  EXPECT_EQ(results[0].failure_reason, "stopped: before the sandbox was created");
  EXPECT_TRUE(sandboxes.created().empty());
}

TEST_F(SmokeRunnerTest, AnExceptionIsAFailureAndTheSandboxIsStillKilled) {
  sandboxes.start_throws.insert("codex");
  auto results = Run({"codex", "claude"});
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].failure_reason, "internal error while checking: envd client exploded");
  EXPECT_TRUE(results[0].sandbox_killed);
  EXPECT_EQ(results[0].phase, SmokePhase::kDone);
  EXPECT_TRUE(results[1].ok) << results[1].failure_reason.value_or("");
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, ASandboxThatCannotBeKilledIsAFailure) {
  sandboxes.kill_fails.insert("pi");
  auto results = Run({"pi"});
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].failure_reason,
            "the sandbox " + results[0].sandbox_id + " could not be killed: sandboxd 503: busy");
  EXPECT_FALSE(results[0].sandbox_killed);
  EXPECT_EQ(results[0].task_status, "completed");
}

TEST_F(SmokeRunnerTest, TheSeedsChecksOfACompletedTask) {
  api.scripts["claude"].cost.reset();  // claude always reports one: required
  api.scripts["codex"].log_lines = 0;
  api.scripts["pi"].session_id.clear();
  api.scripts["opencode"].cost_source = "unpriced";  // a zero that is not a price
  auto results = Run({"claude", "codex", "pi", "opencode"});
  EXPECT_EQ(results[0].failure_reason, "no cost was reported (claude reports one for every run)");
  EXPECT_EQ(results[1].failure_reason, "no session logs were recorded");
  EXPECT_EQ(results[2].failure_reason, "the completed task has no session id");
  EXPECT_TRUE(results[3].ok) << results[3].failure_reason.value_or("");
  EXPECT_FALSE(results[3].cost_usd);
  ExpectNoSandboxLeft();
}

TEST_F(SmokeRunnerTest, ProvidersRunInParallel) {
  // A task finishes only once all four exist: one at a time, the first would time out.
  for (const auto* p : {"claude", "codex", "pi", "opencode"}) {
    api.scripts[p].tasks_before_finish = 4;
  }
  request.timeout_ms = 2000;
  auto results = Run({"claude", "codex", "pi", "opencode"});
  int64_t last_start = 0;
  int64_t first_end = INT64_MAX;
  for (const auto& r : results) {
    SCOPED_TRACE(r.provider);
    ASSERT_TRUE(r.ok) << r.failure_reason.value_or("");
    last_start = std::max(last_start, *r.timings.worker_registered_ms);
    first_end = std::min(first_end, *r.timings.task_done_ms);
  }
  // Every provider was registered before any task was done: the four overlapped.
  EXPECT_LE(last_start, first_end);
  ExpectNoSandboxLeft();
}

TEST(RunSuffixTest, AgentIdsOfConcurrentRunsDiffer) {
  FakeApi api;
  FakeSandboxes sandboxes{api};
  api.scripts["claude"];
  SmokeEnvironment env;
  env.api_version = kApiVersion;
  env.credentials = {{"ANTHROPIC_API_KEY", kAnthropicKey}};
  SmokeRequest request;
  request.providers = {"claude"};
  request.template_id = "t";
  request.api_url = kApiUrl;
  request.api_key = kApiKey;
  request.deployment_sha = "sha1";
  std::atomic<bool> stop{false};
  SmokeRunnerOptions options;
  options.poll_interval = milliseconds(5);
  options.startup_grace = milliseconds(10);
  SmokeRunner runner(sandboxes, api, env, options);
  // Two v7 ids of the same millisecond: only the random part differs.
  auto a = runner.Run(request, "0190a5f2-1c3d-7111-8222-333333333333", {}, stop);
  auto b = runner.Run(request, "0190a5f2-1c3d-7aaa-8bbb-cccccccccccc", {}, stop);
  EXPECT_EQ(a[0].agent_id, "smoke-claude-sha1-11182223");
  EXPECT_EQ(b[0].agent_id, "smoke-claude-sha1-aaa8bbbc");
  auto c = runner.Run(request, "Local Run #7", {}, stop);
  EXPECT_EQ(c[0].agent_id, "smoke-claude-sha1-localrun");
}

}  // namespace
}  // namespace swarm::smoke
