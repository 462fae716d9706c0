#include "worker/task_report.h"

#include <gtest/gtest.h>

#include "core/version.h"

namespace swarm::worker {
namespace {

using nlohmann::json;

TEST(ParsePollReply, NullTriggerIsNoTask) {
  auto r = ParsePollReply(json::parse(R"({"trigger":null})"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST(ParsePollReply, TaskAssignedGivesTheTask) {
  auto r = ParsePollReply(json::parse(R"({"trigger":{"type":"task_assigned","taskId":"t1",
      "task":{"id":"t1","task":"Reply with exactly: pong","status":"in_progress",
              "outputSchema":{"type":"object"},"model":"m1"}}})"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->has_value());
  const ClaimedTask& t = **r;
  EXPECT_EQ(t.id, "t1");
  EXPECT_EQ(t.text, "Reply with exactly: pong");
  EXPECT_EQ(t.output_schema, R"({"type":"object"})");
  EXPECT_EQ(t.model, "m1");

  r = ParsePollReply(json::parse(
      R"({"trigger":{"type":"task_assigned","taskId":"t2","task":{"task":"x","outputSchema":null,"model":null}}})"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->output_schema, std::nullopt);
  EXPECT_EQ((*r)->model, std::nullopt);
}

TEST(ActiveSessionBody, NamesTheTaskAndItsFirst200Characters) {
  ClaimedTask task;
  task.id = "t1";
  // 150 two-byte characters, then 100 ASCII ones: 200 characters are 350 bytes.
  std::string text;
  for (int i = 0; i < 150; ++i) text += "\xC3\xA9";  // é
  text += std::string(100, 'x');
  task.text = text;
  const json body = ActiveSessionBody("agent-1", task, "instance-1");
  EXPECT_EQ(body["agentId"], "agent-1");
  EXPECT_EQ(body["taskId"], "t1");
  EXPECT_EQ(body["triggerType"], "task_assigned");
  EXPECT_EQ(body["runtimeInstanceId"], "instance-1");
  EXPECT_EQ(body["taskDescription"].get<std::string>(), text.substr(0, 350));

  task.text = "short \xFF text";  // not UTF-8: sanitized, so the body can be sent
  const std::string short_text = ActiveSessionBody("a", task, "i")["taskDescription"];
  EXPECT_EQ(short_text, "short \xEF\xBF\xBD text");
}

TEST(ParsePollReply, RejectsWhatItCannotRun) {
  EXPECT_FALSE(ParsePollReply(json::parse(R"({})")));
  EXPECT_FALSE(ParsePollReply(json::parse(R"({"trigger":{"type":"task_offered","taskId":"t"}})")));
  EXPECT_FALSE(ParsePollReply(json::parse(R"({"trigger":{"type":"task_assigned"}})")));
}

TEST(RegisterBody, CarriesRoleProviderAndCapacity) {
  WorkerConfig c;
  c.agent_name = "worker-a";
  c.role = "lead";
  c.is_lead = true;
  c.max_tasks = 3;
  c.provider_name = "pi";
  json body = RegisterBody(c, "0190a5f2-instance");
  json expected = json::parse(R"({"name":"worker-a","role":"lead","isLead":true,"maxTasks":3,
                                  "provider":"pi","harness_provider":"pi",
                                  "runtimeInstanceId":"0190a5f2-instance"})");
  expected["version"] = BuildVersion();
  EXPECT_EQ(body, expected);
  c.capabilities = {"core"};
  EXPECT_EQ(RegisterBody(c, "i")["capabilities"], json::array({"core"}));
}

TEST(RegisterBody, ReportsTheBuildVersionAndTheClisWhenKnown) {
  WorkerConfig c;
  EXPECT_TRUE(BuildVersion().starts_with(SWARM_VERSION));
  EXPECT_EQ(RegisterBody(c, "i")["version"], BuildVersion());
  EXPECT_FALSE(RegisterBody(c, "i").contains("cliVersion"));  // the probe failed: absent
  c.cli_version = "";
  EXPECT_FALSE(RegisterBody(c, "i").contains("cliVersion"));
  c.cli_version = "2.1.197 (Claude Code)";
  EXPECT_EQ(RegisterBody(c, "i")["cliVersion"], "2.1.197 (Claude Code)");
}

TEST(SessionBody, NamesTheProviderSession) {
  EXPECT_EQ(SessionBody("s-1", "codex", std::nullopt),
            json::parse(R"({"claudeSessionId":"s-1","provider":"codex"})"));
  EXPECT_EQ(SessionBody("s-1", "claude", "sonnet")["model"], "sonnet");
}

// Built through a function: GCC 12 at -O3 reports a false -Wmaybe-uninitialized when a test
// body assigns an optional<string> member of a local RunResult.
harness::RunResult Failed(std::optional<std::string> reason, bool cancelled = false) {
  harness::RunResult r;
  r.failure_reason = std::move(reason);
  r.cancelled = cancelled;
  return r;
}

harness::RunResult Ok(std::string text) {
  harness::RunResult r;
  r.ok = true;
  r.final_text = std::move(text);
  return r;
}

TEST(FinishBody, CompletedWithTheExtractedJsonWhenThereIsASchema) {
  harness::RunResult r = Ok("Here you go: {\"reply\":\"pong\"}");
  r.output = R"({"reply":"pong"})";
  EXPECT_EQ(FinishBody(r, /*has_schema=*/true, false),
            json::parse(R"({"status":"completed","output":"{\"reply\":\"pong\"}"})"));
  // Nothing extracted: the text goes as is and the server names the mismatch.
  r.output.reset();
  EXPECT_EQ(FinishBody(r, true, false)["output"], "Here you go: {\"reply\":\"pong\"}");
}

TEST(FinishBody, CompletedWithTheFinalTextWithoutASchema) {
  EXPECT_EQ(FinishBody(Ok("pong"), false, false)["output"], "pong");
  EXPECT_EQ(FinishBody(Ok(""), false, false)["output"],
            "Process completed successfully (no output captured)");
}

TEST(FinishBody, FailedWithTheReason) {
  EXPECT_EQ(FinishBody(Failed("claude: API Error: 500"), false, false),
            json::parse(R"({"status":"failed","failureReason":"claude: API Error: 500"})"));
  EXPECT_EQ(FinishBody(Failed(std::nullopt), false, false)["failureReason"], "harness run failed");
  EXPECT_LT(FinishBody(Failed(std::string(10'000, 'e')), false, false)["failureReason"]
                .get<std::string>()
                .size(),
            4200u);
}

TEST(FinishBody, ShutdownCancelIsAShutdownFailure) {
  EXPECT_EQ(FinishBody(Failed("cancelled", /*cancelled=*/true), false, /*shutting_down=*/true),
            json::parse(R"({"status":"failed","failureReason":"worker shutting down"})"));
  // A run that ended by itself before the cancel reached it keeps its own result.
  EXPECT_EQ(FinishBody(Ok("done"), false, true)["status"], "completed");
}

TEST(SessionCostBody, NothingWhenTheCliNeverRan) {
  EXPECT_EQ(SessionCostBody(Failed("spawn failed"), "rs", "t", "a", "claude"), std::nullopt);
}

TEST(SessionCostBody, TheCliFigureOrUnpriced) {
  harness::RunResult r = Ok("x");
  r.session_id = "s";
  r.usage.input_tokens = 10;
  r.usage.output_tokens = 3;
  r.usage.cache_read_tokens = 2;
  r.usage.reasoning_tokens = 1;
  r.cost_usd = 0.0125;
  r.cost_source = "harness";
  r.model = "m";
  r.num_turns = 2;
  r.duration_ms = 1234;
  auto body = SessionCostBody(r, "runner-1", "t1", "agent-1", "claude");
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, json::parse(R"({"sessionId":"runner-1","taskId":"t1","agentId":"agent-1",
      "provider":"claude","totalCostUsd":0.0125,"costSource":"harness","inputTokens":10,
      "outputTokens":3,"cacheReadTokens":2,"cacheWriteTokens":0,"reasoningOutputTokens":1,
      "durationMs":1234,"isError":false,"model":"m","numTurns":2})"));
  r.cost_usd.reset();
  r.cost_source = "pricing-table";  // without a figure it cannot claim a source
  body = SessionCostBody(r, "runner-1", "t1", "agent-1", "codex");
  EXPECT_EQ((*body)["totalCostUsd"], 0.0);
  EXPECT_EQ((*body)["costSource"], "unpriced");
}

TEST(SanitizeUtf8, KeepsValidTextAndReplacesBrokenBytes) {
  EXPECT_EQ(SanitizeUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(SanitizeUtf8("h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80"),
            "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80");
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("cut \xE2\x9C"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  // The result always encodes.
  EXPECT_NO_THROW(json(SanitizeUtf8("\x80\x81 x \xF5")).dump());
}

TEST(SessionLogsBody, SanitizesLines) {
  json body = SessionLogsBody("rs", "t1", "pi", {"ok", "bad \xFF"});
  EXPECT_EQ(body["sessionId"], "rs");
  EXPECT_EQ(body["taskId"], "t1");
  EXPECT_EQ(body["cli"], "pi");
  EXPECT_EQ(body["iteration"], 1);
  EXPECT_EQ(body["lines"][1], "bad \xEF\xBF\xBD");
}

}  // namespace
}  // namespace swarm::worker
