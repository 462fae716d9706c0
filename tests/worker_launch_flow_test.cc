// The start-worker flow (sandbox/worker_launch) against a real API, the real entrypoint and
// the real worker, with a provider whose "sandbox" is a local process group: what E2B or
// sandboxd add on top is the isolation, not the flow. Registration is awaited over HTTP with
// the bearer key; an entrypoint that dies at once and one that never registers both end in a
// clear error with no process left behind.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "sandbox/worker_launch.h"
#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using sandbox::CommandSpec;
using sandbox::SandboxHandle;
using sandbox::SandboxInfo;
using std::chrono::seconds;
namespace fs = std::filesystem;

// One "sandbox" at a time: the background command runs in its own session, so killing the
// sandbox is killing that process group.
class ProcessGroupProvider : public sandbox::SandboxProvider {
 public:
  explicit ProcessGroupProvider(std::string log_path) : log_path_(std::move(log_path)) {}
  ~ProcessGroupProvider() override { (void)Kill("local-1"); }

  std::vector<std::string> killed;
  pid_t group() const { return child_ ? child_->pid() : 0; }

  Result<SandboxInfo> Create(const sandbox::SandboxSpec& spec) override {
    SandboxInfo info;
    info.handle.sandbox_id = "local-1";
    info.template_id = spec.template_id;
    info.metadata = spec.metadata;
    return info;
  }
  Result<SandboxInfo> Get(std::string_view) override { return NotFound("unused"); }
  Result<std::vector<SandboxInfo>> List(const sandbox::StringMap&) override {
    return std::vector<SandboxInfo>{};
  }
  Result<bool> Kill(std::string_view id) override {
    if (!child_) return false;
    killed.emplace_back(id);
    ::kill(-child_->pid(), SIGKILL);
    child_->Wait(seconds(5));
    child_.reset();
    return true;
  }
  Result<void> SetTimeout(std::string_view, std::chrono::seconds) override { return {}; }
  Result<SandboxInfo> Connect(std::string_view, std::chrono::seconds) override {
    return NotFound("unused");
  }
  Result<sandbox::CommandResult> Run(const SandboxHandle&, const CommandSpec&,
                                     const sandbox::OutputCallbacks&) override {
    return Internal("unused");
  }
  Result<int> StartBackground(const SandboxHandle&, const CommandSpec& command) override {
    ChildSpec spec{{"/usr/bin/setsid", "/bin/bash", "-c", command.cmd}, command.envs};
    child_ = std::make_unique<ChildProcess>(spec);
    return child_->pid();
  }
  Result<std::vector<sandbox::ProcessInfo>> ListProcesses(const SandboxHandle&) override {
    std::vector<sandbox::ProcessInfo> out;
    if (child_ && child_->running()) out.push_back({child_->pid(), "/bin/bash", {}, "", ""});
    return out;
  }
  Result<bool> SendSignal(const SandboxHandle&, int, sandbox::Signal) override { return false; }
  Result<std::string> ReadFile(const SandboxHandle&, std::string_view path) override {
    if (path != sandbox::kWorkerLogPath) return NotFound(std::string(path));
    return testing_support::ReadFile(log_path_);
  }
  Result<void> WriteFile(const SandboxHandle&, std::string_view, std::string_view) override {
    return {};
  }

 private:
  std::string log_path_;
  std::unique_ptr<ChildProcess> child_;
};

// No process of the group left (zombies reaped by then count as gone).
bool GroupGone(pid_t group) {
  return WaitUntil([&] { return ::kill(-group, 0) != 0 && errno == ESRCH; }, seconds(5));
}

class WorkerLaunchFlowTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string log_ = dir_.File("worker.log");
  ProcessGroupProvider provider_{log_};
  http::CurlHttpClient http_;

  sandbox::WorkerLaunchPlan Plan(const std::string& api_url, const std::string& agent_id,
                                 sandbox::StringMap extra_env = {}) {
    sandbox::RuntimeEnvSources sources;
    sources.api_key = kTestApiKey;
    sources.process_env = {{"ANTHROPIC_API_KEY", "sk-ant-fake-launch-flow-key"}};
    sources.env_files.push_back({{"AGENT_SWARM_BIN", AgentSwarmBinary()},
                                 {"WORKER_WORKSPACE", dir_.File("no-workspace")},
                                 {"WORKER_WORK_DIR", dir_.File("tasks")},
                                 {"WORKER_CLI_USER", "root"},
                                 {"ANTHROPIC_BASE_URL", "http://127.0.0.1:9"},
                                 {"SHUTDOWN_TIMEOUT", "500"}});
    for (auto& [k, v] : extra_env) sources.secrets.emplace_back(k, v);
    sandbox::WorkerLaunchOptions options;
    options.api_url = api_url;
    options.agent_id = agent_id;
    options.wait = seconds(15);
    auto plan = sandbox::PlanWorkerLaunch(sources, options);
    EXPECT_TRUE(plan) << plan.error().message;
    // The image's paths, here: the checkout's entrypoint and a temp log.
    const std::string entrypoint = std::string(SWARM_SOURCE_DIR) + "/docker/docker-entrypoint.sh";
    std::string& cmd = plan->command.cmd;
    cmd.replace(cmd.find(sandbox::kWorkerEntrypoint), std::strlen(sandbox::kWorkerEntrypoint),
                entrypoint);
    cmd.replace(cmd.find(sandbox::kWorkerLogPath), std::strlen(sandbox::kWorkerLogPath), log_);
    return *plan;
  }

  sandbox::WorkerLaunchDeps Deps() {
    sandbox::WorkerLaunchDeps deps;
    deps.provider = &provider_;
    deps.probe = sandbox::HttpRegistrationProbe(http_);
    return deps;
  }
};

TEST_F(WorkerLaunchFlowTest, TheWorkerRegistersUnderItsIdAndKillLeavesNothing) {
  ApiProcess api(dir_.File("swarm.sqlite"));
  auto result = sandbox::LaunchWorker(Plan(api.url(), "launch-w1"), Deps());
  ASSERT_TRUE(result) << result.error().message << "\n" << ReadFile(log_);
  EXPECT_TRUE(result->registered);
  EXPECT_EQ(result->agent_id, "launch-w1");
  TestApi client(api.url());
  EXPECT_EQ(client.Get("/api/agents/launch-w1").status, 200);
  const pid_t group = provider_.group();
  ASSERT_TRUE(provider_.Kill("local-1").value());
  EXPECT_TRUE(GroupGone(group));
  EXPECT_NE(ReadFile(log_).find("[entrypoint] API ready"), std::string::npos);
}

TEST_F(WorkerLaunchFlowTest, AnEntrypointThatExitsAtOnceFailsWithItsLogTail) {
  ApiProcess api(dir_.File("swarm.sqlite"));
  auto result = sandbox::LaunchWorker(
      Plan(api.url(), "launch-w2", {{"AGENT_SWARM_BIN", dir_.File("missing-binary")}}), Deps());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("exited at once"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("agent-swarm not found"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(provider_.killed, std::vector<std::string>{"local-1"});
}

TEST_F(WorkerLaunchFlowTest, ARegistrationTimeoutNamesTheWorkerAndTheApiAndKills) {
  // Nothing listens on the discard port: the entrypoint keeps waiting for /health.
  auto plan = Plan("http://127.0.0.1:9", "launch-w3");
  plan.wait = std::chrono::milliseconds(1500);
  auto result = sandbox::LaunchWorker(plan, Deps());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find(
                "Timed out waiting for worker launch-w3 to register at http://127.0.0.1:9 ("),
            std::string::npos)
      << result.error().message;
  EXPECT_EQ(result.error().message.find(kTestApiKey), std::string::npos);
  EXPECT_EQ(provider_.killed, std::vector<std::string>{"local-1"});
}

}  // namespace
}  // namespace swarm::testing_support
