// RunHarness against real processes: a test-only Adapter whose Prepare runs /bin/sh printing
// scripted JSON lines, so the loop (callbacks, session once, verdict, schema extraction,
// cost, timeout, cancel) is checked without any harness CLI installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/redact.h"
#include "harness/adapter.h"
#include "harness/claude_adapter.h"
#include "harness/posix_process_runner.h"
#include "harness/test_support.h"

namespace swarm::harness {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Lines: {"session":…}, {"text":…}, {"model":…}, {"in":N,"out":N}, {"cost":X},
// {"error":…}, {"done":true}. ok = done seen and no error.
class ScriptParser final : public OutputParser {
 public:
  void Feed(std::string_view line) override {
    auto obj = nlohmann::json::parse(line, nullptr, false);
    if (obj.is_discarded() || !obj.is_object()) return;
    if (obj.contains("session")) session_ = obj["session"].get<std::string>();
    if (obj.contains("text")) run_.final_text = obj["text"].get<std::string>();
    if (obj.contains("model")) run_.model = obj["model"].get<std::string>();
    if (obj.contains("in")) run_.usage.input_tokens = obj["in"].get<int64_t>();
    if (obj.contains("out")) run_.usage.output_tokens = obj["out"].get<int64_t>();
    if (obj.contains("cost")) run_.cost_usd = obj["cost"].get<double>();
    if (obj.contains("error")) run_.error = obj["error"].get<std::string>();
    if (obj.contains("done")) done_ = true;
  }
  std::optional<std::string> session_id() const override { return session_; }
  ParsedRun Finish(const ProcessOutcome&) override {
    run_.session_id = session_;
    run_.ok = done_ && !run_.error;
    if (!run_.ok && !run_.error) run_.error = "no done line";
    return run_;
  }

 private:
  std::optional<std::string> session_;
  bool done_ = false;
  ParsedRun run_;
};

class ScriptAdapter final : public Adapter {
 public:
  explicit ScriptAdapter(std::string script, bool claude_parser = false)
      : script_(std::move(script)), claude_parser_(claude_parser) {}
  Provider provider() const override { return Provider::kPi; }
  Result<ProcessSpec> Prepare(const TaskRun& run, const ModelEndpoint&) const override {
    if (script_.empty()) return BadRequest("nothing to run");
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script_};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.cwd = run.work_dir;
    spec.timeout = run.timeout;
    return spec;
  }
  std::unique_ptr<OutputParser> NewParser() const override {
    if (claude_parser_) return ClaudeAdapter().NewParser();
    return std::make_unique<ScriptParser>();
  }

 private:
  std::string script_;
  bool claude_parser_;
};

