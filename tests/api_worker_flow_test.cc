// A worker played over real HTTP against the real server: register, long-poll, session id,
// logs, cost, finish with a matching and a mismatching output.
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using Steady = std::chrono::steady_clock;

class WorkerFlowTest : public ::testing::Test {
 protected:
  TempDir dir_;
  ApiProcess api_{dir_.File("swarm.sqlite")};
  TestApi client_{api_.url()};
};

// Long-polls for `agent` in the background; the future gives the reply and when it arrived.
std::future<std::pair<Reply, Steady::time_point>> PollAsync(const TestApi& api,
                                                            const std::string& agent, int wait_s) {
  return std::async(std::launch::async, [&api, agent, wait_s] {
    Reply r = api.Send("GET", "/api/poll?wait=" + std::to_string(wait_s), "", agent,
                       std::chrono::seconds(wait_s + 10));
    return std::make_pair(r, Steady::now());
  });
}

json CreatePongTask(const TestApi& api, const std::string& agent) {
  Reply created = api.Post("/api/tasks", {{"task", "Reply with exactly: pong"},
                                          {"agentId", agent},
                                          {"source", "api"},
                                          {"outputSchema", SeedOutputSchema()}});
  EXPECT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.body["status"], "pending");
  return created.body;
}

TEST_F(WorkerFlowTest, SmokeWorkerRoundTrip) {
  Reply reg = client_.Register("smoke-x");
  ASSERT_EQ(reg.status, 201) << reg.raw;
  EXPECT_EQ(reg.body["status"], "idle");
  EXPECT_EQ(reg.body["capacity"], json({{"current", 0}, {"max", 1}, {"available", 1}}));
  EXPECT_EQ(client_.Register("smoke-x").status, 200);  // registering again is not an error

  // A poll is already waiting when the task is created.
  TestApi worker(api_.url());
  auto poll = PollAsync(worker, "smoke-x", 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the poll returned before any task existed";
  const auto created_at = Steady::now();
  json task = CreatePongTask(client_, "smoke-x");
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto [polled, delivered_at] = poll.get();
  const auto latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(delivered_at - created_at);
  // The create request's own round trip is inside this figure; delivery itself is sub-ms.
  EXPECT_LT(latency, std::chrono::milliseconds(50));
  ASSERT_EQ(polled.status, 200) << polled.raw;
  const json& trigger = polled.body["trigger"];
  ASSERT_TRUE(trigger.is_object()) << polled.raw;
  EXPECT_EQ(trigger["type"], "task_assigned");
  EXPECT_EQ(trigger["taskId"], task["id"]);
  EXPECT_EQ(trigger["task"]["status"], "in_progress");
  EXPECT_EQ(trigger["task"]["outputSchema"], SeedOutputSchema());
  const std::string id = task["id"];

  Reply busy = client_.Get("/api/agents/smoke-x");
  EXPECT_EQ(busy.body["status"], "busy");
  EXPECT_EQ(busy.body["capacity"]["available"], 0);

  Reply session = worker.Send(
      "PUT", "/api/tasks/" + id + "/session",
      json({{"claudeSessionId", "sess-123"}, {"provider", "codex"}, {"model", "gpt-5"}}).dump(),
      "smoke-x");
  ASSERT_EQ(session.status, 200) << session.raw;
  Reply progress =
      worker.Post("/api/tasks/" + id + "/progress", {{"progress", "thinking"}}, "smoke-x");
  ASSERT_EQ(progress.status, 200) << progress.raw;
  Reply logs = worker.Post("/api/session-logs",
                           {{"sessionId", "run-1"},
                            {"taskId", id},
                            {"iteration", 1},
                            {"cli", "codex"},
                            {"lines", {R"({"type":"thread.started"})", R"({"type":"turn"})"}}},
                           "smoke-x");
  ASSERT_EQ(logs.status, 201) << logs.raw;
  EXPECT_EQ(logs.body["count"], 2);
  Reply cost = worker.Post("/api/session-costs",
                           {{"sessionId", "run-1"},
                            {"taskId", id},
                            {"agentId", "smoke-x"},
                            {"totalCostUsd", 0.0123},
                            {"inputTokens", 120},
                            {"outputTokens", 8},
                            {"model", "gpt-5"}},
                           "smoke-x");
  ASSERT_EQ(cost.status, 201) << cost.raw;

  Reply finished =
      worker.Post("/api/tasks/" + id + "/finish",
                  {{"status", "completed"}, {"output", R"({"reply":"pong"})"}}, "smoke-x");
  ASSERT_EQ(finished.status, 200) << finished.raw;
  EXPECT_EQ(finished.body["task"]["status"], "completed");

  Reply got = client_.Get("/api/tasks/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["status"], "completed");
  EXPECT_EQ(got.body["output"], R"({"reply":"pong"})");
  EXPECT_EQ(got.body["claudeSessionId"], "sess-123");
  EXPECT_EQ(got.body["provider"], "codex");
  EXPECT_EQ(got.body["progress"], "thinking");
  EXPECT_DOUBLE_EQ(got.body["totalCostUsd"].get<double>(), 0.0123);
  std::vector<std::string> events;
  for (const auto& l : got.body["logs"]) events.push_back(l["eventType"]);
  for (const char* e : {"task_created", "task_claimed", "task_session", "task_progress"}) {
    EXPECT_NE(std::find(events.begin(), events.end(), e), events.end()) << e;
  }
  Reply session_logs = client_.Get("/api/tasks/" + id + "/session-logs");
  ASSERT_EQ(session_logs.status, 200);
  ASSERT_EQ(session_logs.body["logs"].size(), 2u);
  EXPECT_EQ(session_logs.body["logs"][0]["content"], R"({"type":"thread.started"})");
  EXPECT_EQ(session_logs.body["logs"][1]["lineNumber"], 2);
  Reply costs = client_.Get("/api/session-costs?taskId=" + id);
  ASSERT_EQ(costs.status, 200);
  ASSERT_EQ(costs.body["costs"].size(), 1u);
  EXPECT_DOUBLE_EQ(costs.body["costs"][0]["totalCostUsd"].get<double>(), 0.0123);
  EXPECT_EQ(costs.body["costs"][0]["inputTokens"], 120);
  Reply listed = client_.Get("/api/tasks?agentId=smoke-x");
  ASSERT_EQ(listed.status, 200);
  EXPECT_DOUBLE_EQ(listed.body["tasks"][0]["totalCostUsd"].get<double>(), 0.0123);
  EXPECT_EQ(client_.Get("/api/agents/smoke-x").body["status"], "idle");

  // A second task, answered with the wrong reply: the server judges it failed.
  json second = CreatePongTask(client_, "smoke-x");
  Reply polled2 = worker.Send("GET", "/api/poll?wait=5", "", "smoke-x");
  ASSERT_EQ(polled2.body["trigger"]["taskId"], second["id"]) << polled2.raw;
  const std::string id2 = second["id"];
  Reply finished2 =
      worker.Post("/api/tasks/" + id2 + "/finish",
                  {{"status", "completed"}, {"output", R"({"reply":"ping"})"}}, "smoke-x");
  ASSERT_EQ(finished2.status, 200) << finished2.raw;
  Reply got2 = client_.Get("/api/tasks/" + id2);
  EXPECT_EQ(got2.body["status"], "failed");
  EXPECT_EQ(got2.body["output"], R"({"reply":"ping"})");  // the raw output is kept
  const std::string reason = got2.body["failureReason"];
  EXPECT_NE(reason.find("outputSchema"), std::string::npos) << reason;
  EXPECT_NE(reason.find("reply"), std::string::npos) << reason;
  EXPECT_NE(reason.find("const"), std::string::npos) << reason;
  EXPECT_NE(reason.find("\"ping\""), std::string::npos) << reason;
}

TEST_F(WorkerFlowTest, PollWithNothingToDoReturnsNullTriggerAfterTheWait) {
  ASSERT_EQ(client_.Register("idle-worker").status, 201);
  const auto start = Steady::now();
  Reply r = client_.Send("GET", "/api/poll?wait=0.3", "", "idle-worker");
  const auto took = Steady::now() - start;
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["trigger"].is_null());
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(3));
  // Without wait it answers at once.
  EXPECT_TRUE(client_.Get("/api/poll", "idle-worker").body["trigger"].is_null());
}

