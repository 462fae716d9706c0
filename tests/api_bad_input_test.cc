// Bad input gets a clear 4xx and changes nothing.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;

class BadInputTest : public ::testing::Test {
 protected:
  // Creates a task for `agent` and claims it, returning its id.
  std::string ClaimedTask(const std::string& agent) {
    EXPECT_LT(api.Register(agent).status, 300);
    Reply t = api.Post("/api/tasks", {{"task", "t"}, {"agentId", agent}});
    Reply polled = api.Get("/api/poll", agent);
    EXPECT_EQ(polled.body["trigger"]["taskId"], t.body["id"]);
    return t.body["id"];
  }
  std::string Error(const Reply& r) { return r.body.value("error", std::string("<none>")); }
  int TaskCount() { return api.Get("/api/tasks").body["total"]; }

  TempDir dir_;
  ApiProcess server_{dir_.File("swarm.sqlite"), {"--body-limit", "4096"}};
  TestApi api{server_.url()};
};

TEST_F(BadInputTest, MalformedJson) {
  Reply r = api.Send("POST", "/api/tasks", R"({"task": "x")");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Error(r).rfind("malformed JSON in request body: ", 0), 0u) << Error(r);
  EXPECT_EQ(api.Send("POST", "/api/tasks", "[1,2]").status, 400);
  EXPECT_EQ(api.Send("POST", "/api/tasks", "").status, 400);
  EXPECT_EQ(TaskCount(), 0);
}

TEST_F(BadInputTest, WrongFieldTypesNameTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"task", 42}}, "task must be a string"},
      {{{"task", "x"}, {"priority", "high"}}, "priority must be an integer"},
      {{{"task", "x"}, {"priority", 500}}, "priority must be between 0 and 100"},
      {{{"task", "x"}, {"tags", "a,b"}}, "tags must be an array of strings"},
      {{{"task", "x"}, {"agentId", 7}}, "agentId must be a string"},
      {{{"task", "x"}, {"source", false}}, "source must be a string"},
  };
  for (const auto& [body, message] : cases) {
    Reply r = api.Post("/api/tasks", body);
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(Error(r), message) << body.dump();
  }
  Reply agent = api.Post("/api/agents", {{"name", "a"}, {"maxTasks", "two"}}, "a");
  EXPECT_EQ(agent.status, 400);
  EXPECT_EQ(Error(agent), "maxTasks must be an integer");
  EXPECT_EQ(TaskCount(), 0);
}

TEST_F(BadInputTest, MissingTask) {
  Reply r = api.Post("/api/tasks", {{"agentId", "a"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Error(r), "task is required");
  EXPECT_EQ(Error(api.Post("/api/tasks", {{"task", ""}})), "task must not be empty");
  EXPECT_EQ(Error(api.Post("/api/agents", json::object(), "a")), "name is required");
}

TEST_F(BadInputTest, InvalidOutputSchema) {
  for (const json& schema :
       {json::parse(R"({"type":"text"})"), json::parse(R"({"required":"reply"})"),
        json("not a schema"), json::parse(R"({"properties":{"reply":3}})")}) {
    Reply r = api.Post("/api/tasks", {{"task", "x"}, {"outputSchema", schema}});
    EXPECT_EQ(r.status, 400) << schema.dump();
    EXPECT_NE(Error(r).find("outputSchema"), std::string::npos) << Error(r);
  }
  EXPECT_EQ(TaskCount(), 0);
}

TEST_F(BadInputTest, OversizedBody) {
  const std::string big = json({{"task", std::string(5000, 'x')}}).dump();
  Reply r = api.Send("POST", "/api/tasks", big);
  EXPECT_EQ(r.status, 413) << r.raw;
  EXPECT_EQ(TaskCount(), 0);
  // Just under the limit is fine.
  const std::string fits = json({{"task", std::string(4000, 'x')}}).dump();
  EXPECT_EQ(api.Send("POST", "/api/tasks", fits).status, 201);
}

TEST_F(BadInputTest, UnknownIdsAre404) {
  EXPECT_EQ(api.Get("/api/tasks/no-such-task").status, 404);
  EXPECT_EQ(Error(api.Get("/api/tasks/no-such-task")), "task no-such-task not found");
  EXPECT_EQ(api.Get("/api/agents/no-such-agent").status, 404);
  EXPECT_EQ(api.Post("/api/tasks/no-such-task/cancel", json::object()).status, 404);
  EXPECT_EQ(api.Post("/api/tasks/no-such-task/finish", {{"status", "completed"}}, "a").status, 404);
  EXPECT_EQ(api.Send("PUT", "/api/tasks/nope/session", R"({"claudeSessionId":"s"})").status, 404);
  EXPECT_EQ(api.Post("/api/tasks/nope/progress", {{"progress", "p"}}).status, 404);
  EXPECT_EQ(api.Get("/api/tasks/nope/session-logs").status, 404);
  EXPECT_EQ(api.Send("POST", "/ping", "", "ghost").status, 404);
  EXPECT_EQ(api.Get("/api/poll", "ghost").status, 404);
}

TEST_F(BadInputTest, MissingAgentHeader) {
  for (auto [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/api/poll"},
                                                        {"POST", "/ping"},
                                                        {"POST", "/close"},
                                                        {"POST", "/api/tasks/x/finish"},
                                                        {"GET", "/cancelled-tasks"}}) {
    Reply r = api.Send(method, path, method == "POST" ? R"({"status":"completed"})" : "");
    EXPECT_EQ(r.status, 400) << method << " " << path;
    EXPECT_EQ(Error(r), "Missing X-Agent-ID header");
  }
}

TEST_F(BadInputTest, FinishFromAnotherAgentIsForbidden) {
  const std::string id = ClaimedTask("owner");
  ASSERT_LT(api.Register("intruder").status, 300);
  Reply r = api.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}}, "intruder");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(Error(r).find("owner"), std::string::npos) << Error(r);
  EXPECT_EQ(api.Get("/api/tasks/" + id).body["status"], "in_progress");
}

