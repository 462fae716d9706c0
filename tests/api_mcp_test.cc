// The MCP server of the real API process over HTTP on loopback: what a hostile or confused
// client gets (malformed JSON-RPC, batches, unknown tools, wrong argument types, someone
// else's task or session, oversized bodies, no key), and task-scoped tokens.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/mcp_token.h"
#include "http/client.h"
#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;

struct McpReply {
  int status = 0;
  json body;  // null when empty or not JSON
  std::string raw;
  std::string session;  // Mcp-Session-Id
};

class ApiMcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(api_.Register("w", 4).status, 201);
    ASSERT_EQ(api_.Register("other", 4).status, 201);
  }

  McpReply Send(const std::string& method, const std::string& body, const std::string& agent,
                const std::string& session = "", const std::string& bearer = kTestApiKey) {
    http::ClientRequest request;
    request.method = method;
    request.url = server_.url() + "/mcp";
    request.body = body;
    request.timeout = std::chrono::seconds(30);
    if (!bearer.empty()) request.headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!agent.empty()) request.headers.emplace_back("X-Agent-ID", agent);
    if (!session.empty()) request.headers.emplace_back("Mcp-Session-Id", session);
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("Accept", "application/json, text/event-stream");
    auto response = http_.Send(request);
    McpReply reply;
    if (!response) {
      reply.status = -1;
      reply.raw = response.error().message;
      return reply;
    }
    reply.status = response->status;
    reply.raw = response->body;
    auto parsed = json::parse(response->body, nullptr, false);
    if (!parsed.is_discarded()) reply.body = parsed;
    for (const auto& [name, value] : response->headers) {
      if (name == "mcp-session-id") reply.session = value;
    }
    return reply;
  }

  McpReply Rpc(const json& message, const std::string& agent, const std::string& session = "",
               const std::string& bearer = kTestApiKey) {
    return Send("POST", message.dump(), agent, session, bearer);
  }

  McpReply Initialize(const std::string& agent, const std::string& bearer = kTestApiKey) {
    return Rpc({{"jsonrpc", "2.0"},
                {"id", 1},
                {"method", "initialize"},
                {"params",
                 {{"protocolVersion", "2025-06-18"},
                  {"capabilities", json::object()},
                  {"clientInfo", {{"name", "api_mcp_test"}, {"version", "1"}}}}}},
               agent, "", bearer);
  }

  // An initialized session of `agent`.
  std::string Session(const std::string& agent, const std::string& bearer = kTestApiKey) {
    auto r = Initialize(agent, bearer);
    EXPECT_EQ(r.status, 200) << r.raw;
    EXPECT_FALSE(r.session.empty());
    auto initialized = Rpc({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, agent,
                           r.session, bearer);
    EXPECT_EQ(initialized.status, 202) << initialized.raw;
    return r.session;
  }

  McpReply Call(const std::string& agent, const std::string& session, const std::string& tool,
                const json& args, const std::string& bearer = kTestApiKey) {
    return Rpc({{"jsonrpc", "2.0"},
                {"id", 9},
                {"method", "tools/call"},
                {"params", {{"name", tool}, {"arguments", args}}}},
               agent, session, bearer);
  }

  // A task for `agent` with the seed's schema, claimed by it through the poll.
  std::string ClaimedTask(const std::string& agent) {
    auto created = api_.Post(
        "/api/tasks",
        {{"task", "reply pong"}, {"agentId", agent}, {"outputSchema", SeedOutputSchema()}});
    EXPECT_EQ(created.status, 201) << created.raw;
    auto polled = api_.Get("/api/poll", agent);
    EXPECT_EQ(polled.status, 200) << polled.raw;
    EXPECT_EQ(polled.body["trigger"]["taskId"], created.body["id"]);
    return created.body["id"];
  }

  json Task(const std::string& id) { return api_.Get("/api/tasks/" + id).body; }

  TempDir dir_;
  ApiProcess server_{dir_.File("swarm.sqlite"), {"--smoke-backend", "off"}};
  TestApi api_{server_.url()};
  http::CurlHttpClient http_;
};

