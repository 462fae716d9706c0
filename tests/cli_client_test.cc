// The client commands against a running server: tables by default, JSON with --json, the
// server's error and a non-zero status on failure.
#include <fstream>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;

class CliClientTest : public ::testing::Test {
 protected:
  CommandResult Cli(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), AgentSwarmBinary());
    if (!env.count("NO_DEFAULTS")) {
      env.emplace("MCP_BASE_URL", api_.url());
      env.emplace("AGENT_SWARM_API_KEY", kTestApiKey);
    }
    env.erase("NO_DEFAULTS");
    return RunCommand(args, env);
  }

  TempDir dir_;
  ApiProcess api_{dir_.File("swarm.sqlite")};
  TestApi client_{api_.url()};
};

TEST_F(CliClientTest, CreateGetListCancel) {
  auto created = Cli({"tasks", "create", "Reply with exactly: pong", "--agent-id", "smoke-x",
                      "--priority", "70", "--tag", "smoke", "--output-schema",
                      R"({"type":"object","required":["reply"]})", "--json"});
  ASSERT_EQ(created.status, 0) << created.err;
  json task = json::parse(created.out);
  const std::string id = task["id"];
  EXPECT_EQ(task["status"], "pending");
  EXPECT_EQ(task["priority"], 70);
  EXPECT_EQ(task["tags"], json({"smoke"}));

  auto got = Cli({"tasks", "get", id});
  ASSERT_EQ(got.status, 0) << got.err;
  EXPECT_NE(got.out.find("status:          pending"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("task_created"), std::string::npos) << got.out;

  auto listed = Cli({"tasks", "list", "--status", "pending"});
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find(id), std::string::npos);
  EXPECT_NE(listed.out.find("1 of 1 task(s)"), std::string::npos) << listed.out;

  auto cancelled = Cli({"tasks", "cancel", id, "--reason", "no longer needed"});
  ASSERT_EQ(cancelled.status, 0) << cancelled.err;
  EXPECT_NE(cancelled.out.find("cancelled"), std::string::npos);
  EXPECT_EQ(client_.Get("/api/tasks/" + id).body["failureReason"], "no longer needed");

  auto again = Cli({"tasks", "cancel", id});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("HTTP 400"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("already cancelled"), std::string::npos) << again.err;
}

TEST_F(CliClientTest, AgentsListAndGet) {
  ASSERT_EQ(client_.Register("smoke-x", 2).status, 201);
  auto listed = Cli({"agents", "list"});
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find("smoke-x"), std::string::npos);
  EXPECT_NE(listed.out.find("0/2"), std::string::npos) << listed.out;
  auto got = Cli({"agents", "get", "smoke-x", "--json"});
  ASSERT_EQ(got.status, 0) << got.err;
  EXPECT_EQ(json::parse(got.out)["capacity"]["max"], 2);
  auto missing = Cli({"agents", "get", "nobody"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("agent nobody not found"), std::string::npos) << missing.err;
}

TEST_F(CliClientTest, FlagsOverrideTheEnvironment) {
  const std::string key_file = dir_.File("flag.key");
  std::ofstream(key_file) << kTestApiKey << "\n";
  auto r = Cli({"tasks", "list", "--api-url", api_.url(), "--api-key-file", key_file},
               {{"NO_DEFAULTS", ""}, {"AGENT_SWARM_API_KEY", "env-key-loses-0123"}});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(CliClientTest, ErrorsAreClearAndRedacted) {
  auto wrong = Cli({"tasks", "list"}, {{"NO_DEFAULTS", ""},
                                       {"MCP_BASE_URL", api_.url()},
                                       {"AGENT_SWARM_API_KEY", "wrong-key-abcdef"}});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("HTTP 401: Unauthorized"), std::string::npos) << wrong.err;

  auto nokey = Cli({"tasks", "list"}, {{"NO_DEFAULTS", ""}, {"MCP_BASE_URL", api_.url()}});
  EXPECT_EQ(nokey.status, 1);
  EXPECT_NE(nokey.err.find("no API key"), std::string::npos) << nokey.err;

  auto down = Cli({"tasks", "list"}, {{"NO_DEFAULTS", ""},
                                      {"MCP_BASE_URL", "http://127.0.0.1:1"},
                                      {"API_KEY", "some-key-123456"}});
  EXPECT_EQ(down.status, 1);
  EXPECT_NE(down.err.find("127.0.0.1:1"), std::string::npos) << down.err;
  EXPECT_EQ(down.err.find("some-key-123456"), std::string::npos) << down.err;

  auto bad_schema = Cli({"tasks", "create", "x", "--output-schema", "{not json"});
  EXPECT_EQ(bad_schema.status, 1);
  EXPECT_NE(bad_schema.err.find("--output-schema is not valid JSON"), std::string::npos);

  auto bad_flag = Cli({"tasks", "list", "--limit", "0"});
  EXPECT_NE(bad_flag.status, 0);
}

TEST_F(CliClientTest, TheKeyComesFromAFileAndNeverFromArgv) {
  const std::map<std::string, std::string> no_key = {{"NO_DEFAULTS", ""},
                                                     {"MCP_BASE_URL", api_.url()}};
  const std::string key_file = dir_.File("swarm.key");
  std::ofstream(key_file) << "  " << kTestApiKey << "\nnot part of the key\n";
  auto from_file = Cli({"tasks", "list", "--api-key-file", key_file}, no_key);
  EXPECT_EQ(from_file.status, 0) << from_file.err;
  EXPECT_EQ(from_file.err, "");

  // A key on argv is refused (the seed has --api-key only on e2b start-worker), never echoed.
  auto from_argv = Cli({"agents", "list", "--api-key", kTestApiKey}, no_key);
  EXPECT_EQ(from_argv.status, 2) << from_argv.err;
  EXPECT_NE(from_argv.err.find("--api-key is not accepted here"), std::string::npos)
      << from_argv.err;
  EXPECT_EQ(from_argv.err.find(kTestApiKey), std::string::npos) << from_argv.err;
  EXPECT_EQ(from_argv.out.find(kTestApiKey), std::string::npos) << from_argv.out;

  auto missing = Cli({"tasks", "list", "--api-key-file", dir_.File("nope.key")}, no_key);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("nope.key: cannot be read"), std::string::npos) << missing.err;

  const std::string empty_file = dir_.File("empty.key");
  std::ofstream(empty_file) << "\n";
  auto empty = Cli({"tasks", "list", "--api-key-file", empty_file}, no_key);
  EXPECT_EQ(empty.status, 1);
  EXPECT_NE(empty.err.find("empty.key: the first line holds no key"), std::string::npos)
      << empty.err;

  auto both = Cli({"tasks", "list", "--api-key-file", key_file, "--api-key", "x-key-1234"});
  EXPECT_NE(both.status, 0);  // one source, not two
}

TEST_F(CliClientTest, CredentialsInTheApiUrlNeverReachTheOutput) {
  auto r = Cli({"tasks", "list", "--api-url", "http://admin:hunter2-pass@127.0.0.1:1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.find("hunter2-pass"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("http://[REDACTED]@127.0.0.1:1"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace swarm::testing_support
