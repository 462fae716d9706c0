// Provider smoke runs end to end, through the API's embedded runner (POST /api/smoke-runs):
// a real API whose sandbox backend is a local sandboxd (E2B's protocol, found by E2B_API_URL),
// the worker template built from docker/docker-entrypoint.sh, the real CLIs (claude, codex,
// opencode, pi) against stub-llm. The happy path and the issue's fault matrix: each fault hits
// one provider, the others pass, and no sandbox and no process of one is left. No secret
// reaches the stored report, the API's log, or any process's argv.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_process.h"
#include "support/stub_llm_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kSandboxdKey[] = "sandboxd-smoke-e2e-key-5b1f7c";
constexpr char kTemplate[] = "smoke-e2e-worker";
constexpr char kSkewTemplate[] = "smoke-e2e-worker-skew";
constexpr char kAnthropicKey[] = "sk-ant-smoke-e2e-fake-8e21";
constexpr char kOpenAiKey[] = "sk-smoke-e2e-fake-openai-4d07";

std::string HarnessBinDir() { return HARNESS_BIN_DIR; }
std::string SourceDir() { return SWARM_SOURCE_DIR; }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const json* ResultFor(const json& run, const std::string& provider) {
  for (const auto& result : run["results"]) {
    if (result.value("provider", "") == provider) return &result;
  }
  return nullptr;
}

