// Our E2B client (sandbox/e2b_client.h, sandbox/template_client.h) against the real sandboxd:
// the same protocol the official SDK speaks (tests/e2b_sdk), from the C++ side, including the
// template build, publish, unpublish and delete.
#include <signal.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "http/client.h"
#include "sandbox/e2b_client.h"
#include "sandbox/template_client.h"
#include "support/api_process.h"
#include "support/child_process.h"

namespace swarm {
namespace {

using namespace std::chrono_literals;
using testing_support::ChildProcess;
using testing_support::TempDir;

constexpr const char* kKey = "sandboxd-client-test-key-51c0";

class SandboxdClientTest : public ::testing::Test {
 protected:
  SandboxdClientTest() {
    const std::string log = dir_.File("sandboxd.log");
    server_ = std::make_unique<ChildProcess>(
        testing_support::ChildSpec{{testing_support::AgentSwarmBinary(), "sandboxd", "--port", "0",
                                    "--root", dir_.File("root")},
                                   {{"SANDBOXD_API_KEY", kKey}},
                                   "/dev/null",
                                   log});
    const uint16_t port = testing_support::WaitListening(*server_, log, "sandboxd");
    url_ = "http://127.0.0.1:" + std::to_string(port);
  }

  ~SandboxdClientTest() override {
    server_->Signal(SIGTERM);  // a graceful stop removes what sandboxd made
    server_->Wait(10s);
  }

  sandbox::E2bConfig Config(const std::string& key = kKey) const {
    return sandbox::E2bConfig::FromEnv(
        {{"E2B_API_KEY", key}, {"E2B_API_URL", url_}, {"E2B_SANDBOX_URL", url_}});
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> server_;
  std::string url_;
  http::CurlHttpClient http_;
};

TEST_F(SandboxdClientTest, SandboxLifecycleCommandsAndFiles) {
  sandbox::E2bSandboxProvider client(Config(), http_);
  sandbox::SandboxSpec spec;
  spec.env_vars = {{"GREETING", "hi from env"}};
  spec.metadata = {{"suite", "client"}, {"role", "main"}};
  auto created = client.Create(spec);
  ASSERT_TRUE(created) << created.error().message;
  const auto handle = created->handle;
  EXPECT_FALSE(handle.envd_access_token.empty());

  sandbox::CommandSpec command;
  command.cmd = "echo \"$GREETING\"; echo oops >&2; exit 3";
  auto ran = client.Run(handle, command);
  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->exit_code, 3);
  EXPECT_EQ(ran->output.stdout_text, "hi from env\n");
  EXPECT_EQ(ran->output.stderr_text, "oops\n");

  sandbox::CommandSpec background;
  background.cmd = "sleep 300";
  background.timeout = 0ms;
  auto pid = client.StartBackground(handle, background);
  ASSERT_TRUE(pid) << pid.error().message;
  auto processes = client.ListProcesses(handle);
  ASSERT_TRUE(processes);
  ASSERT_EQ(processes->size(), 1u);
  EXPECT_EQ((*processes)[0].pid, *pid);
  EXPECT_EQ(*client.SendSignal(handle, *pid, sandbox::Signal::kKill), true);
  ASSERT_TRUE(testing_support::WaitUntil(
      [&] {
        return client.ListProcesses(handle).value_or(std::vector<sandbox::ProcessInfo>{1}).empty();
      },
      5s));
  EXPECT_EQ(*client.SendSignal(handle, *pid, sandbox::Signal::kKill), false);

  ASSERT_TRUE(client.WriteFile(handle, "/home/user/dir/f.txt", "file body\n"));
  EXPECT_EQ(*client.ReadFile(handle, "dir/f.txt"), "file body\n");
  auto missing = client.ReadFile(handle, "/home/user/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound) << missing.error().message;

  sandbox::SandboxSpec other;
  other.metadata = {{"suite", "client"}, {"role", "other"}};
  auto second = client.Create(other);
  ASSERT_TRUE(second);
  auto listed = client.List({{"suite", "client"}, {"role", "main"}});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id(), created->id());
  EXPECT_EQ(client.List({{"suite", "client"}})->size(), 2u);

  EXPECT_TRUE(client.SetTimeout(created->id(), 120s));
  EXPECT_TRUE(client.Connect(created->id(), 60s));
  EXPECT_EQ(*client.Kill(created->id()), true);
  EXPECT_EQ(*client.Kill(created->id()), false);
  EXPECT_EQ(*client.Kill(second->id()), true);
  EXPECT_FALSE(client.Get(created->id()));
}

TEST_F(SandboxdClientTest, WrongKeyAndUnknownTemplateAreClearErrors) {
  sandbox::E2bSandboxProvider wrong(Config("not-the-key"), http_);
  auto refused = wrong.Create({});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("not-the-key"), std::string::npos);

  sandbox::E2bSandboxProvider client(Config(), http_);
  sandbox::SandboxSpec spec;
  spec.template_id = "no-such-template";
  auto unknown = client.Create(spec);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound) << unknown.error().message;
}

TEST_F(SandboxdClientTest, BuildPublishUnpublishDeleteATemplate) {
  sandbox::E2bTemplateService templates(Config(), http_);
  sandbox::TemplateSpec spec;
  spec.name = "client-worker";
  spec.from_image = "registry.example/worker:1.0";
  spec.env = {{"ROLE", "worker"}};
  spec.files.push_back(
      {"", std::string("#!/bin/sh\necho \"entry as $ROLE\"\n"), "/docker-entrypoint.sh", 0755});
  std::string logs;
  auto built =
      templates.Build(spec, [&](const sandbox::BuildLogEntry& e) { logs += e.message + "\n"; });
  ASSERT_TRUE(built) << built.error().message << "\n" << logs;
  EXPECT_NE(logs.find("cannot pull image 'registry.example/worker:1.0'"), std::string::npos)
      << logs;

  sandbox::E2bSandboxProvider client(Config(), http_);
  sandbox::SandboxSpec from_template;
  from_template.template_id = "client-worker";
  auto created = client.Create(from_template);
  ASSERT_TRUE(created) << created.error().message;
  sandbox::CommandSpec entry;
  entry.cmd = "/docker-entrypoint.sh";
  auto ran = client.Run(created->handle, entry);
  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->output.stdout_text, "entry as worker\n");
  EXPECT_EQ(*client.Kill(created->id()), true);

  EXPECT_TRUE(templates.SetPublic("client-worker", true));
  EXPECT_TRUE(templates.SetPublic("client-worker", false));
  EXPECT_EQ(*templates.Delete("client-worker"), true);
  EXPECT_EQ(*templates.Delete("client-worker"), false);
  EXPECT_FALSE(client.Create(from_template));
}

}  // namespace
}  // namespace swarm
