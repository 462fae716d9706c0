#include "cli/views.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;

TEST(Views, TaskListShowsRowsAndTotal) {
  const json reply = json::parse(R"({"tasks":[{"id":"t1","status":"completed","agentId":null,
      "priority":50,"lastUpdatedAt":"2026-11-26T05:00:00.000Z","task":"Reply with exactly: pong"}],
      "total":7})");
  const std::string out = RenderTaskList(reply);
  EXPECT_NE(out.find("t1"), std::string::npos);
  EXPECT_NE(out.find("completed"), std::string::npos);
  EXPECT_NE(out.find("Reply with exactly: pong"), std::string::npos);
  EXPECT_NE(out.find("1 of 7 task(s)"), std::string::npos);
}

TEST(Views, TaskShowsFieldsAndLogs) {
  const json task = json::parse(R"({"id":"t1","status":"failed","failureReason":"boom",
      "outputSchema":{"type":"object"},
      "logs":[{"createdAt":"x","eventType":"task_status_change","oldValue":"in_progress",
               "newValue":"failed"}]})");
  const std::string out = RenderTask(task);
  EXPECT_NE(out.find("failureReason:   boom"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"type":"object"})"), std::string::npos);
  EXPECT_NE(out.find("task_status_change"), std::string::npos);
}

TEST(Views, AgentsShowCapacity) {
  const json reply = json::parse(R"({"agents":[{"id":"smoke-x","name":"w","status":"busy",
      "harnessProvider":"codex","capacity":{"current":1,"max":2,"available":1}}]})");
  const std::string out = RenderAgentList(reply);
  EXPECT_NE(out.find("smoke-x"), std::string::npos);
  EXPECT_NE(out.find("1/2"), std::string::npos);
  EXPECT_NE(RenderAgent(reply["agents"][0]).find("capacity:        1/2"), std::string::npos);
}

}  // namespace
}  // namespace swarm
