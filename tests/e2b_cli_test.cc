// The real `agent-swarm e2b` binary's edges: usage errors exit 2 with a clear message (CLI11's
// own parse errors too), a missing E2B key exits 1, and --dry-run --json prints the plan with
// no secret from the environment or the command line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

constexpr char kSwarmKey[] = "swarm-key-e2b-cli-1234";
constexpr char kE2bKey[] = "e2b_cli_test_key_0123456789";
constexpr char kModelKey[] = "sk-ant-e2b-cli-model-key-5678";

CommandResult E2b(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), {AgentSwarmBinary(), "e2b"});
  return RunCommand(args, env, std::chrono::seconds(20));
}

TEST(E2bCliTest, UsageErrorsExitTwo) {
  CommandResult r = E2b({"start-worker", "--api-url", "http://127.0.0.1:9", "--secret", "NOEQ"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--secret takes KEY=VALUE"), std::string::npos) << r.err;
  EXPECT_EQ(E2b({"start-worker", "--no-such-flag"}).status, 2);
  EXPECT_EQ(E2b({}).status, 2);
  EXPECT_EQ(E2b({"kill"}).status, 2);
  EXPECT_EQ(E2b({"build-template", "--source", "local"}).status, 2);
}

TEST(E2bCliTest, NoE2bKeyExitsOne) {
  TempDir dir;  // no .env there
  CommandResult r = RunCommand(
      {"/bin/sh", "-c", "cd \"$1\" && exec \"$2\" e2b list", "sh", dir.path(), AgentSwarmBinary()},
      {}, std::chrono::seconds(20));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("no E2B API key"), std::string::npos) << r.err;
}

TEST(E2bCliTest, DryRunJsonCarriesNoSecret) {
  CommandResult r = E2b(
      {"start-worker", "--api-url", "https://swarm.example.com", "--dry-run", "--json",
       "--agent-id", "smoke-claude-1", "--secret", "GITHUB_TOKEN=ghp_e2bclitest0123456789abcdef"},
      {{"AGENT_SWARM_API_KEY", kSwarmKey},
       {"E2B_API_KEY", kE2bKey},
       {"ANTHROPIC_API_KEY", kModelKey}});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["agentId"], "smoke-claude-1");
  EXPECT_EQ(plan["envVars"]["ANTHROPIC_API_KEY"], "[REDACTED:ANTHROPIC_API_KEY]");
  EXPECT_EQ(plan["envVars"].count("E2B_API_KEY"), 0u);
  for (const char* secret : {kSwarmKey, kE2bKey, kModelKey, "ghp_e2bclitest0123456789abcdef"}) {
    EXPECT_EQ(r.out.find(secret), std::string::npos) << secret;
    EXPECT_EQ(r.err.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace swarm::testing_support