TEST_F(WorkerFlowTest, PendingTaskWaitsForCapacity) {
  ASSERT_EQ(client_.Register("w1", 1).status, 201);
  json a = client_.Post("/api/tasks", {{"task", "a"}, {"agentId", "w1"}}).body;
  json b = client_.Post("/api/tasks", {{"task", "b"}, {"agentId", "w1"}}).body;
  Reply first = client_.Get("/api/poll", "w1");
  ASSERT_EQ(first.body["trigger"]["taskId"], a["id"]);
  // At capacity: nothing more until the first is finished.
  EXPECT_TRUE(client_.Get("/api/poll", "w1").body["trigger"].is_null());
  auto waiting = PollAsync(client_, "w1", 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string a_id = a["id"];
  ASSERT_EQ(client_.Post("/api/tasks/" + a_id + "/finish", {{"status", "completed"}}, "w1").status,
            200);
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(waiting.get().first.body["trigger"]["taskId"], b["id"]);
}

TEST_F(WorkerFlowTest, CancelledTaskIsReportedToItsWorker) {
  ASSERT_EQ(client_.Register("w2").status, 201);
  json t = client_.Post("/api/tasks", {{"task", "long job"}, {"agentId", "w2"}}).body;
  const std::string id = t["id"];
  ASSERT_EQ(client_.Get("/api/poll", "w2").body["trigger"]["taskId"], id);
  Reply cancel = client_.Post("/api/tasks/" + id + "/cancel", {{"reason", "operator said so"}});
  ASSERT_EQ(cancel.status, 200) << cancel.raw;
  EXPECT_EQ(cancel.body["task"]["status"], "cancelled");
  Reply cancelled = client_.Get("/cancelled-tasks?taskId=" + id, "w2");
  ASSERT_EQ(cancelled.body["cancelled"].size(), 1u);
  EXPECT_EQ(cancelled.body["cancelled"][0]["failureReason"], "operator said so");
  EXPECT_EQ(client_.Get("/cancelled-tasks", "w2").body["cancelled"].size(), 1u);
  EXPECT_EQ(client_.Get("/api/agents/w2").body["status"], "idle");
}

TEST_F(WorkerFlowTest, LeadNeverTakesFromThePool) {
  ASSERT_EQ(client_.Post("/api/agents", {{"name", "lead"}, {"isLead", true}}, "lead").status, 201);
  ASSERT_EQ(client_.Post("/api/tasks", {{"task", "pool work"}}).status, 201);
  EXPECT_TRUE(client_.Get("/api/poll", "lead").body["trigger"].is_null());
  ASSERT_EQ(client_.Register("w3").status, 201);
  EXPECT_FALSE(client_.Get("/api/poll", "w3").body["trigger"].is_null());
}

TEST_F(WorkerFlowTest, HealthIsPublicAndNamesTheVersion) {
  TestApi anonymous(api_.url(), "");
  Reply health = anonymous.Get("/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.body["status"], "ok");
  EXPECT_TRUE(health.body["version"].is_string());
}

}  // namespace
}  // namespace swarm::testing_support
