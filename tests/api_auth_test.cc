// Every non-public route answers 401 without the key and with a wrong key. The cases come
// from the router's own table, so a route added later is covered without editing this test.
#include <thread>

#include <gtest/gtest.h>

#include "api/agent_service.h"
#include "api/heartbeats.h"
#include "api/mcp_tools.h"
#include "api/poll_hub.h"
#include "api/routes.h"
#include "api/task_service.h"
#include "store/sqlite_store.h"
#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

// The route table exactly as the server builds it.
std::vector<http::Route> ServerRoutes() {
  auto store = SqliteStore::Open(":memory:");
  EXPECT_TRUE(store);
  SystemClock clock;
  PollHub hub;
  Heartbeats heartbeats;
  AgentService agents(**store, clock, heartbeats);
  TaskService tasks(**store, clock, hub);
  StoreExecutors executors(1, 1);
  McpTools tools(tasks, agents);
  mcp::Endpoint endpoint(tools, [](const std::string&) -> Result<void> { return {}; }, clock, {});
  ApiRoutes routes(RoutesOptions{"unused"}, agents, tasks, hub, executors, nullptr, nullptr,
                   &endpoint);
  return routes.router().routes();
}

std::string Concrete(const http::Route& route) {
  std::string path;
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    if (i > 0) path += '/';
    const auto& s = route.segments[i];
    path += (s.size() > 2 && s.front() == '{') ? "some-id" : s;
  }
  return path;
}

class AuthTest : public ::testing::Test {
 protected:
  TempDir dir_;
  ApiProcess api_{dir_.File("swarm.sqlite")};
};

TEST_F(AuthTest, EveryNonPublicRouteRequiresTheKey) {
  const auto routes = ServerRoutes();
  ASSERT_GT(routes.size(), 15u);
  int checked = 0;
  for (const auto& route : routes) {
    const std::string path = Concrete(route);
    for (const std::string& key :
         {std::string(), std::string("wrong-key"), std::string(kTestApiKey) + "x",
          std::string(kTestApiKey).substr(1)}) {
      TestApi client(api_.url(), key);
      Reply r = client.Send(route.method, path, R"({"task":"x","name":"y"})", "agent-1");
      if (route.access == http::Access::kPublic) {
        EXPECT_NE(r.status, 401) << route.method << " " << path;
        continue;
      }
      EXPECT_EQ(r.status, 401) << route.method << " " << path << " key=" << key;
      EXPECT_EQ(r.body, nlohmann::json({{"error", "Unauthorized"}})) << r.raw;
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
  // Nothing was created by any of those requests.
  TestApi admin(api_.url());
  EXPECT_EQ(admin.Get("/api/tasks").body["total"], 0);
  EXPECT_EQ(admin.Get("/api/agents").body["agents"].size(), 0u);
}

TEST_F(AuthTest, OnlyHealthIsPublic) {
  for (const auto& route : ServerRoutes()) {
    if (route.access == http::Access::kPublic) {
      EXPECT_EQ(route.pattern, "/health");
    }
  }
}

TEST_F(AuthTest, UnknownPathsFailClosed) {
  TestApi anonymous(api_.url(), "");
  EXPECT_EQ(anonymous.Get("/api/nothing-here").status, 401);
  TestApi admin(api_.url());
  EXPECT_EQ(admin.Get("/api/nothing-here").status, 404);
  EXPECT_EQ(admin.Send("DELETE", "/api/tasks").status, 405);
}

TEST_F(AuthTest, KeyNeverAppearsInTheLog) {
  TestApi admin(api_.url());
  admin.Get("/api/tasks?x=" + std::string(kTestApiKey));
  admin.Post("/api/tasks", {{"task", std::string("leak ") + kTestApiKey}});
  TestApi wrong(api_.url(), "wrong-key-123456");
  wrong.Get("/api/tasks");
  // Access lines are buffered and written at least once a second.
  std::string log;
  for (int i = 0; i < 300 && log.find("\"msg\":\"access\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = api_.log();
  }
  EXPECT_NE(log.find("\"msg\":\"access\""), std::string::npos) << log;
  EXPECT_EQ(log.find(kTestApiKey), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong-key-123456"), std::string::npos) << log;
}

}  // namespace
}  // namespace swarm::testing_support