// sandboxd, stub-llm and the API (its smoke backend: that sandboxd), the worker templates
// built through `e2b build-template`.
class SmokeRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* cli : {"claude", "codex", "opencode", "pi"}) {
      ASSERT_TRUE(std::filesystem::exists(HarnessBinDir() + "/" + cli))
          << "the " << cli << " CLI is not installed in " << HarnessBinDir()
          << ": run ./scripts/install-harnesses.sh";
    }
  }

  void TearDown() override {
    api_.reset();
    if (sandboxd_ && sandboxd_->running()) {
      sandboxd_->Signal(SIGTERM);
      sandboxd_->Wait(seconds(15));
    }
  }

  void StartSandboxd(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {AgentSwarmBinary(), "sandboxd",           "--port", "0",
                                     "--root",           dir_.File("sandboxd")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    sandboxd_ = std::make_unique<ChildProcess>(
        ChildSpec{argv, {{"SANDBOXD_API_KEY", kSandboxdKey}}, "/dev/null", sandboxd_log_});
    const uint16_t port = WaitListening(*sandboxd_, sandboxd_log_, "sandboxd");
    sandboxd_url_ = "http://127.0.0.1:" + std::to_string(port);
    BuildTemplate(kTemplate, {});
  }

  void BuildTemplate(const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        "build-template",
        "--role",
        "worker",
        "--worker-template",
        name,
        "--image",
        "local",
        "--copy",
        SourceDir() + "/docker/docker-entrypoint.sh:/docker-entrypoint.sh"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CommandResult built = E2b(args);
    ASSERT_EQ(built.status, 0) << built.out << built.err << "\nsandboxd log:\n"
                               << ReadFile(sandboxd_log_);
  }

  // The API the way an operator runs it: provider credentials in its environment (here only
  // Anthropic's: codex gets OpenAI's from the request's secrets), E2B_* naming the backend.
  void StartApi(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--worker-timeout",       "5",
        "--smoke-worker-env",     "AGENT_SWARM_BIN=" + AgentSwarmBinary(),
        "--smoke-worker-env",     "HARNESS_BIN_DIR=" + HarnessBinDir(),
        "--smoke-worker-env",     "PATH=" + HarnessBinDir() + ":/usr/local/bin:/usr/bin:/bin",
        "--smoke-worker-env",     "WORKER_API_READY_TIMEOUT_SECONDS=20",
        "--smoke-sweep-interval", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    api_ = std::make_unique<ApiProcess>(dir_.File("swarm.sqlite"), args,
                                        std::map<std::string, std::string>{
                                            {"E2B_API_KEY", kSandboxdKey},
                                            {"E2B_API_URL", sandboxd_url_},
                                            {"E2B_SANDBOX_URL", sandboxd_url_},
                                            {"ANTHROPIC_API_KEY", kAnthropicKey},
                                        });
    client_ = std::make_unique<TestApi>(api_->url());
  }

  CommandResult E2b(std::vector<std::string> args) const {
    args.insert(args.begin(), {AgentSwarmBinary(), "e2b"});
    return RunCommand(args,
                      {{"E2B_API_KEY", kSandboxdKey},
                       {"E2B_API_URL", sandboxd_url_},
                       {"E2B_SANDBOX_URL", sandboxd_url_}},
                      seconds(60));
  }

  std::vector<std::string> Listed() const {
    const CommandResult listed = E2b({"list", "--json"});
    EXPECT_EQ(listed.status, 0) << listed.err;
    std::vector<std::string> ids;
    const json out = json::parse(listed.out, nullptr, false);
    if (out.is_array()) {
      for (const auto& sandbox : out) ids.push_back(sandbox.value("sandboxId", ""));
    }
    return ids;
  }

  // A request for `providers`, codex given OpenAI's key as a per-provider secret.
  json Request(const std::vector<std::string>& providers, const StubLlmProcess& llm,
               int64_t timeout_ms = 90'000) const {
    json request = {{"providers", providers},   {"template", kTemplate},
                    {"deploymentSha", "e2e"},   {"timeoutMs", timeout_ms},
                    {"sandboxTimeoutSec", 300}, {"modelBaseUrl", llm.url()}};
    if (std::find(providers.begin(), providers.end(), "codex") != providers.end()) {
      request["secrets"]["codex"] = {{"OPENAI_API_KEY", kOpenAiKey}};
    }
    return request;
  }

  std::string Start(const json& request) {
    const Reply started = client_->Post("/api/smoke-runs", request);
    EXPECT_EQ(started.status, 202) << started.raw << "\n" << Logs();
    return started.body.value("id", "");
  }

  json Get(const std::string& run_id) const {
    return client_->Get("/api/smoke-runs/" + run_id).body;
  }

  // Follows the run until it is no longer running (bounded), checking argv for secrets on the way.
  json Follow(const std::string& run_id, seconds limit = seconds(240)) {
    json run;
    const bool finished = WaitUntil(
        [&] {
          for (const auto& argv : AllCommandLines()) argv_seen_ += argv + "\n";
          run = Get(run_id);
          return run.is_object() && run.value("status", "running") != "running";
        },
        limit, milliseconds(250));
    EXPECT_TRUE(finished) << run.dump(2) << "\n" << Logs();
    return run;
  }

  // No sandbox listed and no process of any sandbox this sandboxd created left, within a bound.
  void ExpectNothingLeft() {
    EXPECT_TRUE(WaitUntil([&] { return Listed().empty(); }, seconds(20), milliseconds(200)))
        << "sandboxes left\n"
        << Logs();
    for (const auto& id : SandboxdCreatedSandboxes(ReadFile(sandboxd_log_))) {
      EXPECT_TRUE(WaitUntil([&] { return SandboxProcesses(id).empty(); }, seconds(10)))
          << "processes of sandbox " << id << " are left";
    }
  }

  void ExpectNoSecretAnywhere(const std::string& run_id) {
    const std::string stored =
        client_->Get("/api/smoke-runs/" + run_id).raw + client_->Get("/api/smoke-runs").raw;
    const std::string db =
        ReadFile(dir_.File("swarm.sqlite")) + ReadFile(dir_.File("swarm.sqlite-wal"));
    for (const char* secret : {kTestApiKey, kAnthropicKey, kOpenAiKey, kSandboxdKey}) {
      EXPECT_FALSE(Contains(stored, secret)) << "the report shows " << secret;
      EXPECT_FALSE(Contains(db, secret)) << "the database holds " << secret;
      EXPECT_FALSE(Contains(api_->log(), secret)) << "the API's log shows " << secret;
      EXPECT_FALSE(Contains(argv_seen_, secret)) << "a process's argv held " << secret;
    }
  }

  std::string Logs() const {
    return "sandboxd log:\n" + ReadFile(sandboxd_log_) + "\nstub-llm log:\n" + llm_.log() +
           "\nAPI log:\n" + (api_ ? api_->log() : std::string());
  }

  static void ExpectPassed(const json& result) {
    SCOPED_TRACE(result.dump(2));
    EXPECT_TRUE(result.value("ok", false));
    EXPECT_EQ(result.value("taskStatus", ""), "completed");
    EXPECT_FALSE(result.value("sessionId", "").empty());
    EXPECT_EQ(json::parse(result.value("output", "null"), nullptr, false),
              json({{"reply", "pong"}}));
    EXPECT_GT(result.value("logLines", 0), 0);
    EXPECT_TRUE(result.value("sandboxKilled", false));
    EXPECT_FALSE(result.value("cliVersion", "").empty());
    EXPECT_FALSE(result.value("workerVersion", "").empty());
  }

  static void ExpectFailed(const json& result, const std::string& reason_part) {
    SCOPED_TRACE(result.dump(2));
    EXPECT_FALSE(result.value("ok", true));
    EXPECT_TRUE(Contains(result.value("failureReason", ""), reason_part))
        << "the reason should name: " << reason_part;
  }

  TempDir dir_;
  std::string sandboxd_log_ = dir_.File("sandboxd.log");
  std::unique_ptr<ChildProcess> sandboxd_;
  std::string sandboxd_url_;
  StubLlmProcess llm_{dir_.File("llm.log"), {"--reply", R"({"reply":"pong"})"}};
  std::unique_ptr<ApiProcess> api_;
  std::unique_ptr<TestApi> client_;
  std::string argv_seen_;
};

