#include "cli/e2b_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/redact.h"
#include "sandbox/fake_sandbox_provider.h"
#include "support/child_process.h"

namespace swarm {
namespace {

using sandbox::FakeSandboxProvider;
using sandbox::StringMap;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSwarmKey[] = "swarm-key-abcdef123456";
constexpr char kE2bKey[] = "e2b_key_from_env_0123456789";
constexpr char kOpenAiKey[] = "openai-secret-value-42";

class FakeTemplates : public TemplateOps {
 public:
  std::vector<TemplateBuildRequest> builds;
  std::vector<std::pair<std::string, bool>> visibility;
  std::vector<std::string> deleted;
  Result<void> Build(const TemplateBuildRequest& request,
                     const std::function<void(std::string_view)>& log) override {
    builds.push_back(request);
    log("step 1/2: FROM " + request.image);
    return {};
  }
  Result<void> SetPublic(std::string_view name, bool is_public) override {
    if (name == "missing") return NotFound("E2B 404: template missing not found");
    visibility.emplace_back(std::string(name), is_public);
    return {};
  }
  Result<bool> Delete(std::string_view name) override {
    deleted.emplace_back(name);
    return name != "gone";
  }
};

class E2bCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClearSecretsForTest();
    env = std::make_shared<E2bEnvironment>();
    env->process_env = {{"E2B_API_KEY", kE2bKey},
                        {"AGENT_SWARM_API_KEY", kSwarmKey},
                        {"OPENAI_API_KEY", kOpenAiKey},
                        {"HOME", "/root"}};
    env->cwd = dir.path();
    env->out = &out;
    env->err = &err;
    env->sleep = [](std::chrono::milliseconds) {};
    env->make_provider =
        [this](const StringMap& controller) -> Result<std::unique_ptr<sandbox::SandboxProvider>> {
      controllers.push_back(controller);
      return std::unique_ptr<sandbox::SandboxProvider>(new Borrowed(provider));
    };
    env->make_templates =
        [this](const StringMap& controller) -> Result<std::unique_ptr<TemplateOps>> {
      controllers.push_back(controller);
      return std::unique_ptr<TemplateOps>(new BorrowedTemplates(templates));
    };
    env->make_probe = [this] {
      return [this](std::string_view, std::string_view id, std::string_view) -> Result<void> {
        probed.emplace_back(id);
        return {};
      };
    };
  }

  int Run(std::vector<std::string> args) {
    out.str("");
    err.str("");
    return RunE2bCommandLine(std::move(args), env);
  }
  std::string All() const { return out.str() + err.str(); }

  // Delegates to the test's fake, which must outlive the command's unique_ptr.
  struct Borrowed : sandbox::SandboxProvider {
    explicit Borrowed(FakeSandboxProvider& p) : p(p) {}
    FakeSandboxProvider& p;
    Result<sandbox::SandboxInfo> Create(const sandbox::SandboxSpec& s) override {
      return p.Create(s);
    }
    Result<sandbox::SandboxInfo> Get(std::string_view id) override { return p.Get(id); }
    Result<std::vector<sandbox::SandboxInfo>> List(const StringMap& f) override {
      return p.List(f);
    }
    Result<bool> Kill(std::string_view id) override { return p.Kill(id); }
    Result<void> SetTimeout(std::string_view id, std::chrono::seconds t) override {
      return p.SetTimeout(id, t);
    }
    Result<sandbox::SandboxInfo> Connect(std::string_view id, std::chrono::seconds t) override {
      return p.Connect(id, t);
    }
    Result<sandbox::CommandResult> Run(const sandbox::SandboxHandle& h,
                                       const sandbox::CommandSpec& c,
                                       const sandbox::OutputCallbacks& cb) override {
      return p.Run(h, c, cb);
    }
    Result<int> StartBackground(const sandbox::SandboxHandle& h,
                                const sandbox::CommandSpec& c) override {
      return p.StartBackground(h, c);
    }
    Result<std::vector<sandbox::ProcessInfo>> ListProcesses(
        const sandbox::SandboxHandle& h) override {
      return p.ListProcesses(h);
    }
    Result<bool> SendSignal(const sandbox::SandboxHandle& h, int pid, sandbox::Signal s) override {
      return p.SendSignal(h, pid, s);
    }
    Result<std::string> ReadFile(const sandbox::SandboxHandle& h, std::string_view path) override {
      return p.ReadFile(h, path);
    }
    Result<void> WriteFile(const sandbox::SandboxHandle& h, std::string_view path,
                           std::string_view content) override {
      return p.WriteFile(h, path, content);
    }
  };
  struct BorrowedTemplates : TemplateOps {
    explicit BorrowedTemplates(FakeTemplates& t) : t(t) {}
    FakeTemplates& t;
    Result<void> Build(const TemplateBuildRequest& r,
                       const std::function<void(std::string_view)>& log) override {
      return t.Build(r, log);
    }
    Result<void> SetPublic(std::string_view n, bool p) override { return t.SetPublic(n, p); }
    Result<bool> Delete(std::string_view n) override { return t.Delete(n); }
  };

