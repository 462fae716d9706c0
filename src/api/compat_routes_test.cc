// The routes upstream's worker needs beyond the core contract (issue 9), through
// ApiRoutes::Dispatch without sockets: credential status, supersede, pause/resume, active
// sessions, the boot-time config read and activity.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/active_sessions.h"
#include "api/agent_service.h"
#include "api/heartbeats.h"
#include "api/poll_hub.h"
#include "api/routes.h"
#include "api/routes_test_support.h"
#include "api/task_service.h"
#include "store/sqlite_store.h"

namespace swarm {
namespace {

using nlohmann::json;

constexpr char kKey[] = "compat-routes-key-81c2";

class CompatRoutesTest : public testing::Test {
 protected:
  // Dispatch posts heartbeats to the write pool without waiting for them: they must run
  // before the services they touch are destroyed (the members below executors_ go first).
  void TearDown() override { executors_.Join(); }

  void SetUp() override {
    auto opened = SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    agents_ = std::make_unique<AgentService>(*store_, clock_, heartbeats_);
    tasks_ = std::make_unique<TaskService>(*store_, clock_, hub_);
    sessions_ = std::make_unique<ActiveSessionService>(*store_, clock_, *agents_, hub_);
    RoutesOptions options;
    options.api_key = kKey;
    routes_ = std::make_unique<ApiRoutes>(options, *agents_, *tasks_, hub_, executors_, nullptr,
                                          sessions_.get());
  }

  http::HttpResponse Send(const std::string& method, const std::string& target,
                          const std::string& body = "", const std::string& agent = "") {
    http::HttpRequest request = testing_support::RouteRequest(method, target, body, kKey);
    if (!agent.empty()) request.headers.emplace_back("x-agent-id", agent);
    return testing_support::DispatchNow(*routes_, std::move(request));
  }
  json Body(const http::HttpResponse& r) { return json::parse(r.body, nullptr, false); }

