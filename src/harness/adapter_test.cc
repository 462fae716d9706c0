// What holds for every adapter: names, the factory, and the rules of Prepare that keep a task
// isolated (config under its home, the key only in the environment, stdin never left open).
#include "harness/adapter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/cli_support.h"
#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr Provider kAll[] = {Provider::kClaude, Provider::kCodex, Provider::kOpencode,
                             Provider::kPi};

TEST(Provider, NamesRoundTrip) {
  for (Provider provider : kAll) {
    EXPECT_EQ(ParseProvider(ProviderName(provider)), provider);
    auto adapter = MakeAdapter(provider);
    ASSERT_NE(adapter, nullptr);
    EXPECT_EQ(adapter->provider(), provider);
  }
  EXPECT_EQ(ParseProvider("Claude"), Provider::kClaude);
  EXPECT_EQ(ParseProvider("OPENCODE"), Provider::kOpencode);
  EXPECT_EQ(ParseProvider("gemini"), std::nullopt);
  EXPECT_EQ(ParseProvider(""), std::nullopt);
}

ModelEndpoint EndpointFor(Provider provider) {
  ModelEndpoint endpoint;
  endpoint.api =
      provider == Provider::kClaude ? ModelEndpoint::Api::kAnthropic : ModelEndpoint::Api::kOpenAi;
  endpoint.base_url = "http://127.0.0.1:8765";
  endpoint.api_key = "sk-very-secret-4242";
  return endpoint;
}

class EveryAdapter : public ::testing::TestWithParam<Provider> {};

TEST_P(EveryAdapter, KeepsTheKeyInTheEnvironmentOnly) {
  testing::TempDir root;
  const auto run = testing::MakeTaskRun(root.path());
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  for (const auto& arg : spec->argv) EXPECT_THAT(arg, Not(HasSubstr("sk-very-secret"))) << arg;
  for (const auto& file : testing::FilesUnder(run.home_dir)) {
    EXPECT_THAT(testing::ReadFile(file), Not(HasSubstr("sk-very-secret"))) << file;
  }
  int holders = 0;
  for (const auto& [key, value] : spec->env) holders += value == "sk-very-secret-4242";
  EXPECT_EQ(holders, 1);
  // Nor does the CLI get the swarm's own key.
  EXPECT_EQ(spec->env.count("AGENT_SWARM_API_KEY"), 0u);
  EXPECT_EQ(spec->env.count("API_KEY"), 0u);
}

TEST_P(EveryAdapter, PutsHomeAndConfigUnderTheTasksHome) {
  testing::TempDir root;
  const auto run = testing::MakeTaskRun(root.path());
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_TRUE(spec.has_value());
  const std::string home = run.home_dir.string() + "/";
  for (const char* var :
       {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
        "CLAUDE_CONFIG_DIR", "CODEX_HOME", "PI_CODING_AGENT_DIR"}) {
    const auto it = spec->env.find(var);
    if (it == spec->env.end()) continue;
    EXPECT_THAT(it->second, StartsWith(home)) << var;
    EXPECT_TRUE(std::filesystem::is_directory(it->second)) << var;
  }
  EXPECT_EQ(spec->env["PATH"], run.base_env.at("PATH"));
  EXPECT_EQ(spec->argv[0], ProviderName(GetParam()));  // found on the child's PATH
  EXPECT_EQ(spec->cwd, run.work_dir);
  EXPECT_EQ(spec->timeout, run.timeout);
}

TEST_P(EveryAdapter, GivesThePromptOnStdinAndNeverOnArgv) {
  testing::TempDir root;
  // Any process on the machine can read another's argv (/proc/<pid>/cmdline).
  const auto run = testing::MakeTaskRun(root.path(), "a private prompt 7f3a9c");
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_TRUE(spec.has_value());
  // The runner writes stdin_data and then closes the pipe.
  EXPECT_EQ(spec->stdin_data, "Task ID: task-1\n\n" + run.prompt);
  for (const auto& arg : spec->argv) EXPECT_THAT(arg, Not(HasSubstr("7f3a9c"))) << arg;
}