  testing_support::TempDir dir;
  std::shared_ptr<E2bEnvironment> env;
  std::ostringstream out;
  std::ostringstream err;
  FakeSandboxProvider provider;
  FakeTemplates templates;
  std::vector<StringMap> controllers;
  std::vector<std::string> probed;
};

TEST_F(E2bCommandTest, StartWorkerCreatesStartsWaitsAndPrintsNoSecretInJson) {
  const int status =
      Run({"e2b", "start-worker", "--api-url", "http://127.0.0.1:3013", "--agent-id",
           "smoke-codex-abc", "--provider", "codex", "--secret", "EXTRA_TOKEN=tok-value-123456",
           "--secret", "SLACK_DISABLE=true", "--secret", "WORKER_NOTE=codex", "--metadata",
           "team=blue", "--timeout-sec", "900", "--json"});
  ASSERT_EQ(status, 0) << All();
  ASSERT_EQ(provider.created.size(), 1u);
  const auto& spec = provider.created[0];
  EXPECT_EQ(spec.template_id, "agent-swarm-worker");
  EXPECT_EQ(spec.timeout, std::chrono::seconds(900));
  EXPECT_EQ(spec.env_vars.at("AGENT_SWARM_API_KEY"), kSwarmKey);
  EXPECT_EQ(spec.env_vars.at("OPENAI_API_KEY"), kOpenAiKey);  // forwarded by default
  EXPECT_EQ(spec.env_vars.at("HARNESS_PROVIDER"), "codex");
  EXPECT_EQ(spec.env_vars.count("E2B_API_KEY"), 0u);
  EXPECT_EQ(spec.env_vars.count("HOME"), 0u);
  EXPECT_EQ(spec.metadata.at("agentId"), "smoke-codex-abc");
  EXPECT_EQ(spec.metadata.at("team"), "blue");
  EXPECT_EQ(probed, std::vector<std::string>{"smoke-codex-abc"});
  ASSERT_EQ(controllers.size(), 1u);
  EXPECT_EQ(controllers[0].at("E2B_API_KEY"), kE2bKey);

  const auto reply = nlohmann::json::parse(out.str());
  EXPECT_EQ(reply["sandboxId"], "sbx-1");
  EXPECT_EQ(reply["agentId"], "smoke-codex-abc");
  EXPECT_EQ(reply["registered"], true);
  EXPECT_EQ(spec.env_vars.at("SLACK_DISABLE"), "true");
  for (const char* secret :
       {kSwarmKey, kE2bKey, kOpenAiKey, "tok-value-123456", "envd-token-secret"}) {
    EXPECT_THAT(All(), Not(HasSubstr(secret))) << secret;
  }
}

TEST_F(E2bCommandTest, DryRunCallsNothingAndRedactsTheEnv) {
  ASSERT_EQ(Run({"e2b", "start-worker", "--api-url", "https://swarm.example.com", "--dry-run",
                 "--secret", "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz"}),
            0)
      << All();
  EXPECT_TRUE(provider.created.empty());
  EXPECT_TRUE(controllers.empty());
  const auto plan = nlohmann::json::parse(out.str());
  EXPECT_EQ(plan["agentId"], "e2b-<sandboxID>");
  EXPECT_EQ(plan["envVars"]["GITHUB_TOKEN"], "[REDACTED:GITHUB_TOKEN]");
  EXPECT_EQ(plan["envVars"]["API_KEY"], "[REDACTED:API_KEY]");
  EXPECT_EQ(plan["envVars"]["MCP_BASE_URL"], "https://swarm.example.com");
  EXPECT_EQ(plan["metadata"]["launcher"], "agent-swarm-e2b");
  EXPECT_THAT(All(), Not(HasSubstr("ghp_abcdefghijklmnopqrstuvwxyz")));
  EXPECT_THAT(All(), Not(HasSubstr(kSwarmKey)));
}

