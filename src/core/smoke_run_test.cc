#include "core/smoke_run.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;

SmokeRequest Request() {
  SmokeRequest r;
  r.providers = {"claude", "codex"};
  r.template_id = "agent-swarm-worker-abc";
  r.api_url = "https://swarm.example.com";
  r.api_key = "swarm-key-secret-0001";
  r.deployment_sha = "abc";
  r.model_base_url = "http://127.0.0.1:9";
  r.secrets["codex"] = {{"OPENAI_API_KEY", "sk-secret-value-0002"}};
  return r;
}

TEST(SmokeRun, RequestJsonNeverCarriesTheKeyNorASecretValue) {
  const std::string text = SmokeRequestToJson(Request()).dump();
  EXPECT_EQ(text.find("swarm-key-secret-0001"), std::string::npos) << text;
  EXPECT_EQ(text.find("sk-secret-value-0002"), std::string::npos) << text;
  EXPECT_EQ(text.find("apiKey"), std::string::npos) << text;
  // The names stay: which variables the run was given.
  EXPECT_EQ(SmokeRequestToJson(Request())["secrets"], json({{"codex", {"OPENAI_API_KEY"}}}));
  const SmokeRequest redacted = RedactedSmokeRequest(Request());
  EXPECT_TRUE(redacted.api_key.empty());
  EXPECT_EQ(redacted.secrets.at("codex").at("OPENAI_API_KEY"), "[REDACTED]");
}

TEST(SmokeRun, RoundTripsThroughJson) {
  SmokeRun run;
  run.id = "run-1";
  run.status = SmokeRunStatus::kFailed;
  run.request = Request();
  run.api_version = "0.1.0";
  run.created_at = "2026-11-29T10:00:00.000Z";
  run.updated_at = "2026-11-29T10:00:05.000Z";
  run.finished_at = "2026-11-29T10:00:05.000Z";
  ProviderSmokeResult r;
  r.provider = "claude";
  r.phase = SmokePhase::kDone;
  r.sandbox_id = "sbx-1";
  r.agent_id = "smoke-claude-abc-1234abcd";
  r.task_id = "t-1";
  r.task_status = "failed";
  r.failure_reason = "output does not match";
  r.session_id = "s-1";
  r.output = R"({"reply":"ping"})";
  r.cost_usd = 0.5;
  r.log_lines = 7;
  r.cli_version = "2.1.197 (Claude Code)";
  r.worker_version = "0.1.0";
  r.timings = {10, 20, 30, 40, 5};
  r.sandbox_killed = true;
  run.results.push_back(r);

  auto back = SmokeRunFromJson(SmokeRunToJson(run));
  ASSERT_TRUE(back);
  EXPECT_EQ(SmokeRunToJson(*back), SmokeRunToJson(run));
  EXPECT_EQ(back->results.at(0).timings.cli_ms, 5);
  EXPECT_EQ(back->request.secrets.at("codex").at("OPENAI_API_KEY"), "[REDACTED]");
}

TEST(SmokeRun, NamesParseBackAndUnknownNamesDoNot) {
  for (auto s : {SmokeRunStatus::kRunning, SmokeRunStatus::kPassed, SmokeRunStatus::kFailed,
                 SmokeRunStatus::kInterrupted}) {
    EXPECT_EQ(ParseSmokeRunStatus(SmokeRunStatusName(s)), s);
  }
  for (int p = 0; p <= static_cast<int>(SmokePhase::kDone); ++p) {
    const auto phase = static_cast<SmokePhase>(p);
    EXPECT_EQ(ParseSmokePhase(SmokePhaseName(phase)), phase);
  }
  EXPECT_FALSE(ParseSmokeRunStatus("done"));
  EXPECT_FALSE(ParseSmokePhase(""));
}

TEST(SmokeRun, ADocumentThatIsNoRunIsRefused) {
  EXPECT_FALSE(SmokeRunFromJson(json::array()));
  EXPECT_FALSE(SmokeRunFromJson(json{{"id", "x"}}));
  EXPECT_FALSE(SmokeRunFromJson(json{{"id", "x"}, {"status", "sleeping"}}));
  EXPECT_FALSE(ProviderSmokeResultFromJson(json{{"ok", true}}));
  // Wrong types fall back to defaults rather than throwing.
  auto run = SmokeRunFromJson(json{{"id", "x"},
                                   {"status", "running"},
                                   {"ok", "yes"},
                                   {"results", {{{"provider", "pi"}, {"logLines", "many"}}}}});
  ASSERT_TRUE(run);
  EXPECT_FALSE(run->ok);
  ASSERT_EQ(run->results.size(), 1u);
  EXPECT_EQ(run->results[0].log_lines, 0);
}

TEST(SmokeRun, NumbersOutOfAnIntegersRangeFallBackToDefaults) {
  // The fuzzer's find: get<int64_t>() on 1e300 is an undefined float-to-integer cast, and
  // 2^64-1 would wrap to -1. Both read as absent, as a wrong type does.
  const SmokeRequest defaults;
  auto run = SmokeRunFromJson(json::parse(
      R"({"id":"x","status":"running","request":{"providers":["pi"],"timeoutMs":1e300,
          "sandboxTimeoutSec":18446744073709551615},
          "results":[{"provider":"pi","logLines":-1e300,"timings":{"totalMs":2.5e19}}]})"));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->request.timeout_ms, defaults.timeout_ms);
  EXPECT_EQ(run->request.sandbox_timeout_sec, defaults.sandbox_timeout_sec);
  ASSERT_EQ(run->results.size(), 1u);
  EXPECT_EQ(run->results[0].log_lines, 0);
  EXPECT_FALSE(run->results[0].timings.total_ms);
}

TEST(SmokeRun, TheSeedsSchema) {
  EXPECT_EQ(SmokeOutputSchema()["properties"]["reply"]["const"], "pong");
  EXPECT_EQ(SmokeOutputSchema()["required"], json({"reply"}));
}

}  // namespace
}  // namespace swarm