TEST_F(BadInputTest, FinishTwiceFirstWins) {
  const std::string id = ClaimedTask("w");
  Reply first =
      api.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}, {"output", "first"}}, "w");
  ASSERT_EQ(first.status, 200);
  Reply same =
      api.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}, {"output", "first"}}, "w");
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(same.body["alreadyFinished"], true);
  Reply other = api.Post("/api/tasks/" + id + "/finish",
                         {{"status", "failed"}, {"failureReason", "second"}}, "w");
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.body["alreadyFinished"], true);
  Reply got = api.Get("/api/tasks/" + id);
  EXPECT_EQ(got.body["status"], "completed");
  EXPECT_EQ(got.body["output"], "first");
  EXPECT_TRUE(got.body["failureReason"].is_null());
}

TEST_F(BadInputTest, FinishBeforeClaimIsAConflict) {
  ASSERT_LT(api.Register("w").status, 300);
  Reply t = api.Post("/api/tasks", {{"task", "t"}, {"agentId", "w"}});
  const std::string id = t.body["id"];
  Reply r = api.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}}, "w");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(api.Get("/api/tasks/" + id).body["status"], "pending");
}

TEST_F(BadInputTest, FinishWithABadStatus) {
  const std::string id = ClaimedTask("w");
  Reply r = api.Post("/api/tasks/" + id + "/finish", {{"status", "done"}}, "w");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Error(r), "status must be \"completed\" or \"failed\"");
}

TEST_F(BadInputTest, CancelOfATerminalTask) {
  const std::string id = ClaimedTask("w");
  ASSERT_EQ(api.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}}, "w").status, 200);
  Reply r = api.Post("/api/tasks/" + id + "/cancel", json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Error(r).find("already completed"), std::string::npos) << Error(r);
  EXPECT_EQ(api.Get("/api/tasks/" + id).body["status"], "completed");
}

TEST_F(BadInputTest, BadQueryParameters) {
  EXPECT_EQ(api.Get("/api/tasks?status=bogus").status, 400);
  EXPECT_EQ(Error(api.Get("/api/tasks?status=bogus")), "status: unknown task status \"bogus\"");
  EXPECT_EQ(api.Get("/api/tasks?limit=0").status, 400);
  EXPECT_EQ(api.Get("/api/tasks?limit=abc").status, 400);
  EXPECT_EQ(api.Get("/api/tasks?offset=-1").status, 400);
  ASSERT_LT(api.Register("w").status, 300);
  EXPECT_EQ(api.Get("/api/poll?wait=forever", "w").status, 400);
  EXPECT_EQ(api.Get("/api/poll?wait=-1", "w").status, 400);
  EXPECT_EQ(api.Get("/api/poll?wait=100000", "w").status, 400);
}

TEST_F(BadInputTest, SessionLogAndCostValidation) {
  EXPECT_EQ(Error(api.Post("/api/session-logs", {{"sessionId", "s"}, {"lines", json::array()}})),
            "lines must have at least 1 item(s)");
  EXPECT_EQ(Error(api.Post("/api/session-logs", {{"lines", {"x"}}})), "sessionId is required");
  EXPECT_EQ(
      api.Post("/api/session-logs", {{"sessionId", "s"}, {"taskId", "nope"}, {"lines", {"x"}}})
          .status,
      404);
  EXPECT_EQ(Error(api.Post("/api/session-costs", {{"sessionId", "s"}, {"agentId", "a"}})),
            "totalCostUsd is required");
  EXPECT_EQ(Error(api.Post("/api/session-costs",
                           {{"sessionId", "s"}, {"agentId", "a"}, {"totalCostUsd", "1"}})),
            "totalCostUsd must be a number");
  EXPECT_EQ(
      api.Post("/api/session-costs", {{"sessionId", "s"}, {"agentId", "a"}, {"totalCostUsd", -1}})
          .status,
      400);
}