TEST_F(E2bCommandTest, MalformedAssignmentsAreUsageErrorsThatEchoNoValue) {
  EXPECT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a", "--secret", "novalue-secret"}),
            kE2bUsage);
  EXPECT_THAT(err.str(), HasSubstr("--secret takes KEY=VALUE"));
  EXPECT_THAT(err.str(), Not(HasSubstr("novalue-secret")));
  EXPECT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a", "--secret", "1BAD=x"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a", "--metadata", "=x"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a", "--provider", "gpt"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "start-worker"}), kE2bUsage);  // no --api-url, no MCP_BASE_URL
  EXPECT_THAT(err.str(), HasSubstr("--api-url is required"));
  EXPECT_EQ(Run({"e2b", "start-worker", "--no-such-flag"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b"}), kE2bUsage);
  EXPECT_TRUE(provider.created.empty());
}

TEST_F(E2bCommandTest, ArgvKeyWorksWithAWarningAndNeverShows) {
  env->process_env.erase("AGENT_SWARM_API_KEY");
  ASSERT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a", "--api-key", "argv-key-9876543",
                 "--no-wait"}),
            0)
      << All();
  EXPECT_THAT(err.str(), HasSubstr("warning: --api-key"));
  EXPECT_EQ(provider.created.at(0).env_vars.at("API_KEY"), "argv-key-9876543");
  EXPECT_THAT(All(), Not(HasSubstr("argv-key-9876543")));
  EXPECT_TRUE(probed.empty());
}

TEST_F(E2bCommandTest, SwarmKeyIsRequiredAndComesFromTheSandboxEnvLayers) {
  env->process_env.erase("AGENT_SWARM_API_KEY");
  EXPECT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a"}), kE2bFailure);
  EXPECT_THAT(err.str(), HasSubstr("no API key"));
  const std::string file = dir.File("worker.env");
  std::ofstream(file) << "API_KEY=from-env-file-key\n";
  ASSERT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a", "--env-file", file}), 0) << All();
  EXPECT_EQ(provider.created.at(0).env_vars.at("AGENT_SWARM_API_KEY"), "from-env-file-key");
}

TEST_F(E2bCommandTest, E2bKeyFromFileBeatsEnvWhichBeatsDotenv) {
  std::ofstream(dir.File(".env.e2b")) << "E2B_API_KEY=from-dotenv-key\nE2B_DOMAIN=example.dev\n";
  ASSERT_EQ(Run({"e2b", "list"}), 0) << All();
  EXPECT_EQ(controllers.back().at("E2B_API_KEY"), kE2bKey);
  EXPECT_EQ(controllers.back().at("E2B_DOMAIN"), "example.dev");
  env->process_env.erase("E2B_API_KEY");
  ASSERT_EQ(Run({"e2b", "list"}), 0) << All();
  EXPECT_EQ(controllers.back().at("E2B_API_KEY"), "from-dotenv-key");
  const std::string key_file = dir.File("e2b.key");
  std::ofstream(key_file) << "from-file-key\n";
  ASSERT_EQ(Run({"e2b", "list", "--e2b-api-key-file", key_file}), 0) << All();
  EXPECT_EQ(controllers.back().at("E2B_API_KEY"), "from-file-key");
  EXPECT_EQ(Run({"e2b", "list", "--e2b-api-key", "argv-e2b-key"}), kE2bUsage);
  EXPECT_THAT(All(), Not(HasSubstr("argv-e2b-key")));
}

TEST_F(E2bCommandTest, NoE2bKeyIsAFailureNamingTheWaysIn) {
  env->process_env.erase("E2B_API_KEY");
  EXPECT_EQ(Run({"e2b", "list"}), kE2bFailure);
  EXPECT_THAT(err.str(), HasSubstr("no E2B API key"));
}

TEST_F(E2bCommandTest, ALaunchFailureIsReportedAndTheSandboxKilled) {
  provider.process_exits_after_lists = 0;
  provider.worker_log = std::string("AGENT_SWARM_API_KEY=") + kSwarmKey + "\nfatal: no API\n";
  EXPECT_EQ(Run({"e2b", "start-worker", "--api-url", "http://a"}), kE2bFailure);
  EXPECT_THAT(err.str(), HasSubstr("fatal: no API"));
  EXPECT_THAT(All(), Not(HasSubstr(kSwarmKey)));
  EXPECT_EQ(provider.killed, std::vector<std::string>{"sbx-1"});
}