TEST_F(ApiMcpTest, MalformedJsonRpcIsAParseErrorOrInvalidRequest) {
  const std::string session = Session("w");
  auto garbage = Send("POST", "{\"jsonrpc\": \"2.0\", \"method\": ", "w", session);
  EXPECT_EQ(garbage.status, 400) << garbage.raw;
  EXPECT_EQ(garbage.body["error"]["code"], -32700) << garbage.raw;
  auto not_rpc = Send("POST", R"({"jsonrpc":"1.0","id":1,"method":"ping"})", "w", session);
  EXPECT_EQ(not_rpc.status, 400) << not_rpc.raw;
  EXPECT_EQ(not_rpc.body["error"]["code"], -32600) << not_rpc.raw;
  auto unknown = Rpc({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tasks/steal"}}, "w", session);
  EXPECT_EQ(unknown.body["error"]["code"], -32601) << unknown.raw;
}

TEST_F(ApiMcpTest, ABatchIsRefusedAndRunsNothing) {
  const std::string session = Session("w");
  const std::string task = ClaimedTask("w");
  const json call = {
      {"jsonrpc", "2.0"},
      {"id", 3},
      {"method", "tools/call"},
      {"params",
       {{"name", "store-progress"}, {"arguments", {{"taskId", task}, {"progress", "batched"}}}}}};
  auto batch = Send("POST", json::array({call, call}).dump(), "w", session);
  EXPECT_EQ(batch.status, 400) << batch.raw;
  EXPECT_EQ(batch.body["error"]["code"], -32600) << batch.raw;
  EXPECT_TRUE(Task(task)["progress"].is_null());
}

TEST_F(ApiMcpTest, UnknownToolAndWrongArgumentTypesAreInvalidParams) {
  const std::string session = Session("w");
  const std::string task = ClaimedTask("w");
  auto unknown = Call("w", session, "drop-database", json::object());
  EXPECT_EQ(unknown.status, 200) << unknown.raw;
  EXPECT_EQ(unknown.body["error"]["code"], -32602) << unknown.raw;
  EXPECT_NE(unknown.body["error"]["message"].get<std::string>().find("drop-database"),
            std::string::npos);
  auto wrong = Call("w", session, "store-progress",
                    {{"taskId", task}, {"status", "completed"}, {"failureReason", 7}});
  EXPECT_EQ(wrong.body["error"]["code"], -32602) << wrong.raw;
  EXPECT_NE(wrong.raw.find("failureReason must be a string"), std::string::npos) << wrong.raw;
  auto limit = Call("w", session, "get-tasks", {{"limit", "ten"}});
  EXPECT_EQ(limit.body["error"]["code"], -32602) << limit.raw;
  EXPECT_EQ(Task(task)["status"], "in_progress");
}

TEST_F(ApiMcpTest, AnotherAgentsTaskIsRefusedAndNothingChanges) {
  const std::string session = Session("w");
  const std::string theirs = ClaimedTask("other");
  auto refused = Call("w", session, "store-progress",
                      {{"taskId", theirs},
                       {"progress", "hijacked"},
                       {"status", "completed"},
                       {"output", R"({"reply":"pong"})"}});
  ASSERT_EQ(refused.status, 200) << refused.raw;
  EXPECT_EQ(refused.body["result"]["isError"], true) << refused.raw;
  const std::string text = refused.body["result"]["content"][0]["text"];
  EXPECT_EQ(text.rfind("Error: task " + theirs + " is not yours", 0), 0u) << text;
  const json task = Task(theirs);
  EXPECT_EQ(task["status"], "in_progress");
  EXPECT_TRUE(task["progress"].is_null());
  EXPECT_TRUE(task["output"].is_null());
  auto cancel = Call("w", session, "cancel-task", {{"taskId", theirs}});
  EXPECT_EQ(cancel.body["result"]["isError"], true) << cancel.raw;
  EXPECT_EQ(Task(theirs)["status"], "in_progress");
}

TEST_F(ApiMcpTest, AnOversizedRequestIs413) {
  const std::string session = Session("w");
  const std::string task = ClaimedTask("w");
  const json huge = {
      {"jsonrpc", "2.0"},
      {"id", 4},
      {"method", "tools/call"},
      {"params",
       {{"name", "store-progress"},
        {"arguments", {{"taskId", task}, {"progress", std::string(2 << 20, 'a')}}}}}};
  auto r = Send("POST", huge.dump(), "w", session);
  EXPECT_EQ(r.status, 413) << r.raw.substr(0, 200);
  EXPECT_TRUE(Task(task)["progress"].is_null());
}

TEST_F(ApiMcpTest, UnauthenticatedAndUnregisteredCallersAreRefused) {
  EXPECT_EQ(Send("POST", "{}", "w", "", "").status, 401);
  EXPECT_EQ(Send("POST", "{}", "w", "", "wrong-key").status, 401);
  auto unregistered = Initialize("ghost");
  EXPECT_EQ(unregistered.status, 401) << unregistered.raw;
  EXPECT_TRUE(unregistered.session.empty());
  auto anonymous = Initialize("");
  EXPECT_EQ(anonymous.status, 401) << anonymous.raw;
  // A session is no key: without the bearer it is refused too.
  const std::string session = Session("w");
  EXPECT_EQ(Rpc({{"jsonrpc", "2.0"}, {"id", 5}, {"method", "ping"}}, "w", session, "").status, 401);
}

TEST_F(ApiMcpTest, AnotherAgentsSessionIsRefused) {
  const std::string session = Session("w");
  auto ping = Rpc({{"jsonrpc", "2.0"}, {"id", 6}, {"method", "ping"}}, "other", session);
  EXPECT_EQ(ping.status, 401) << ping.raw;
  auto tools = Rpc({{"jsonrpc", "2.0"}, {"id", 7}, {"method", "tools/list"}}, "other", session);
  EXPECT_EQ(tools.status, 401) << tools.raw;
  EXPECT_EQ(Send("DELETE", "", "other", session).status, 401);
  // Still w's.
  EXPECT_EQ(Rpc({{"jsonrpc", "2.0"}, {"id", 8}, {"method", "ping"}}, "w", session).status, 200);
  EXPECT_EQ(Send("DELETE", "", "w", session).status, 204);
  EXPECT_EQ(Rpc({{"jsonrpc", "2.0"}, {"id", 9}, {"method", "ping"}}, "w", session).status, 404);
}

TEST_F(ApiMcpTest, ATaskTokenDrivesItsTaskAndNothingElse) {
  const std::string task = ClaimedTask("w");
  const std::string token = MintMcpTaskToken(kTestApiKey, "w", task);
  const std::string session = Session("w", token);
  // The mismatch comes back as a tool error; the right output completes the task via MCP.
  auto mismatch =
      Call("w", session, "store-progress",
           {{"taskId", task}, {"status", "completed"}, {"output", R"({"reply":1})"}}, token);
  EXPECT_EQ(mismatch.body["result"]["isError"], true) << mismatch.raw;
  EXPECT_EQ(Task(task)["status"], "in_progress");
  auto done =
      Call("w", session, "store-progress",
           {{"taskId", task}, {"status", "completed"}, {"output", {{"reply", "pong"}}}}, token);
  EXPECT_EQ(done.body["result"]["isError"], false) << done.raw;
  const json finished = Task(task);
  EXPECT_EQ(finished["status"], "completed");
  EXPECT_EQ(finished["logs"][0]["metadata"], R"({"via":"mcp"})");
  // The safety net finds the task finished and leaves it as it is.
  auto net = api_.Post("/api/tasks/" + task + "/finish",
                       {{"status", "completed"}, {"output", "final text"}}, "w");
  EXPECT_EQ(net.status, 409) << net.raw;
  EXPECT_EQ(Task(task)["output"], R"({"reply":"pong"})");

  // The token is no key: other routes refuse it, and so does /mcp for another agent.
  TestApi with_token(server_.url(), token);
  EXPECT_EQ(with_token.Get("/api/tasks", "w").status, 401);
  EXPECT_EQ(Initialize("other", token).status, 401);
  // A token for a task w does not hold is refused.
  const std::string theirs = ClaimedTask("other");
  EXPECT_EQ(Initialize("w", MintMcpTaskToken(kTestApiKey, "w", theirs)).status, 401);
}

}  // namespace
}  // namespace swarm::testing_support