TEST_F(BadInputTest, ServerStaysUpAfterGarbage) {
  for (int i = 0; i < 20; ++i) api.Send("POST", "/api/tasks", std::string(i * 37, '{'));
  EXPECT_EQ(api.Get("/health").status, 200);
}

// Hostile documents (issue 6): the API answers them and keeps serving.
class HostileDocumentTest : public ::testing::Test {
 protected:
  std::string Error(const Reply& r) { return r.body.value("error", std::string("<none>")); }
  bool Alive() { return api.Get("/health").status == 200; }
  // A task for agent "w" with `schema`, claimed by "w".
  std::string ClaimedTaskWithSchema(const json& schema) {
    EXPECT_LT(api.Register("w").status, 300);
    Reply t = api.Post("/api/tasks", {{"task", "t"}, {"agentId", "w"}, {"outputSchema", schema}});
    EXPECT_EQ(t.status, 201) << t.raw;
    Reply polled = api.Get("/api/poll", "w");
    EXPECT_EQ(polled.body["trigger"]["taskId"], t.body["id"]);
    return t.body["id"];
  }

  TempDir dir_;
  ApiProcess server_{dir_.File("swarm.sqlite"), {"--body-limit", "4000000"}};
  TestApi api{server_.url()};
};

TEST_F(HostileDocumentTest, SchemaNested60000LevelsIsA400) {
  std::string schema;
  for (int i = 0; i < 60000; ++i) schema += R"({"items":)";
  schema += "{}" + std::string(60000, '}');
  Reply r = api.Send("POST", "/api/tasks", R"({"task":"t","outputSchema":)" + schema + "}");
  EXPECT_EQ(r.status, 400) << r.raw.substr(0, 300);
  EXPECT_NE(Error(r).find("128-level limit"), std::string::npos) << Error(r);
  EXPECT_TRUE(Alive());
  EXPECT_EQ(api.Get("/api/tasks").body["total"], 0);
}

TEST_F(HostileDocumentTest, OutputNested200000LevelsFailsTheTask) {
  const std::string id = ClaimedTaskWithSchema(json::parse(
      R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})"));
  // As upstream sends it, a string holding JSON: judged, and the judgement fails.
  const std::string deep =
      R"({"reply":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
  Reply r =
      api.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}, {"output", deep}}, "w");
  EXPECT_EQ(r.status, 200) << r.raw.substr(0, 300);
  Reply task = api.Get("/api/tasks/" + id);
  EXPECT_EQ(task.body["status"], "failed");
  EXPECT_NE(task.body.value("failureReason", "").find("limit"), std::string::npos) << task.raw;
  EXPECT_TRUE(Alive());
}

TEST_F(HostileDocumentTest, DeepOutputSentAsJsonIsRefusedAndTheServerLives) {
  const std::string id = ClaimedTaskWithSchema(json::parse(R"({"type":"object"})"));
  const std::string body = R"({"status":"completed","output":{"reply":)" +
                           std::string(200000, '[') + std::string(200000, ']') + "}}";
  Reply r = api.Send("POST", "/api/tasks/" + id + "/finish", body, "w");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Error(r).find("128-level limit"), std::string::npos) << Error(r);
  EXPECT_TRUE(Alive());
}

TEST_F(HostileDocumentTest, InvalidPatternIsA400NamingItsPlace) {
  Reply r = api.Post(
      "/api/tasks",
      {{"task", "t"}, {"outputSchema", {{"properties", {{"reply", {{"pattern", "(["}}}}}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Error(r).find("outputSchema.properties.reply.pattern"), std::string::npos) << Error(r);
  Reply lookahead = api.Post(
      "/api/tasks",
      {{"task", "t"}, {"outputSchema", {{"properties", {{"reply", {{"pattern", "a(?=b)"}}}}}}}});
  EXPECT_EQ(lookahead.status, 400);
  EXPECT_NE(Error(lookahead).find("lookaround"), std::string::npos) << Error(lookahead);
}

TEST_F(HostileDocumentTest, CatastrophicPatternIsJudgedQuickly) {
  const std::string id = ClaimedTaskWithSchema(json::parse(
      R"({"type":"object","properties":{"reply":{"type":"string","pattern":"(a+)+$"}}})"));
  const std::string output = json{{"reply", std::string(30000, 'a') + "!"}}.dump();
  const auto start = std::chrono::steady_clock::now();
  Reply r =
      api.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}, {"output", output}}, "w");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_LT(took, std::chrono::seconds(2));  // the judgement itself is < 100 ms (unit test)
  Reply task = api.Get("/api/tasks/" + id);
  EXPECT_EQ(task.body["status"], "failed");
  EXPECT_NE(task.body.value("failureReason", "").find("pattern"), std::string::npos) << task.raw;
}

}  // namespace
}  // namespace swarm::testing_support