TEST_F(E2bCommandTest, ListShowsOnlyOurSandboxesWithoutTokens) {
  sandbox::SandboxInfo ours;
  ours.handle = {"sbx-ours", "envd-token-secret", ""};
  ours.template_id = "agent-swarm-worker";
  ours.metadata = {{"launcher", "agent-swarm-e2b"}, {"role", "worker"}, {"agentId", "w1"}};
  sandbox::SandboxInfo other = ours;
  other.handle.sandbox_id = "sbx-other";
  other.metadata = {{"launcher", "someone-else"}};
  provider.sandboxes = {ours, other};
  ASSERT_EQ(Run({"e2b", "list"}), 0);
  EXPECT_THAT(out.str(), HasSubstr("sbx-ours"));
  EXPECT_THAT(out.str(), HasSubstr("w1"));
  EXPECT_THAT(out.str(), Not(HasSubstr("sbx-other")));
  ASSERT_EQ(Run({"e2b", "list", "--json"}), 0);
  const auto list = nlohmann::json::parse(out.str());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["sandboxId"], "sbx-ours");
  EXPECT_THAT(out.str(), Not(HasSubstr("envd-token-secret")));
}

TEST_F(E2bCommandTest, KillByIdOrAll) {
  sandbox::SandboxInfo a;
  a.handle.sandbox_id = "sbx-a";
  a.metadata = {{"launcher", "agent-swarm-e2b"}};
  sandbox::SandboxInfo b = a;
  b.handle.sandbox_id = "sbx-b";
  sandbox::SandboxInfo foreign;
  foreign.handle.sandbox_id = "sbx-foreign";
  provider.sandboxes = {a, b, foreign};
  ASSERT_EQ(Run({"e2b", "kill", "sbx-a", "sbx-gone"}), 0) << All();
  EXPECT_THAT(out.str(), HasSubstr("sbx-a killed"));
  EXPECT_THAT(out.str(), HasSubstr("sbx-gone was already gone"));
  ASSERT_EQ(Run({"e2b", "kill", "--all", "--json"}), 0) << All();
  const auto killed = nlohmann::json::parse(out.str());
  ASSERT_EQ(killed.size(), 1u);
  EXPECT_EQ(killed[0]["sandboxId"], "sbx-b");
  EXPECT_EQ(provider.sandboxes.size(), 1u);  // the foreign one is left alone
  EXPECT_EQ(Run({"e2b", "kill"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "kill", "x", "--all"}), kE2bUsage);
}

TEST_F(E2bCommandTest, ExtendSetsTheTimeout) {
  sandbox::SandboxInfo a;
  a.handle.sandbox_id = "sbx-a";
  a.end_at = "2026-11-29T15:00:00Z";
  provider.sandboxes = {a};
  ASSERT_EQ(Run({"e2b", "extend", "sbx-a", "--timeout-sec", "600"}), 0) << All();
  ASSERT_EQ(provider.timeouts.size(), 1u);
  EXPECT_EQ(provider.timeouts[0].second, std::chrono::seconds(600));
  EXPECT_THAT(out.str(), HasSubstr("sbx-a now ends at 2026-11-29T15:00:00Z"));
  EXPECT_EQ(Run({"e2b", "extend", "sbx-missing", "--timeout-sec", "600"}), kE2bFailure);
  EXPECT_EQ(Run({"e2b", "extend", "sbx-a"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "extend", "sbx-a", "--timeout-sec", "0"}), kE2bUsage);
}

TEST_F(E2bCommandTest, BuildTemplateFromAnImageWithRoleDefaults) {
  ASSERT_EQ(
      Run({"e2b", "build-template", "--role", "worker", "--source", "image", "--image",
           "ghcr.io/o/agent-swarm-worker:abc", "--worker-template", "agent-swarm-worker-abc"}),
      0)
      << All();
  ASSERT_EQ(templates.builds.size(), 1u);
  EXPECT_EQ(templates.builds[0].name, "agent-swarm-worker-abc");
  EXPECT_EQ(templates.builds[0].image, "ghcr.io/o/agent-swarm-worker:abc");
  EXPECT_EQ(templates.builds[0].cpu_count, 4);
  EXPECT_EQ(templates.builds[0].memory_mb, 8192);
  EXPECT_EQ(templates.builds[0].start_cmd, "sleep infinity");
  EXPECT_THAT(err.str(), HasSubstr("step 1/2"));
  ASSERT_EQ(Run({"e2b", "build-template", "--role", "api", "--image", "img", "--cpu-count", "3"}),
            0);
  EXPECT_EQ(templates.builds[1].name, "agent-swarm-api");
  EXPECT_EQ(templates.builds[1].cpu_count, 3);
  EXPECT_EQ(templates.builds[1].memory_mb, 2048);
}