class RunHarnessTest : public ::testing::Test {
 protected:
  RunHarnessTest() : run_(testing::MakeTaskRun(root_.path())) {
    run_.timeout = milliseconds(10'000);
  }

  RunResult Run(const ScriptAdapter& adapter, const std::atomic<bool>* cancel = nullptr,
                std::function<void(std::string_view)> on_line = nullptr) {
    RunCallbacks callbacks;
    callbacks.on_session = [this](const std::string& id) {
      sessions_.push_back(id);
      events_.push_back("session:" + id);
    };
    callbacks.on_line = [this, on_line](std::string_view line) {
      events_.push_back("line:" + std::string(line));
      if (on_line) on_line(line);
    };
    return RunHarness(adapter, runner_, run_, endpoint_, callbacks, cancel);
  }

  testing::TempDir root_;
  TaskRun run_;
  ModelEndpoint endpoint_;
  PosixProcessRunner runner_{PosixProcessRunner::Options{milliseconds(300), milliseconds(300)}};
  std::vector<std::string> sessions_;
  std::vector<std::string> events_;
};

TEST_F(RunHarnessTest, StreamsLinesAndReportsTheSessionOnceBeforeItsLine) {
  const auto result = Run(ScriptAdapter(
      R"(echo banner; echo '{"session":"s1"}'; echo '{"session":"s1","text":"pong"}'; )"
      R"(echo '{"done":true}')"));
  EXPECT_TRUE(result.ok) << result.failure_reason.value_or("");
  EXPECT_EQ(result.failure_reason, std::nullopt);
  EXPECT_THAT(sessions_, ElementsAre("s1"));
  EXPECT_THAT(events_,
              ElementsAre("line:banner", "session:s1", R"(line:{"session":"s1"})",
                          R"(line:{"session":"s1","text":"pong"})", R"(line:{"done":true})"));
  EXPECT_EQ(result.session_id, "s1");
  EXPECT_EQ(result.final_text, "pong");
  EXPECT_EQ(result.output, std::nullopt);  // no schema: the final text is the answer
  EXPECT_FALSE(result.cancelled);
  EXPECT_GE(result.duration_ms, 0);
}

TEST_F(RunHarnessTest, ExtractsTheJsonValueWhenTheTaskHasASchema) {
  run_.output_schema = R"({"type":"object"})";
  const auto result = Run(ScriptAdapter(
      R"(echo '{"text":"Here you go: {\"reply\":\"pong\"}"}'; echo '{"done":true}')"));
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.output, R"({"reply":"pong"})");
}

TEST_F(RunHarnessTest, AReplyWithoutJsonLeavesTheVerdictToTheServer) {
  run_.output_schema = R"({"type":"object"})";
  const auto result = Run(ScriptAdapter(R"(echo '{"text":"pong"}'; echo '{"done":true}')"));
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.output, std::nullopt);
  EXPECT_EQ(result.final_text, "pong");
}

TEST_F(RunHarnessTest, TakesTheClisOwnCost) {
  const auto result = Run(ScriptAdapter(
      R"(echo '{"model":"gpt-4o","in":1000,"out":100,"cost":0.5}'; echo '{"done":true}')"));
  EXPECT_EQ(result.cost_source, "harness");
  EXPECT_DOUBLE_EQ(result.cost_usd.value_or(-1), 0.5);
  EXPECT_EQ(result.usage.input_tokens, 1000);
  EXPECT_EQ(result.model, "gpt-4o");
}

TEST_F(RunHarnessTest, PricesTokensByModelWhenTheCliGivesNoCost) {
  const auto result =
      Run(ScriptAdapter(R"(echo '{"model":"gpt-4o","in":1000,"out":100}'; echo '{"done":true}')"));
  EXPECT_EQ(result.cost_source, "pricing-table");
  EXPECT_DOUBLE_EQ(result.cost_usd.value_or(-1), (1000 * 2.5 + 100 * 10.0) / 1e6);
}

TEST_F(RunHarnessTest, FallsBackToTheEndpointsModelForPricing) {
  endpoint_.model = "gpt-5-mini";
  const auto result = Run(ScriptAdapter(R"(echo '{"in":1000,"out":0}'; echo '{"done":true}')"));
  EXPECT_EQ(result.model, "gpt-5-mini");
  EXPECT_EQ(result.cost_source, "pricing-table");
}

TEST_F(RunHarnessTest, LeavesAnUnknownModelUnpriced) {
  const auto result = Run(
      ScriptAdapter(R"(echo '{"model":"fake-model","in":1000,"out":100}'; echo '{"done":true}')"));
  EXPECT_EQ(result.cost_source, "unpriced");
  EXPECT_EQ(result.cost_usd, std::nullopt);
  EXPECT_EQ(result.usage.output_tokens, 100);
}

TEST_F(RunHarnessTest, QuotesTheClisErrorExitCodeAndStderr) {
  const auto result =
      Run(ScriptAdapter(R"(echo '{"session":"s9"}'; echo '{"error":"API Error: 500 boom"}'; )"
                        R"(echo 'stack trace line' >&2; exit 2)"));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.session_id, "s9");
  const std::string reason = result.failure_reason.value_or("");
  EXPECT_THAT(reason, StartsWith("pi failed: API Error: 500 boom"));
  EXPECT_THAT(reason, HasSubstr("exit code 2"));
  EXPECT_THAT(reason, HasSubstr("stack trace line"));
}

TEST_F(RunHarnessTest, TrustsTheClisErrorOverExitCodeZero) {
  const auto result = Run(ScriptAdapter(R"(echo '{"error":"Connection error."}')"));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.failure_reason, "pi failed: Connection error.");
}

TEST_F(RunHarnessTest, RedactsSecretsInTheReason) {
  RegisterSecret("sk-leaky-secret-77");
  const auto result = Run(ScriptAdapter(R"(echo 'bad key sk-leaky-secret-77' >&2; exit 1)"));
  ClearSecretsForTest();
  EXPECT_THAT(result.failure_reason.value_or(""), HasSubstr("[REDACTED]"));
  EXPECT_THAT(result.failure_reason.value_or(""), ::testing::Not(HasSubstr("sk-leaky")));
}

