// The /mcp routes through ApiRoutes::Dispatch (auth, task tokens, the executors, the SSE
// stream), without sockets: a real store and a real endpoint.
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "api/agent_service.h"
#include "api/heartbeats.h"
#include "api/mcp_tools.h"
#include "api/poll_hub.h"
#include "api/routes.h"
#include "api/routes_test_support.h"
#include "api/task_service.h"
#include "core/bounded_json.h"
#include "core/mcp_token.h"
#include "store/sqlite_store.h"

namespace swarm {
namespace {

using nlohmann::json;

constexpr char kKey[] = "mcp-routes-test-key-91c2";

std::string Header(const http::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// Collects what a streamed response writes.
class FakeBodyStream final : public http::BodyStream {
 public:
  boost::asio::awaitable<bool> Write(std::string_view bytes) override {
    written += bytes;
    co_return true;
  }
  http::PeerWatch& peer() override { return peer_; }
  std::string written;

 private:
  http::PeerWatch peer_;
};

class McpRoutesTest : public testing::Test {
 protected:
  // Dispatch posts heartbeats to the write pool without waiting for them: they must run
  // before the services they touch are destroyed (the members below executors_ go first).
  void TearDown() override { executors_.Join(); }

  void SetUp() override {
    auto opened = SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    tasks_ = std::make_unique<TaskService>(*store_, clock_, hub_);
    agents_ = std::make_unique<AgentService>(*store_, clock_, heartbeats_);
    tools_ = std::make_unique<McpTools>(*tasks_, *agents_);
    endpoint_ = std::make_unique<mcp::Endpoint>(*tools_, RegisteredAgentCheck(*agents_), clock_,
                                                mcp::EndpointOptions{});
    RoutesOptions options;
    options.api_key = kKey;
    options.mcp_keepalive = std::chrono::milliseconds(50);
    routes_ = std::make_unique<ApiRoutes>(options, *agents_, *tasks_, hub_, executors_, nullptr,
                                          nullptr, endpoint_.get());
    for (const char* id : {"w", "other"}) {
      AgentRegistration reg;
      reg.id = id;
      reg.name = id;
      reg.max_tasks = 4;
      ASSERT_TRUE(agents_->Register(reg));
    }
  }

  std::string ClaimedTask(const std::string& agent) {
    auto request = ParseCreateTask({{"task", "x"}, {"agentId", agent}});
    EXPECT_TRUE(request);
    auto task = tasks_->CreateNow(std::move(*request));
    EXPECT_TRUE(task);
    auto claimed = tasks_->Claim(agent);
    EXPECT_TRUE(claimed && claimed->task && claimed->task->id == task->id);
    return task->id;
  }

  http::HttpRequest Request(const std::string& method, const std::string& agent,
                            const std::string& bearer, const std::string& body = "",
                            const std::string& session = "") {
    http::HttpRequest request;
    request.method = method;
    request.path = "/mcp";
    request.body = body;
    if (!bearer.empty()) request.headers.emplace_back("authorization", "Bearer " + bearer);
    if (!agent.empty()) request.headers.emplace_back("x-agent-id", agent);
    if (!session.empty()) request.headers.emplace_back("mcp-session-id", session);
    request.headers.emplace_back("content-type", "application/json");
    request.headers.emplace_back(
        "accept", method == "GET" ? "text/event-stream" : "application/json, text/event-stream");
    return request;
  }

  http::HttpResponse Dispatch(http::HttpRequest request) {
    // The head hook runs first on the server; a request it refuses never reaches Dispatch.
    if (auto refused = routes_->CheckHead(request)) return *refused;
    return testing_support::DispatchNow(*routes_, std::move(request));
  }

  http::HttpResponse Rpc(const std::string& agent, const std::string& bearer, const json& message,
                         const std::string& session = "") {
    return Dispatch(Request("POST", agent, bearer, message.dump(), session));
  }

  // A new session of `agent` (authenticated by `bearer`); "" when refused.
  std::string Initialize(const std::string& agent, const std::string& bearer) {
    auto r = Rpc(agent, bearer,
                 {{"jsonrpc", "2.0"},
                  {"id", 1},
                  {"method", "initialize"},
                  {"params",
                   {{"protocolVersion", "2025-06-18"},
                    {"capabilities", json::object()},
                    {"clientInfo", {{"name", "test"}, {"version", "1"}}}}}});
    if (r.status != 200) return "";
    return Header(r, "Mcp-Session-Id");
  }

  json CallTool(const std::string& agent, const std::string& bearer, const std::string& session,
                const std::string& tool, const json& args) {
    auto r = Rpc(agent, bearer,
                 {{"jsonrpc", "2.0"},
                  {"id", 7},
                  {"method", "tools/call"},
                  {"params", {{"name", tool}, {"arguments", args}}}},
                 session);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  PollHub hub_;
  Heartbeats heartbeats_;
  StoreExecutors executors_{1, 1};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<TaskService> tasks_;
  std::unique_ptr<AgentService> agents_;
  std::unique_ptr<McpTools> tools_;
  std::unique_ptr<mcp::Endpoint> endpoint_;
  std::unique_ptr<ApiRoutes> routes_;
};

TEST(McpPostOnlyReadsTest, ReadsGoToTheReadPoolAndWritesToTheWritePool) {
  auto reads = [](std::string_view body) {
    return McpPostOnlyReads(ParseBoundedJson(body, JsonLimits{.max_depth = 64}));
  };
  EXPECT_TRUE(reads(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})"));
  EXPECT_TRUE(reads(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"));
  EXPECT_TRUE(reads(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})"));
  EXPECT_TRUE(reads(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_TRUE(reads("{not json"));
  EXPECT_TRUE(reads(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get-task-details"}})"));
  EXPECT_FALSE(reads(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"store-progress"}})"));
  EXPECT_FALSE(reads(R"([{"jsonrpc":"2.0","id":1,"method":"tools/call"}])"));
}

TEST_F(McpRoutesTest, TheKeyOpensASessionAndToolsRun) {
  const std::string task = ClaimedTask("w");
  const std::string session = Initialize("w", kKey);
  ASSERT_FALSE(session.empty());
  auto list = Rpc("w", kKey, {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}}, session);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body)["result"]["tools"].size(), tools_->Tools().size());
  auto done = CallTool("w", kKey, session, "store-progress",
                       {{"taskId", task}, {"status", "completed"}, {"output", "ok"}});
  EXPECT_EQ(done["result"]["isError"], false) << done.dump();
  EXPECT_EQ(store_->GetTask(task)->status, TaskStatus::kCompleted);
}

TEST_F(McpRoutesTest, WithoutTheKeyOrWithAnotherTokenIs401) {
  EXPECT_EQ(Dispatch(Request("POST", "w", "", "{}")).status, 401);
  EXPECT_EQ(Dispatch(Request("POST", "w", "wrong", "{}")).status, 401);
  const std::string task = ClaimedTask("w");
  // A token minted for w is worth nothing to another agent, nor minted with another key.
  EXPECT_EQ(Dispatch(Request("POST", "other", MintMcpTaskToken(kKey, "w", task), "{}")).status,
            401);
  EXPECT_EQ(Dispatch(Request("POST", "w", MintMcpTaskToken("other-key", "w", task), "{}")).status,
            401);
}

TEST_F(McpRoutesTest, ATaskTokenOpensOnlyMcp) {
  const std::string task = ClaimedTask("w");
  const std::string token = MintMcpTaskToken(kKey, "w", task);
  http::HttpRequest elsewhere = Request("GET", "w", token);
  elsewhere.path = "/api/tasks";
  EXPECT_TRUE(routes_->CheckHead(elsewhere).has_value());
  EXPECT_EQ(Dispatch(std::move(elsewhere)).status, 401);
  EXPECT_FALSE(routes_->CheckHead(Request("POST", "w", token)).has_value());
}

TEST_F(McpRoutesTest, ATaskTokenWorksWhileItsTaskIsInProgressAndReachesOnlyThatTask) {
  const std::string task = ClaimedTask("w");
  const std::string other_task = ClaimedTask("w");
  const std::string token = MintMcpTaskToken(kKey, "w", task);
  const std::string session = Initialize("w", token);
  ASSERT_FALSE(session.empty());
  auto refused =
      CallTool("w", token, session, "store-progress", {{"taskId", other_task}, {"progress", "x"}});
  EXPECT_EQ(refused["result"]["isError"], true) << refused.dump();
  EXPECT_FALSE(store_->GetTask(other_task)->progress);
  auto done = CallTool("w", token, session, "store-progress",
                       {{"taskId", task}, {"status", "completed"}, {"output", "ok"}});
  EXPECT_EQ(done["result"]["isError"], false) << done.dump();

  // Finished: still good for a while (the agent may read its result back), then not.
  clock_.Advance(std::chrono::minutes(9));
  auto details = CallTool("w", token, session, "get-task-details", {{"taskId", task}});
  EXPECT_EQ(details["result"]["structuredContent"]["task"]["status"], "completed");
  clock_.Advance(std::chrono::minutes(2));
  auto late = Rpc("w", token, {{"jsonrpc", "2.0"}, {"id", 3}, {"method", "ping"}}, session);
  EXPECT_EQ(late.status, 401) << late.body;
  EXPECT_EQ(Initialize("w", token), "");
  // The key still works for the same session.
  auto ping = Rpc("w", kKey, {{"jsonrpc", "2.0"}, {"id", 4}, {"method", "ping"}}, session);
  EXPECT_EQ(ping.status, 200) << ping.body;
}

TEST_F(McpRoutesTest, ATaskTokenForAnotherAgentsTaskIsRefused) {
  // w holds a token for a task `other` holds (say, the task moved): the task check refuses it.
  const std::string task = ClaimedTask("other");
  EXPECT_EQ(Initialize("w", MintMcpTaskToken(kKey, "w", task)), "");
  EXPECT_EQ(Initialize("w", MintMcpTaskToken(kKey, "w", "no-such-task")), "");
}

TEST_F(McpRoutesTest, TheStreamSaysConnectedKeepsAliveAndEndsWithItsSession) {
  const std::string session = Initialize("w", kKey);
  ASSERT_FALSE(session.empty());
  auto r = Dispatch(Request("GET", "w", kKey, "", session));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream");
  ASSERT_TRUE(r.stream);
  // A second stream on the same session is refused while this one is open.
  EXPECT_EQ(Dispatch(Request("GET", "w", kKey, "", session)).status, 409);

  FakeBodyStream out;
  boost::asio::io_context io;
  boost::asio::steady_timer end(io);
  end.expires_after(std::chrono::milliseconds(300));
  end.async_wait([&](auto) { endpoint_->CloseAll(); });  // the API's shutdown
  const auto start = std::chrono::steady_clock::now();
  auto producer = r.stream;
  auto future = boost::asio::co_spawn(io, producer(out), boost::asio::use_future);
  io.run_for(std::chrono::seconds(5));
  ASSERT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(out.written.rfind(": connected\n\n", 0), 0u) << out.written;
  EXPECT_NE(out.written.find(": keepalive\n\n"), std::string::npos) << out.written;
}

TEST_F(McpRoutesTest, AStreamNeverStartedDoesNotBlockTheNextGet) {
  const std::string session = Initialize("w", kKey);
  auto first = Dispatch(Request("GET", "w", kKey, "", session));
  ASSERT_TRUE(first.stream && first.on_undelivered);
  // The client left before the server could start the stream: the producer never runs.
  first.on_undelivered();
  EXPECT_FALSE(endpoint_->StreamAlive(session));
  auto again = Dispatch(Request("GET", "w", kKey, "", session));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(endpoint_->StreamAlive(session));
}

TEST_F(McpRoutesTest, DeleteEndsTheSessionAndItsStream) {
  const std::string session = Initialize("w", kKey);
  auto r = Dispatch(Request("GET", "w", kKey, "", session));
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(Dispatch(Request("DELETE", "other", kKey, "", session)).status, 401);
  EXPECT_EQ(Dispatch(Request("DELETE", "w", kKey, "", session)).status, 204);
  EXPECT_FALSE(endpoint_->StreamAlive(session));
  FakeBodyStream out;
  boost::asio::io_context io;
  auto producer = r.stream;
  auto future = boost::asio::co_spawn(io, producer(out), boost::asio::use_future);
  io.run_for(std::chrono::seconds(3));
  EXPECT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(Dispatch(Request("DELETE", "w", kKey, "", session)).status, 404);
}

}  // namespace
}  // namespace swarm