TEST_F(SmokeRunTest, EveryProviderPassesAndNothingIsLeft) {
  StartSandboxd();
  StartApi();
  const std::string run_id = Start(Request({"claude", "codex", "pi", "opencode"}, llm_));
  ASSERT_FALSE(run_id.empty());
  const json run = Follow(run_id);
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump(2) << Logs();
  EXPECT_TRUE(run.value("ok", false));
  const std::string api_version = run.value("apiVersion", "");
  EXPECT_FALSE(api_version.empty());
  std::set<std::string> agents, sandboxes, tasks;
  for (const char* provider : {"claude", "codex", "pi", "opencode"}) {
    const json* result = ResultFor(run, provider);
    ASSERT_NE(result, nullptr) << provider;
    ExpectPassed(*result);
    EXPECT_EQ(result->value("workerVersion", ""), api_version);
    EXPECT_TRUE(result->value("agentId", "").starts_with(std::string("smoke-") + provider + "-e2e"))
        << result->dump();
    agents.insert(result->value("agentId", ""));
    sandboxes.insert(result->value("sandboxId", ""));
    tasks.insert(result->value("taskId", ""));
  }
  EXPECT_EQ(agents.size(), 4u);
  EXPECT_EQ(sandboxes.size(), 4u);
  EXPECT_EQ(tasks.size(), 4u);
  // claude reports the cost of its session; the run shows it.
  EXPECT_TRUE(ResultFor(run, "claude")->contains("costUsd")) << run.dump(2);
  ExpectNothingLeft();
  ExpectNoSecretAnywhere(run_id);

  const Reply listed = client_->Get("/api/smoke-runs");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_FALSE(listed.body["runs"].empty());
  EXPECT_EQ(listed.body["runs"][0].value("id", ""), run_id);
}

// A wrong reply (claude: a stub answering ping) and a model error (codex: a stub answering
// 401) fail their providers with the reason named; pi and opencode pass.
TEST_F(SmokeRunTest, AWrongReplyAndAModelErrorFailOnlyTheirProvider) {
  StubLlmProcess wrong(dir_.File("wrong.log"), {"--reply", R"({"reply":"ping"})"});
  const std::string script = dir_.File("error-script.json");
  std::ofstream(script) << R"({"rules":[{"status":401,"error":"invalid api key, says the stub"}]})";
  StubLlmProcess failing(dir_.File("failing.log"), {"--script", script});
  StartSandboxd();
  StartApi();
  json request = Request({"claude", "codex", "pi", "opencode"}, llm_);
  request["secrets"]["claude"] = {{"ANTHROPIC_BASE_URL", wrong.url()}};
  request["secrets"]["codex"]["OPENAI_BASE_URL"] = failing.openai_url();
  const json run = Follow(Start(request));
  EXPECT_EQ(run.value("status", ""), "failed") << run.dump(2);
  ExpectFailed(*ResultFor(run, "claude"), "reply");
  EXPECT_EQ(ResultFor(run, "claude")->value("taskStatus", ""), "failed");
  EXPECT_TRUE(Contains(ResultFor(run, "claude")->value("output", ""), "ping"));
  ExpectFailed(*ResultFor(run, "codex"), "");
  EXPECT_EQ(ResultFor(run, "codex")->value("taskStatus", ""), "failed");
  ExpectPassed(*ResultFor(run, "pi"));
  ExpectPassed(*ResultFor(run, "opencode"));
  ExpectNothingLeft();
}

