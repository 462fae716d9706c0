#include "api/json_codec.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;

json AgentJson(const Agent& agent) {
  JsonWriter w;
  WriteAgent(w, agent);
  return json::parse(w.str());
}

Agent MakeAgent() {
  Agent a;
  a.id = "a1";
  a.name = "worker";
  a.max_tasks = 2;
  a.active_tasks = 1;
  a.created_at = "2026-01-01T00:00:00.000Z";
  a.last_updated_at = "2026-01-01T00:00:01.000Z";
  return a;
}

TEST(WriteAgent, ShowsTheReportedVersions) {
  Agent a = MakeAgent();
  a.version = "0.8.0+abc1234";
  a.cli_version = "2.1.3 (Claude Code)";
  const json j = AgentJson(a);
  EXPECT_EQ(j["version"], "0.8.0+abc1234");
  EXPECT_EQ(j["cliVersion"], "2.1.3 (Claude Code)");
  EXPECT_EQ(j["id"], "a1");
  EXPECT_EQ(j["capacity"]["available"], 1);
}

TEST(WriteAgent, OmitsVersionsTheWorkerNeverReported) {
  Agent a = MakeAgent();
  a.cli_version = "0.44.0";
  const json j = AgentJson(a);
  EXPECT_FALSE(j.contains("version"));
  EXPECT_EQ(j["cliVersion"], "0.44.0");
  EXPECT_FALSE(AgentJson(MakeAgent()).contains("cliVersion"));
}

}  // namespace
}  // namespace swarm