  void Register(const std::string& id) {
    auto r = Send("POST", "/api/agents", json{{"name", id}}.dump(), id);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  std::string CreateFor(const std::string& agent) {
    auto r = Send("POST", "/api/tasks",
                  json{{"task", "work"},
                       {"agentId", agent},
                       {"outputSchema", {{"type", "object"}}},
                       {"tags", {"t"}}}
                      .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r).value("id", "");
  }
  // Created for the agent and claimed by it.
  std::string Running(const std::string& agent) {
    const std::string id = CreateFor(agent);
    auto claimed = tasks_->Claim(agent);
    EXPECT_TRUE(claimed && claimed->task && claimed->task->id == id);
    return id;
  }

  SystemClock clock_;
  PollHub hub_;
  Heartbeats heartbeats_;
  StoreExecutors executors_{1, 1};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<AgentService> agents_;
  std::unique_ptr<TaskService> tasks_;
  std::unique_ptr<ActiveSessionService> sessions_;
  std::unique_ptr<ApiRoutes> routes_;
};

TEST_F(CompatRoutesTest, ACredentialReportShowsOnTheAgent) {
  Register("w1");
  auto r = Send("PUT", "/api/agents/w1/credential-status",
                json{{"ready", false}, {"missing", {"ANTHROPIC_API_KEY"}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["status"], "waiting_for_credentials");
  json agent = Body(Send("GET", "/api/agents/w1"));
  EXPECT_EQ(agent["status"], "waiting_for_credentials");
  EXPECT_EQ(agent["credentialMissing"], json({"ANTHROPIC_API_KEY"}));
  EXPECT_TRUE(agent["credStatus"].is_null());
  // Blocked on credentials, the agent claims nothing.
  CreateFor("w1");
  auto claim = tasks_->Claim("w1");
  ASSERT_TRUE(claim);
  EXPECT_FALSE(claim->task);

  r = Send("PUT", "/api/agents/w1/credential-status",
           json{{"ready", true},
                {"missing", json::array()},
                {"cred_status", {{"ready", true}, {"satisfiedBy", "ANTHROPIC_API_KEY"}}},
                {"latest_model", {{"model", "m-1"}}}}
               .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  agent = Body(Send("GET", "/api/agents/w1"));
  EXPECT_EQ(agent["status"], "idle");
  EXPECT_TRUE(agent["credentialMissing"].is_null());
  EXPECT_EQ(agent["credStatus"]["satisfiedBy"], "ANTHROPIC_API_KEY");
  EXPECT_EQ(agent["credStatus"]["latestModel"]["model"], "m-1");
  claim = tasks_->Claim("w1");
  ASSERT_TRUE(claim);
  EXPECT_TRUE(claim->task);

  const json entry = Body(Send("GET", "/api/agents/w1/credential-status"));
  EXPECT_EQ(entry["agentId"], "w1");
  EXPECT_EQ(entry["status"], "busy");
  EXPECT_EQ(entry["missing"], json::array());
  EXPECT_EQ(entry["credStatus"]["satisfiedBy"], "ANTHROPIC_API_KEY");
}

TEST_F(CompatRoutesTest, CredentialReportsAreBounded) {
  Register("w1");
  const auto put = [&](const json& body) {
    return Send("PUT", "/api/agents/w1/credential-status", body.dump()).status;
  };
  EXPECT_EQ(put({{"ready", "yes"}}), 400);
  EXPECT_EQ(put({{"missing", "ANTHROPIC_API_KEY"}}), 400);
  EXPECT_EQ(put({{"missing", {1, 2}}}), 400);
  EXPECT_EQ(put({{"missing", json::array({std::string(300, 'A')})}}), 400);
  EXPECT_EQ(put({{"missing", json(std::vector<std::string>(65, "X"))}}), 400);
  EXPECT_EQ(put({{"cred_status", "ready"}}), 400);
  EXPECT_EQ(put({{"cred_status", {{"blob", std::string(20'000, 'x')}}}}), 400);
  EXPECT_EQ(put({{"latest_model", {1, 2}}}), 400);
  EXPECT_EQ(Send("PUT", "/api/agents/w1/credential-status", "{").status, 400);
  // A cred_status nested far past the JSON depth bound: refused, not walked.
  const std::string deep =
      R"({"cred_status":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_EQ(Send("PUT", "/api/agents/w1/credential-status", deep).status, 400);
  EXPECT_EQ(Send("PUT", "/api/agents/ghost/credential-status", R"({"ready":true})").status, 404);
  // Nothing stuck.
  const json agent = Body(Send("GET", "/api/agents/w1"));
  EXPECT_EQ(agent["status"], "idle");
  EXPECT_TRUE(agent["credStatus"].is_null());
}

TEST_F(CompatRoutesTest, SupersedeHandsTheTaskBackWithAResumeChild) {
  Register("w1");
  Register("w2");
  const std::string id = Running("w1");
  const std::string path = "/api/tasks/" + id + "/supersede";
  const std::string body = json{{"reason", "graceful_shutdown"}}.dump();
  EXPECT_EQ(Send("POST", path, body).status, 400);  // no X-Agent-ID
  EXPECT_EQ(Send("POST", path, body, "w2").status, 403);
  EXPECT_EQ(Send("POST", path, R"({"reason":"bored"})", "w1").status, 400);
  EXPECT_EQ(Send("POST", path, "{}", "w1").status, 400);
  EXPECT_EQ(Send("POST", "/api/tasks/nope/supersede", body, "w1").status, 404);
  const std::string pending = CreateFor("w2");
  EXPECT_EQ(Send("POST", "/api/tasks/" + pending + "/supersede", body, "w2").status, 409);
  EXPECT_EQ(Body(Send("GET", "/api/tasks/" + id))["status"], "in_progress");

  auto r = Send("POST", path, body, "w1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json reply = Body(r);
  EXPECT_EQ(reply["success"], true);
  EXPECT_EQ(reply["kind"], "resumed");
  EXPECT_EQ(reply["task"]["status"], "superseded");
  EXPECT_EQ(reply["resumeTaskStatus"], "pending");
  const std::string child_id = reply["resumeTaskId"];
  const json child = Body(Send("GET", "/api/tasks/" + child_id));
  EXPECT_EQ(child["taskType"], "resume");
  EXPECT_EQ(child["parentTaskId"], id);
  EXPECT_EQ(child["agentId"], "w1");
  EXPECT_EQ(child["outputSchema"], json({{"type", "object"}}));
  EXPECT_EQ(child["tags"],
            json({"t", "auto-resume", "reason:graceful_shutdown", "resume-generation:1"}));
  // The same call again: the task is terminal now.
  const json again = Body(Send("POST", path, body, "w1"));
  EXPECT_EQ(again["kind"], "alreadyFinished");
  EXPECT_TRUE(again["resumeTaskId"].is_null());
}

TEST_F(CompatRoutesTest, PauseAndResume) {
  Register("w1");
  const std::string id = Running("w1");
  EXPECT_EQ(Send("POST", "/api/tasks/" + id + "/resume", "", "w1").status, 409);
  auto r = Send("POST", "/api/tasks/" + id + "/pause", "", "w1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["task"]["status"], "paused");
  EXPECT_EQ(Send("POST", "/api/tasks/" + id + "/resume", "", "w2").status, 403);
  // Its holder resumes it to run it at once (upstream's worker at boot): in_progress, and the
  // poll does not hand it out a second time.
  r = Send("POST", "/api/tasks/" + id + "/resume", "", "w1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["task"]["status"], "in_progress");
  auto again = tasks_->Claim("w1");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->task) << again->task->id;
  // An operator's resume (no X-Agent-ID) puts it back in the agent's queue instead.
  ASSERT_EQ(Send("POST", "/api/tasks/" + id + "/pause", "", "w1").status, 200);
  r = Send("POST", "/api/tasks/" + id + "/resume");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["task"]["status"], "pending");
}

TEST_F(CompatRoutesTest, PausedTasksListsTheCallersOwn) {
  ASSERT_EQ(Send("POST", "/api/agents", json{{"name", "w1"}, {"maxTasks", 3}}.dump(), "w1").status,
            201);
  Register("w2");
  const std::string older = Running("w1");
  const std::string newer = Running("w1");
  const std::string others = Running("w2");
  Running("w1");  // in progress, not paused: not listed
  for (const auto& [id, agent] : {std::pair{older, "w1"}, {newer, "w1"}, {others, "w2"}}) {
    ASSERT_EQ(Send("POST", "/api/tasks/" + id + "/pause", "", agent).status, 200);
  }
  EXPECT_EQ(Send("GET", "/api/paused-tasks").status, 400);
  auto r = Send("GET", "/api/paused-tasks", "", "w1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json tasks = Body(r)["tasks"];
  ASSERT_EQ(tasks.size(), 2u) << r.body;
  EXPECT_EQ(tasks[0]["id"], older);
  EXPECT_EQ(tasks[1]["id"], newer);
  EXPECT_EQ(tasks[0]["status"], "paused");
  // Resumed, it leaves the list.
  ASSERT_EQ(Send("POST", "/api/tasks/" + older + "/resume", "", "w1").status, 200);
  EXPECT_EQ(Body(Send("GET", "/api/paused-tasks", "", "w1"))["tasks"].size(), 1u);
  EXPECT_EQ(Body(Send("GET", "/api/paused-tasks", "", "ghost"))["tasks"].size(), 0u);
}

TEST_F(CompatRoutesTest, MeIsTheCallingAgent) {
  Register("w1");
  EXPECT_EQ(Send("GET", "/me").status, 400);
  EXPECT_EQ(Send("GET", "/me", "", "ghost").status, 404);
  auto r = Send("GET", "/me", "", "w1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json me = Body(r);
  EXPECT_EQ(me["id"], "w1");
  EXPECT_EQ(me["name"], "w1");
  EXPECT_EQ(me["capacity"]["max"], 1);
  EXPECT_EQ(me["shouldBlockPolling"], false);
}

TEST_F(CompatRoutesTest, ActiveSessionsRoundTrip) {
  Register("w1");
  const std::string id = Running("w1");
  EXPECT_EQ(Send("POST", "/api/active-sessions",
                 json{{"agentId", "ghost"}, {"triggerType", "task_assigned"}}.dump())
                .status,
            404);
  EXPECT_EQ(Send("POST", "/api/active-sessions", json{{"agentId", "w1"}}.dump()).status, 400);
  EXPECT_EQ(Send("POST", "/api/active-sessions",
                 json{{"agentId", "w1"}, {"triggerType", std::string(200, 't')}}.dump())
                .status,
            400);
  auto r = Send("POST", "/api/active-sessions",
                json{{"agentId", "w1"},
                     {"taskId", id},
                     {"triggerType", "task_assigned"},
                     {"taskDescription", std::string(5000, 'd')},
                     {"runnerSessionId", "runner-1"},
                     {"runtimeInstanceId", "rt-1"}}
                    .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["session"]["taskId"], id);
  EXPECT_EQ(Body(r)["session"]["taskDescription"].get<std::string>().size(),
            kMaxSessionDescriptionBytes);
  const json listed = Body(Send("GET", "/api/active-sessions?agentId=w1"));
  ASSERT_EQ(listed["sessions"].size(), 1u);
  EXPECT_EQ(listed["sessions"][0]["runnerSessionId"], "runner-1");

  // A session heartbeat without X-Agent-ID still counts as the agent's.
  const auto before = heartbeats_.LastSeen("w1");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  r = Send("PUT", "/api/active-sessions/heartbeat/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["updated"], true);
  ASSERT_TRUE(heartbeats_.LastSeen("w1"));
  EXPECT_GT(*heartbeats_.LastSeen("w1"), before.value_or(MonotonicTime{}));
  EXPECT_EQ(Body(Send("PUT", "/api/active-sessions/heartbeat/nope"))["updated"], false);

  EXPECT_EQ(Body(Send("DELETE", "/api/active-sessions/by-task/" + id))["deleted"], true);
  EXPECT_EQ(Body(Send("DELETE", "/api/active-sessions/by-task/" + id))["deleted"], false);
  ASSERT_EQ(Send("POST", "/api/active-sessions",
                 json{{"agentId", "w1"}, {"triggerType", "task_assigned"}}.dump())
                .status,
            201);
  EXPECT_EQ(Body(Send("POST", "/api/active-sessions/cleanup", R"({"agentId":"w1"})"))["cleaned"],
            1);
  EXPECT_EQ(Send("POST", "/api/active-sessions/cleanup", "{}").status, 400);
}

TEST_F(CompatRoutesTest, OrphanRecoveryIsOnlyForTheCallingAgent) {
  Register("w1");
  Running("w1");
  const std::string body = json{{"agentId", "w1"}, {"minAgeSeconds", 1}}.dump();
  EXPECT_EQ(Send("POST", "/api/active-sessions/recover-orphaned-tasks", body).status, 403);
  EXPECT_EQ(Send("POST", "/api/active-sessions/recover-orphaned-tasks", body, "w2").status, 403);
  EXPECT_EQ(Send("POST", "/api/active-sessions/recover-orphaned-tasks",
                 json{{"agentId", "w1"}, {"minAgeSeconds", "soon"}}.dump(), "w1")
                .status,
            400);
  // Claimed just now: not older than a second yet.
  auto r = Send("POST", "/api/active-sessions/recover-orphaned-tasks", body, "w1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["recovered"], 0);
}

TEST_F(CompatRoutesTest, BootRoutesOfUpstreamsWorker) {
  Register("w1");
  auto r = Send("GET", "/api/config/resolved?agentId=w1&includeSecrets=true", "", "w1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r), json({{"configs", json::array()}}));
  EXPECT_EQ(Send("PUT", "/api/agents/w1/activity", "", "w1").status, 204);
  EXPECT_EQ(Send("PUT", "/api/agents/ghost/activity").status, 404);
}

}  // namespace
}  // namespace swarm