// A task past timeoutMs (pi: a model that answers after a minute) is cancelled; a worker killed
// mid-task (opencode) fails as lost (its task superseded, the resume child cancelled); claude
// and codex pass.
TEST_F(SmokeRunTest, ATimeoutIsCancelledAndAKilledWorkerFailsOnlyTheirProvider) {
  const std::string script = dir_.File("slow-script.json");
  std::ofstream(script) << R"({"rules":[{"delayMs":60000}]})";
  StubLlmProcess slow(dir_.File("slow.log"), {"--script", script});
  StartSandboxd();
  StartApi();
  json request = Request({"claude", "codex", "pi", "opencode"}, llm_, 40'000);
  request["secrets"]["pi"] = {{"ANTHROPIC_BASE_URL", slow.url()}};
  request["secrets"]["opencode"] = {{"ANTHROPIC_BASE_URL", slow.url()}};
  const std::string run_id = Start(request);
  ASSERT_FALSE(run_id.empty());

  // Once opencode's task runs, kill its worker process, as a crash would.
  std::string opencode_sandbox;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const json run = Get(run_id);
        const json* result = ResultFor(run, "opencode");
        if (!result || result->value("phase", "") != "task_running") return false;
        opencode_sandbox = result->value("sandboxId", "");
        return true;
      },
      seconds(120), milliseconds(200)))
      << Get(run_id).dump(2) << Logs();
  bool killed = false;
  for (pid_t pid : SandboxProcesses(opencode_sandbox)) {
    if (ProcessCommandLine(pid).starts_with(AgentSwarmBinary() + " worker")) {
      killed = ::kill(pid, SIGKILL) == 0 || killed;
    }
  }
  ASSERT_TRUE(killed) << "no worker process found in sandbox " << opencode_sandbox;

  const json run = Follow(run_id);
  EXPECT_EQ(run.value("status", ""), "failed") << run.dump(2);
  ExpectFailed(*ResultFor(run, "pi"), "timeoutMs");
  EXPECT_EQ(ResultFor(run, "pi")->value("taskStatus", ""), "cancelled");
  // Its worker had opened an active session, so the API's sweep superseded the task (a resume
  // child for the next worker) rather than failing it; the runner cancelled that child.
  ExpectFailed(*ResultFor(run, "opencode"), "the worker lost the task");
  EXPECT_EQ(ResultFor(run, "opencode")->value("taskStatus", ""), "superseded");
  const json waiting = client_->Get("/api/tasks?status=pending,unassigned,in_progress").body;
  EXPECT_EQ(waiting.value("total", -1), 0) << waiting.dump(2);
  ExpectPassed(*ResultFor(run, "claude"));
  ExpectPassed(*ResultFor(run, "codex"));
  ExpectNothingLeft();
}

// codex without its credential fails at once, naming the variable, and no sandbox is spent on
// it; claude passes.
TEST_F(SmokeRunTest, AMissingCredentialSpendsNoSandbox) {
  StartSandboxd();
  StartApi();
  json request = Request({"codex", "claude"}, llm_);
  request.erase("secrets");
  const json run = Follow(Start(request));
  ExpectFailed(*ResultFor(run, "codex"), "OPENAI_API_KEY");
  EXPECT_EQ(ResultFor(run, "codex")->value("sandboxId", "x"), "");
  ExpectPassed(*ResultFor(run, "claude"));
  EXPECT_EQ(SandboxdCreatedSandboxes(ReadFile(sandboxd_log_)).size(), 1u);
  ExpectNothingLeft();
}

