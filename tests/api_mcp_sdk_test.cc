// The official MCP TypeScript SDK client (tests/mcp_sdk, pinned) against the real API's /mcp:
// runs tests/mcp_sdk/sdk_check.mjs (issue 9's "Must show" list for the SDK), then checks the
// task it finished through the API.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_process.h"
#include "support/child_process.h"

namespace swarm::testing_support {
namespace {

using namespace std::chrono_literals;

std::string FindNode() {
  std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(path, dir, ':')) {
    if (!dir.empty() && access((dir + "/node").c_str(), X_OK) == 0) return dir + "/node";
  }
  return "";
}

TEST(ApiMcpSdkTest, OfficialClientDrivesATaskThroughMcp) {
  const std::string sdk_dir = MCP_SDK_DIR;
  ASSERT_TRUE(
      std::filesystem::exists(sdk_dir + "/node_modules/@modelcontextprotocol/sdk/package.json"))
      << "the MCP SDK is not installed: run npm ci in tests/mcp_sdk (scripts/setup.sh does)";
  const std::string node = FindNode();
  ASSERT_FALSE(node.empty()) << "node is not on PATH";

  TempDir dir;
  ApiProcess server(dir.File("swarm.sqlite"), {"--smoke-backend", "off"});
  TestApi api(server.url());
  ASSERT_EQ(api.Register("sdk-agent").status, 201);
  ASSERT_EQ(api.Register("sdk-other").status, 201);
  auto created = api.Post(
      "/api/tasks",
      {{"task", "reply pong"}, {"agentId", "sdk-agent"}, {"outputSchema", SeedOutputSchema()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string task_id = created.body["id"];
  auto polled = api.Get("/api/poll", "sdk-agent");
  ASSERT_EQ(polled.body["trigger"]["taskId"], task_id) << polled.raw;

  auto run = RunCommand({node, sdk_dir + "/sdk_check.mjs"},
                        {{"MCP_URL", server.url() + "/mcp"},
                         {"API_KEY", kTestApiKey},
                         {"AGENT_ID", "sdk-agent"},
                         {"OTHER_AGENT_ID", "sdk-other"},
                         {"TASK_ID", task_id}},
                        60s);
  EXPECT_EQ(run.status, 0) << run.out << run.err << "\nAPI log:\n" << server.log();
  for (const char* step : {"connect over Streamable HTTP", "listTools",
                           "store-progress with a mismatching output is a tool error",
                           "get-task-details: the task stays in_progress",
                           "store-progress with the matching output completes the task",
                           "get-task-details shows the result came via mcp",
                           "unauthenticated client refused", "wrong key refused",
                           "unregistered agent refused", "another agent using the session refused",
                           "another agent calling a tool on the session refused",
                           "the owner keeps its session", "session terminated"}) {
    EXPECT_NE(run.out.find(std::string("ok ") + step), std::string::npos) << step;
  }

  auto task = api.Get("/api/tasks/" + task_id);
  EXPECT_EQ(task.body["status"], "completed") << task.raw;
  EXPECT_EQ(task.body["output"], R"({"reply":"pong"})");
  EXPECT_EQ(task.body["logs"][0]["metadata"], R"({"via":"mcp"})") << task.raw;
  // Access lines are buffered until the server stops.
  server.child().Signal(SIGTERM);
  EXPECT_EQ(server.child().Wait(10s).value_or(-1), 0);
  EXPECT_EQ(server.log().find(kTestApiKey), std::string::npos) << "the key reached the log";
  // The client opened the session's SSE stream (GET) and ended the session (DELETE).
  EXPECT_NE(server.log().find(R"("method":"GET","path":"/mcp","status":200)"), std::string::npos)
      << server.log();
  EXPECT_NE(server.log().find(R"("method":"DELETE","path":"/mcp","status":204)"),
            std::string::npos);
}

}  // namespace
}  // namespace swarm::testing_support