TEST_P(EveryAdapter, AsksForJsonMatchingTheSchema) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path(), "Reply with exactly: pong");
  run.output_schema = R"({"type":"object","properties":{"reply":{"type":"string"}}})";
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_TRUE(spec.has_value());
  std::string prompt = spec->stdin_data.value_or("");
  for (const auto& arg : spec->argv) {
    if (arg.find("pong") != std::string::npos) prompt = arg;
  }
  EXPECT_THAT(prompt, StartsWith("Task ID: task-1\n\nReply with exactly: pong"));
  EXPECT_THAT(prompt, HasSubstr("JSON"));
  EXPECT_THAT(prompt, HasSubstr(*run.output_schema));
}

// A JSON object `depth` levels deep, with `fields` in its outermost level.
std::string Nested(size_t depth, const std::string& fields = "") {
  return "{" + fields + "\"x\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

// Found by fuzz_harness_lines: a token count past int64's range was cast from double (UB).
TEST(CliSupport, AnIntegerTooLargeForInt64IsZero) {
  const auto line = nlohmann::json::parse(R"({"huge":1e300,"neg":-1e19,"ok":12.7,"n":42})");
  EXPECT_EQ(cli::IntAt(line, "huge"), 0);
  EXPECT_EQ(cli::IntAt(line, "neg"), 0);
  EXPECT_EQ(cli::IntAt(line, "ok"), 12);
  EXPECT_EQ(cli::IntAt(line, "n"), 42);
}

TEST(CliSupport, ALineNestedDeeperThanTheLimitIsNotJson) {
  EXPECT_TRUE(cli::ParseObject(Nested(64)).has_value());
  EXPECT_FALSE(cli::ParseObject(Nested(65)).has_value());
  EXPECT_FALSE(cli::ParseObject(Nested(200'000)).has_value());
}

TEST_P(EveryAdapter, ALineNestedTooDeepIsKeptAsRawTextNotParsed) {
  // A model's output is input too: a result line nested 200,000 levels must neither crash
  // the parser nor count as the result.
  const std::string deep =
      Nested(200'000, R"("type":"result","subtype":"success","is_error":false,"result":"pong",)");
  auto parser = MakeAdapter(GetParam())->NewParser();
  parser->Feed(deep);
  ProcessOutcome outcome;
  outcome.exit_code = 0;
  const ParsedRun parsed = parser->Finish(outcome);
  EXPECT_EQ(parsed.final_text, "");
}

TEST_P(EveryAdapter, NeedsAHomeDirectory) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path());
  run.home_dir.clear();
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_FALSE(spec.has_value());
  EXPECT_THAT(spec.error().message, HasSubstr("home"));
}

TEST_P(EveryAdapter, IgnoresLinesThatAreNotJson) {
  auto parser = MakeAdapter(GetParam())->NewParser();
  for (const char* line : {"", "   ", "banner text", "{not json", "[1,2]", "42", "\"s\""}) {
    parser->Feed(line);
  }
  EXPECT_EQ(parser->session_id(), std::nullopt);
  const ParsedRun run = parser->Finish(ProcessOutcome{});
  EXPECT_FALSE(run.ok);
  EXPECT_TRUE(run.error.has_value());
}

TEST_P(EveryAdapter, GivesTheMcpTokenOnlyThroughTheEnvironment) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path());
  run.mcp = testing::TestMcpAccess();
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_EQ(spec->env[kMcpTokenEnv], run.mcp->token);
  EXPECT_EQ(spec->env[kMcpAgentEnv], "agent-7");
  EXPECT_EQ(spec->env[kMcpUrlEnv], "http://127.0.0.1:3013/mcp");
  EXPECT_EQ(spec->env[kMcpTaskEnv], "task-1");
  int holders = 0;
  for (const auto& [key, value] : spec->env)
    holders += value.find("token-must-not-leak") != std::string::npos;
  EXPECT_EQ(holders, 1);
  for (const auto& arg : spec->argv) EXPECT_THAT(arg, Not(HasSubstr("token-must-not-leak"))) << arg;
  EXPECT_FALSE(testing::AnyFileHolds(run.home_dir, "token-must-not-leak"));
  EXPECT_FALSE(testing::AnyFileHolds(run.work_dir, "token-must-not-leak"));
  // The config names the server's URL somewhere under the task's home (pi: the environment).
  if (GetParam() != Provider::kPi) {
    EXPECT_TRUE(testing::AnyFileHolds(run.home_dir, "http://127.0.0.1:3013/mcp"));
  }
}

TEST_P(EveryAdapter, WithoutMcpConfiguresNoServer) {
  testing::TempDir root;
  const auto run = testing::MakeTaskRun(root.path());
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_TRUE(spec.has_value());
  for (const char* var : {kMcpTokenEnv, kMcpAgentEnv, kMcpUrlEnv, kMcpTaskEnv}) {
    EXPECT_EQ(spec->env.count(var), 0u) << var;
  }
  EXPECT_FALSE(testing::AnyFileHolds(run.home_dir, "X-Source-Task-Id"));
  EXPECT_FALSE(testing::AnyFileHolds(run.home_dir, "SWARM_MCP"));
  EXPECT_THAT(spec->stdin_data.value_or(""), Not(HasSubstr("store-progress")));
}

TEST_P(EveryAdapter, TellsTheAgentToFinishThroughStoreProgress) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path(), "Reply with exactly: pong");
  run.mcp = testing::TestMcpAccess();
  run.output_schema = R"({"type":"object"})";
  auto spec = MakeAdapter(GetParam())->Prepare(run, EndpointFor(GetParam()));
  ASSERT_TRUE(spec.has_value());
  const std::string prompt = spec->stdin_data.value_or("");
  EXPECT_THAT(prompt, StartsWith("Task ID: task-1\n\nReply with exactly: pong"));
  EXPECT_THAT(prompt, HasSubstr("store-progress"));
  EXPECT_THAT(prompt, HasSubstr("taskId \"task-1\", status \"completed\""));
  EXPECT_THAT(prompt, HasSubstr("matches the JSON Schema above"));
  EXPECT_THAT(prompt, HasSubstr("call store-progress again"));
  EXPECT_THAT(prompt, HasSubstr("final answer"));
  // stub-llm reads markers anywhere in the prompt: ours must hold none.
  for (const char* marker : {"REPLY:", "RUN_SHELL:", "CALL_TOOL:", "HTTP_ERROR:", "DELAY_MS:",
                             "MCP_CALL:", "MCP_RETRY:"}) {
    EXPECT_EQ(prompt.find(marker), std::string::npos) << marker;
  }
}