// Two runs at once, one on a template whose worker reports another build: that one fails on
// version alignment; the other passes; neither sees the other's agents, tasks or sandboxes.
TEST_F(SmokeRunTest, AVersionSkewedTemplateFailsAndConcurrentRunsDoNotMix) {
  StartSandboxd();
  BuildTemplate(kSkewTemplate, {"--env", "AGENT_SWARM_BUILD_SHA=0000skew"});
  StartApi();
  json skewed = Request({"claude"}, llm_);
  skewed["template"] = kSkewTemplate;
  const std::string skewed_id = Start(skewed);
  const std::string other_id = Start(Request({"claude", "pi"}, llm_));
  const json skewed_run = Follow(skewed_id);
  const json other_run = Follow(other_id);
  ExpectFailed(*ResultFor(skewed_run, "claude"), "does not match API v");
  EXPECT_TRUE(Contains(ResultFor(skewed_run, "claude")->value("workerVersion", ""), "+0000skew"));
  ExpectPassed(*ResultFor(other_run, "claude"));
  ExpectPassed(*ResultFor(other_run, "pi"));
  EXPECT_NE(ResultFor(skewed_run, "claude")->value("agentId", ""),
            ResultFor(other_run, "claude")->value("agentId", ""));
  EXPECT_NE(ResultFor(skewed_run, "claude")->value("sandboxId", ""),
            ResultFor(other_run, "claude")->value("sandboxId", ""));
  EXPECT_NE(ResultFor(skewed_run, "claude")->value("taskId", ""),
            ResultFor(other_run, "claude")->value("taskId", ""));

  // The same skew is accepted when the request allows it.
  skewed["allowVersionSkew"] = true;
  const json allowed = Follow(Start(skewed));
  ExpectPassed(*ResultFor(allowed, "claude"));
  ExpectNothingLeft();
}

// sandboxd holds at most three sandboxes: one provider's create is refused, the three others
// pass.
TEST_F(SmokeRunTest, ASandboxRefusedFailsOnlyThatProvider) {
  StartSandboxd({"--max-sandboxes", "3"});
  StartApi();
  const json run = Follow(Start(Request({"claude", "codex", "pi", "opencode"}, llm_)));
  int refused = 0, passed = 0;
  for (const auto& result : run["results"]) {
    if (result.value("ok", false)) {
      ++passed;
      ExpectPassed(result);
    } else {
      ++refused;
      EXPECT_EQ(result.value("sandboxId", "x"), "") << result.dump(2);
      EXPECT_FALSE(result.value("failureReason", "").empty()) << result.dump(2);
    }
  }
  EXPECT_EQ(refused, 1) << run.dump(2);
  EXPECT_EQ(passed, 3) << run.dump(2);
  ExpectNothingLeft();
}

