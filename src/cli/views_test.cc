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

TEST(Views, RepliesOfAnotherShapeRenderWithoutThrowing) {
  // Any API may answer (upstream's, a proxy's error page as JSON): the views show what they
  // can. A float capacity once went through value(..., 0), an undefined cast for 1e300.
  for (const char* text : {"[]", "null", "\"text\"", "42", R"({"tasks":"many","total":1e300})",
                           R"({"agents":{"a":1}})", R"({"logs":"x","outputSchema":null})"}) {
    const json reply = json::parse(text);
    EXPECT_NO_THROW({
      RenderTaskList(reply);
      RenderTask(reply);
      RenderAgentList(reply);
      RenderAgent(reply);
    }) << text;
  }
  const json agent = json::parse(R"({"id":"a","capacity":{"current":1e300,"max":"two"}})");
  EXPECT_NE(RenderAgent(agent).find("1e+300/two"), std::string::npos) << RenderAgent(agent);
  EXPECT_NE(RenderTaskList(json::parse(R"({"tasks":[],"total":1e300})")).find("0 of 1e+300"),
            std::string::npos);
}

}  // namespace
}  // namespace swarm