TEST(McpCalls, FinishedThroughMcpNeedsAnAcceptedStoreProgressWithAStatus) {
  RunResult result;
  EXPECT_FALSE(FinishedThroughMcp(result));
  result.mcp_calls.push_back({"store-progress", "completed", true});    // refused
  result.mcp_calls.push_back({"store-progress", std::nullopt, false});  // progress only
  result.mcp_calls.push_back({"get-task-details", std::nullopt, false});
  EXPECT_FALSE(FinishedThroughMcp(result));
  result.mcp_calls.push_back({"store-progress", "completed", std::nullopt});  // no result seen
  EXPECT_FALSE(FinishedThroughMcp(result));
  result.mcp_calls.push_back({"store-progress", "completed", false});
  EXPECT_TRUE(FinishedThroughMcp(result));
}

TEST(McpCalls, TheLogKeepsArgumentsFromObjectsOrJsonTextAndIsBounded) {
  cli::McpCallLog log;
  log.Started("a", "store-progress", nlohmann::json{{"taskId", "t"}, {"status", "completed"}});
  log.Started("b", "store-progress", R"({"taskId":"t","status":"failed"})");
  log.Started("a", "ignored", nlohmann::json::object());  // a second start of the same id
  log.Ended("b", true);
  log.Ended("zzz", false);  // never started
  ASSERT_EQ(log.calls().size(), 2u);
  EXPECT_EQ(log.calls()[0].status_argument, "completed");
  EXPECT_EQ(log.calls()[0].is_error, std::nullopt);
  EXPECT_EQ(log.calls()[1].status_argument, "failed");
  EXPECT_EQ(log.calls()[1].is_error, true);
  for (size_t i = 0; i < 2 * cli::McpCallLog::kMaxMcpCalls; ++i) {
    log.Started("id" + std::to_string(i), "get-swarm", nlohmann::json::object());
  }
  EXPECT_EQ(log.calls().size(), cli::McpCallLog::kMaxMcpCalls);
}

INSTANTIATE_TEST_SUITE_P(Harness, EveryAdapter, ::testing::ValuesIn(kAll),
                         [](const auto& info) { return std::string(ProviderName(info.param)); });

}  // namespace
}  // namespace swarm::harness