// With no sandbox backend configured the API runs its own sandboxd (the embedded default): not
// at start-up but with the first run, which builds the worker template in it and passes
// through it; a sandboxd killed between runs is started again by the next run; stopping the API
// stops it.
TEST_F(SmokeRunTest, TheEmbeddedSandboxdRunsARunWithNothingConfigured) {
  api_ = std::make_unique<ApiProcess>(dir_.File("swarm.sqlite"), std::vector<std::string>{},
                                      std::map<std::string, std::string>{
                                          {"ANTHROPIC_API_KEY", kAnthropicKey},
                                          {"HARNESS_BIN_DIR", HarnessBinDir()},
                                      });
  client_ = std::make_unique<TestApi>(api_->url());
  const std::string sandboxd_root = dir_.File("swarm.sqlite.sandboxd");
  auto sandboxd_pids = [&] {
    std::vector<pid_t> pids;
    for (pid_t pid : LiveProcesses()) {
      const std::string argv = ProcessCommandLine(pid);
      if (Contains(argv, "sandboxd") && Contains(argv, sandboxd_root)) pids.push_back(pid);
    }
    return pids;
  };
  EXPECT_TRUE(sandboxd_pids().empty()) << "sandboxd started before any run";
  json request = Request({"claude", "pi"}, llm_);
  request.erase("template");  // the API's own: the one it built in its sandboxd
  const std::string run_id = Start(request);
  ASSERT_FALSE(run_id.empty());
  const json run = Follow(run_id);
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump(2) << "\nsandboxd log:\n"
                                               << ReadFile(dir_.File("swarm.sqlite.sandboxd.log"));
  ExpectPassed(*ResultFor(run, "claude"));
  ExpectPassed(*ResultFor(run, "pi"));
  ExpectNoSecretAnywhere(run_id);

  // sandboxd killed as a crash would: the next run starts another and passes through it.
  const std::vector<pid_t> first = sandboxd_pids();
  ASSERT_EQ(first.size(), 1u);
  ::kill(first[0], SIGKILL);
  // At once: the kernel is still tearing it down (its argv already reads empty, but until it
  // is a zombie with no thread left the API's waitpid cannot see it dead), so the run's create
  // meets a closed port, finds the backend dead within the grace, and goes to its successor.
  json again = Request({"claude"}, llm_);
  again.erase("template");
  const json second = Follow(Start(again));
  EXPECT_EQ(second.value("status", ""), "passed") << second.dump(2) << api_->log();
  ExpectPassed(*ResultFor(second, "claude"));
  const std::vector<pid_t> restarted = sandboxd_pids();
  ASSERT_EQ(restarted.size(), 1u);
  EXPECT_NE(restarted[0], first[0]);

  // Its sandboxd is gone with it, and no process of a sandbox is left.
  api_->child().Signal(SIGTERM);
  ASSERT_TRUE(api_->child().Wait(seconds(30)));
  for (const char* log : {"swarm.sqlite.sandboxd.log", "swarm.sqlite.sandboxd.log.1"}) {
    for (const auto& id : SandboxdCreatedSandboxes(ReadFile(dir_.File(log)))) {
      EXPECT_TRUE(WaitUntil([&] { return SandboxProcesses(id).empty(); }, seconds(10))) << id;
    }
  }
  // The killed sandboxd's log was kept beside its successor's.
  EXPECT_EQ(SandboxdCreatedSandboxes(ReadFile(dir_.File("swarm.sqlite.sandboxd.log.1"))).size(),
            2u);
  EXPECT_EQ(SandboxdCreatedSandboxes(ReadFile(dir_.File("swarm.sqlite.sandboxd.log"))).size(), 1u);
  for (const auto& argv : AllCommandLines()) {
    EXPECT_FALSE(Contains(argv, dir_.File("swarm.sqlite.sandboxd"))) << "sandboxd still runs";
  }
}

// The API killed with -9 mid-run and started again on the same database: the run reads
// interrupted and the sweep kills its sandboxes.
TEST_F(SmokeRunTest, AnApiKilledMidRunIsInterruptedAndItsSandboxesSwept) {
  const std::string script = dir_.File("slow-script.json");
  std::ofstream(script) << R"({"rules":[{"delayMs":60000}]})";
  StubLlmProcess slow(dir_.File("slow.log"), {"--script", script});
  StartSandboxd();
  StartApi();
  const std::string run_id = Start(Request({"claude", "pi"}, slow));
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(WaitUntil(
      [&] {
        const json run = Get(run_id);
        for (const auto& result : run["results"]) {
          if (result.value("phase", "") != "task_running") return false;
        }
        return true;
      },
      seconds(120), milliseconds(200)))
      << Get(run_id).dump(2) << Logs();
  ASSERT_EQ(Listed().size(), 2u);
  const std::string first_log = api_->log();
  api_->child().Signal(SIGKILL);
  ASSERT_TRUE(api_->child().Wait(seconds(10)));

  StartApi();
  const json run = Get(run_id);
  EXPECT_EQ(run.value("status", ""), "interrupted") << run.dump(2);
  EXPECT_FALSE(run.value("ok", true));
  for (const auto& result : run["results"]) {
    EXPECT_TRUE(Contains(result.value("failureReason", ""), "interrupted")) << result.dump(2);
  }
  ExpectNothingLeft();
  EXPECT_TRUE(Contains(api_->log(), "killed")) << api_->log();
  for (const char* secret : {kTestApiKey, kAnthropicKey, kSandboxdKey}) {
    EXPECT_FALSE(Contains(first_log, secret)) << secret;
  }
}

}  // namespace
}  // namespace swarm::testing_support