TEST_F(RunHarnessTest, ATimeoutSaysSoAndKeepsTheSession) {
  run_.timeout = milliseconds(500);
  const auto result = Run(ScriptAdapter(R"(echo '{"session":"s2"}'; sleep 100)"));
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.cancelled);
  EXPECT_EQ(result.failure_reason, "pi timed out after 0.5 s");
  EXPECT_THAT(sessions_, ElementsAre("s2"));
  EXPECT_LT(result.duration_ms, 3000);
}

TEST_F(RunHarnessTest, ACancelStopsTheRunAndSaysSo) {
  std::atomic<bool> cancel{false};
  const auto result =
      Run(ScriptAdapter(R"(echo '{"session":"s3"}'; sleep 100; echo '{"done":true}')"), &cancel,
          [&](std::string_view) { cancel = true; });
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.cancelled);
  EXPECT_THAT(result.failure_reason.value_or(""), StartsWith("cancelled: pi was stopped after"));
  EXPECT_LT(result.duration_ms, 3000);
}

TEST_F(RunHarnessTest, ACancelBeforeTheStartRunsNothing) {
  std::atomic<bool> cancel{true};
  const auto result = Run(ScriptAdapter("echo never"), &cancel);
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(events_.empty());
}

TEST_F(RunHarnessTest, APrepareFailureIsTheReason) {
  const auto result = Run(ScriptAdapter(""));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.failure_reason, "pi: cannot prepare the run: nothing to run");
}

TEST_F(RunHarnessTest, AMissingCliIsTheReason) {
  testing::TempDir root;
  auto run = testing::MakeTaskRun(root.path());
  run.base_env["PATH"] = root.path().string();  // no CLI there
  PosixProcessRunner runner;
  const auto result = RunHarness(*MakeAdapter(Provider::kCodex), runner, run,
                                 {ModelEndpoint::Api::kOpenAi, "", "k", {}}, {}, nullptr);
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.failure_reason.value_or(""), StartsWith("cannot start codex: "));
  EXPECT_THAT(result.failure_reason.value_or(""), HasSubstr("codex is not on PATH"));
}

TEST_F(RunHarnessTest, DrivesARealParserEndToEnd) {
  // Claude's stream-json, as the CLI prints it, through the real parser.
  run_.output_schema = R"({"type":"object","required":["reply"]})";
  const auto result = Run(ScriptAdapter(
      R"(echo '{"type":"system","subtype":"init","session_id":"c-1","model":"claude-opus-4-8[1m]"}'; )"
      R"(echo '{"type":"result","subtype":"success","is_error":false,"num_turns":1,)"
      R"("result":"{\"reply\":\"pong\"}","session_id":"c-1","total_cost_usd":0.01,)"
      R"("usage":{"input_tokens":10,"output_tokens":5}}')",
      /*claude_parser=*/true));
  EXPECT_TRUE(result.ok) << result.failure_reason.value_or("");
  EXPECT_THAT(sessions_, ElementsAre("c-1"));
  EXPECT_EQ(result.output, R"({"reply":"pong"})");
  EXPECT_EQ(result.cost_source, "harness");
  EXPECT_EQ(result.num_turns, 1);
}

TEST_F(RunHarnessTest, ReportsTheMcpStateOnlyForARunWithTheServer) {
  // claude's parser: init says connected, and one store-progress call succeeded.
  const std::string script =
      R"(echo '{"type":"system","subtype":"init","session_id":"s1","mcp_servers":[{"name":"agent-swarm","status":"connected"}]}'; )"
      R"(echo '{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t1","name":"mcp__agent-swarm__store-progress","input":{"taskId":"task-1","status":"completed","output":"pong"}}]},"session_id":"s1"}'; )"
      R"(echo '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]},"session_id":"s1"}'; )"
      R"(echo '{"type":"result","subtype":"success","is_error":false,"result":"pong","session_id":"s1"}')";
  const auto without = Run(ScriptAdapter(script, true));
  EXPECT_TRUE(without.ok);
  EXPECT_EQ(without.mcp_status, McpStatus::kOff);
  EXPECT_TRUE(without.mcp_calls.empty());
  EXPECT_FALSE(FinishedThroughMcp(without));

  run_.mcp = testing::TestMcpAccess();
  const auto with = Run(ScriptAdapter(script, true));
  EXPECT_EQ(with.mcp_status, McpStatus::kConnected);
  ASSERT_EQ(with.mcp_calls.size(), 1u);
  EXPECT_TRUE(FinishedThroughMcp(with));
}

}  // namespace
}  // namespace swarm::harness