TEST_F(E2bCommandTest, BuildTemplateBakesEnvIntoTheTemplate) {
  ASSERT_EQ(Run({"e2b", "build-template", "--image", "img", "--env", "AGENT_SWARM_BUILD_SHA=abc123",
                 "--env", "EMPTY=", "--json"}),
            0)
      << All();
  ASSERT_EQ(templates.builds.size(), 1u);
  EXPECT_EQ(templates.builds[0].env, (std::map<std::string, std::string>{
                                         {"AGENT_SWARM_BUILD_SHA", "abc123"}, {"EMPTY", ""}}));
  EXPECT_THAT(out.str(), HasSubstr("\"AGENT_SWARM_BUILD_SHA\": \"abc123\""));
  EXPECT_EQ(Run({"e2b", "build-template", "--image", "img", "--env", "NOEQUALS"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "build-template", "--image", "img", "--env", "=x"}), kE2bUsage);
}

TEST_F(E2bCommandTest, BuildTemplateCopiesLocalFilesWithTheirMode) {
  const std::string script = dir.File("entry.sh");
  std::ofstream(script) << "#!/bin/sh\n";
  std::filesystem::permissions(script, std::filesystem::perms(0755));
  ASSERT_EQ(
      Run({"e2b", "build-template", "--image", "img", "--copy", script + ":/docker-entrypoint.sh"}),
      0)
      << All();
  ASSERT_EQ(templates.builds.at(0).files.size(), 1u);
  EXPECT_EQ(templates.builds[0].files[0].local_path, script);
  EXPECT_EQ(templates.builds[0].files[0].dest_path, "/docker-entrypoint.sh");
  EXPECT_EQ(templates.builds[0].files[0].mode, 0755);
  EXPECT_EQ(Run({"e2b", "build-template", "--image", "img", "--copy", script}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "build-template", "--image", "img", "--copy", script + ":relative"}),
            kE2bUsage);
  EXPECT_EQ(Run({"e2b", "build-template", "--image", "img", "--copy", dir.File("missing") + ":/x"}),
            kE2bUsage);
  EXPECT_THAT(err.str(), HasSubstr("is not a readable file"));
}

TEST_F(E2bCommandTest, BuildTemplateRefusesWhatNeedsDocker) {
  EXPECT_EQ(Run({"e2b", "build-template", "--source", "local"}), kE2bUsage);
  EXPECT_THAT(err.str(), HasSubstr("needs Docker"));
  EXPECT_EQ(Run({"e2b", "build-template"}), kE2bUsage);
  EXPECT_THAT(err.str(), HasSubstr("--image is required"));
  EXPECT_EQ(Run({"e2b", "build-template", "--image", "i", "--build-arg", "A=1"}), kE2bUsage);
  EXPECT_EQ(Run({"e2b", "build-template", "--image", "i", "--role", "lead"}), kE2bUsage);
  EXPECT_TRUE(templates.builds.empty());
  ASSERT_EQ(Run({"e2b", "build-template", "--image", "i", "--dry-run"}), 0);
  EXPECT_TRUE(templates.builds.empty());
  EXPECT_EQ(nlohmann::json::parse(out.str())["template"], "agent-swarm-worker");
}

TEST_F(E2bCommandTest, PublishUnpublishDelete) {
  ASSERT_EQ(Run({"e2b", "publish-template", "t1", "t2"}), 0) << All();
  ASSERT_EQ(Run({"e2b", "unpublish-template", "t1"}), 0) << All();
  EXPECT_EQ(templates.visibility,
            (std::vector<std::pair<std::string, bool>>{{"t1", true}, {"t2", true}, {"t1", false}}));
  ASSERT_EQ(Run({"e2b", "delete-template", "t1", "gone"}), 0) << All();
  EXPECT_THAT(out.str(), HasSubstr("template t1 deleted"));
  EXPECT_THAT(out.str(), HasSubstr("template gone did not exist"));
  EXPECT_EQ(Run({"e2b", "publish-template", "missing"}), kE2bFailure);
  EXPECT_THAT(err.str(), HasSubstr("E2B 404"));
  EXPECT_EQ(Run({"e2b", "publish-template"}), kE2bUsage);
}

}  // namespace
}  // namespace swarm
