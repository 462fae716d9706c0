// What survives a killed server, and what happens to the tasks of a vanished worker.
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;

std::string TaskText(int client, int i) {
  return "task " + std::to_string(client) + "/" + std::to_string(i);
}

TEST(Durability, EveryAcknowledgedTaskSurvivesKill9) {
  TempDir dir;
  const std::string db = dir.File("swarm.sqlite");
  std::vector<std::string> acknowledged;
  std::mutex mu;
  {
    ApiProcess api(db, {"--no-access-log"});
    std::atomic<bool> stop{false};
    // Four clients stream creations until the server dies under them.
    auto stream = [&](int n) {
      TestApi client(api.url());
      for (int i = 0; !stop; ++i) {
        Reply r = client.Post("/api/tasks", {{"task", TaskText(n, i)}});
        if (r.status != 201) break;  // the server is gone
        std::lock_guard lock(mu);
        acknowledged.push_back(r.body["id"]);
      }
    };
    std::vector<std::thread> clients;
    for (int n = 0; n < 4; ++n) clients.emplace_back(stream, n);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    api.child().Signal(SIGKILL);
    ASSERT_EQ(api.child().Wait(std::chrono::seconds(5)), 128 + SIGKILL);
    stop = true;
    for (auto& t : clients) t.join();
  }
  ASSERT_GT(acknowledged.size(), 100u) << "the stream was too short to mean anything";

  ApiProcess restarted(db, {"--no-access-log"});
  TestApi client(restarted.url());
  for (const auto& id : acknowledged) {
    Reply r = client.Get("/api/tasks/" + id);
    ASSERT_EQ(r.status, 200) << "task " << id << " got a 201 but is gone after restart";
    EXPECT_EQ(r.body["status"], "unassigned");
  }
  EXPECT_GE(client.Get("/api/tasks?limit=1").body["total"].get<std::size_t>(), acknowledged.size());
}

TEST(Durability, VanishedWorkerTasksFailAndAgentGoesOffline) {
  TempDir dir;
  ApiProcess api(dir.File("swarm.sqlite"), {"--worker-timeout", "2"});
  TestApi client(api.url());
  ASSERT_EQ(client.Register("ghost-worker").status, 201);
  ASSERT_EQ(client.Register("live-worker").status, 201);
  Reply a = client.Post("/api/tasks", {{"task", "a"}, {"agentId", "ghost-worker"}});
  Reply b = client.Post("/api/tasks", {{"task", "b"}, {"agentId", "live-worker"}});
  ASSERT_EQ(client.Get("/api/poll", "ghost-worker").body["trigger"]["taskId"], a.body["id"]);
  ASSERT_EQ(client.Get("/api/poll", "live-worker").body["trigger"]["taskId"], b.body["id"]);
  const std::string ghost_task = a.body["id"];
  const std::string live_task = b.body["id"];

  // The live worker keeps pinging; the ghost says nothing more.
  const auto start = std::chrono::steady_clock::now();
  json ghost;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(8)) {
    ASSERT_EQ(client.Send("POST", "/ping", "", "live-worker").status, 204);
    ghost = client.Get("/api/tasks/" + ghost_task).body;
    if (ghost["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(ghost["status"], "failed") << ghost.dump();
  EXPECT_GE(took, std::chrono::milliseconds(1500));  // not before the timeout
  const std::string reason = ghost["failureReason"];
  EXPECT_NE(reason.find("worker lost"), std::string::npos) << reason;
  EXPECT_EQ(client.Get("/api/agents/ghost-worker").body["status"], "offline");
  EXPECT_EQ(client.Get("/api/tasks/" + live_task).body["status"], "in_progress");
  EXPECT_EQ(client.Get("/api/agents/live-worker").body["status"], "busy");

  // The ghost's late finish does not overwrite the verdict; its next call brings it back.
  Reply late = client.Post("/api/tasks/" + ghost_task + "/finish", {{"status", "completed"}},
                           "ghost-worker");
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(client.Get("/api/agents/ghost-worker").body["status"], "idle");
}

TEST(Durability, SigtermEndsLongPollsAndExitsCleanly) {
  TempDir dir;
  const std::string db = dir.File("swarm.sqlite");
  ApiProcess api(db);
  TestApi client(api.url());
  ASSERT_EQ(client.Register("sleeper").status, 201);
  // Assigned elsewhere, so the sleeper's poll has nothing to claim and must be ended.
  Reply created = client.Post("/api/tasks", {{"task", "kept"}, {"agentId", "someone-else"}});
  std::thread poller([&] {
    TestApi c(api.url());
    Reply r = c.Send("GET", "/api/poll?wait=60", "", "sleeper");
    EXPECT_EQ(r.status, 200) << r.raw;
    EXPECT_TRUE(r.body["trigger"].is_null()) << r.raw;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  api.child().Signal(SIGTERM);
  EXPECT_EQ(api.child().Wait(std::chrono::seconds(10)), 0) << api.log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  poller.join();
  EXPECT_NE(api.log().find("\"msg\":\"stopped\""), std::string::npos);

  ApiProcess again(db);
  EXPECT_EQ(TestApi(again.url()).Get("/api/tasks/" + created.body["id"].get<std::string>()).status,
            200);
}

TEST(Durability, RefusesToStartWithoutAKey) {
  TempDir dir;
  auto r = RunCommand({AgentSwarmBinary(), "api", "--port", "0", "--db", dir.File("x.sqlite")}, {});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("AGENT_SWARM_API_KEY"), std::string::npos) << r.err;
}

TEST(Durability, ApiKeyFallsBackToApiKeyVariable) {
  TempDir dir;
  ChildSpec spec;
  spec.argv = {AgentSwarmBinary(), "api", "--port", "0", "--db", dir.File("x.sqlite")};
  spec.env = {{"API_KEY", "fallback-key-123"}};
  spec.stderr_path = dir.File("log");
  ChildProcess child(spec);
  uint16_t port = 0;
  for (int i = 0; i < 400 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto pos = ReadFile(spec.stderr_path).find("\"port\":");
    if (pos != std::string::npos) port = std::stoi(ReadFile(spec.stderr_path).substr(pos + 7));
  }
  ASSERT_NE(port, 0);
  TestApi client("http://127.0.0.1:" + std::to_string(port), "fallback-key-123");
  EXPECT_EQ(client.Get("/api/tasks").status, 200);
}

}  // namespace
}  // namespace swarm::testing_support
