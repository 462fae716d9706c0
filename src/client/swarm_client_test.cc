#include "client/swarm_client.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

// Answers every request with a canned response and remembers the last request.
class CannedHttp final : public http::HttpClient {
 public:
  Result<http::ClientResponse> Send(const http::ClientRequest& request) override {
    last = request;
    if (fail) return Unavailable("GET x: connection refused");
    return response;
  }
  http::ClientRequest last;
  http::ClientResponse response;
  bool fail = false;
};

std::string HeaderOf(const http::ClientRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

TEST(SwarmClient, SendsAuthAgentAndJson) {
  CannedHttp http;
  http.response = {201, R"({"id":"t1"})", {}};
  SwarmClient client(http, {"http://127.0.0.1:9/", "key-123", "agent-7"});
  auto reply = client.Call("POST", "/api/tasks", nlohmann::json{{"task", "x"}});
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->status, 201);
  EXPECT_EQ(reply->body["id"], "t1");
  EXPECT_EQ(http.last.url, "http://127.0.0.1:9/api/tasks");
  EXPECT_EQ(HeaderOf(http.last, "Authorization"), "Bearer key-123");
  EXPECT_EQ(HeaderOf(http.last, "X-Agent-ID"), "agent-7");
  EXPECT_EQ(http.last.body, R"({"task":"x"})");
}

TEST(SwarmClient, ServerErrorsBecomeErrorsWithTheirMessage) {
  CannedHttp http;
  http.response = {404, R"({"error":"task nope not found"})", {}};
  SwarmClient client(http, {"http://127.0.0.1:9", "k", ""});
  auto reply = client.Call("GET", "/api/tasks/nope");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(reply.error().message, "HTTP 404: task nope not found");
}

TEST(SwarmClient, EmptyBodyIsNull) {
  CannedHttp http;
  http.response = {204, "", {}};
  SwarmClient client(http, {"http://127.0.0.1:9", "k", "a"});
  auto reply = client.Call("POST", "/ping");
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->body.is_null());
}

TEST(SwarmClient, NonJsonBodyIsAnError) {
  CannedHttp http;
  http.response = {200, "<html>", {}};
  SwarmClient client(http, {"http://127.0.0.1:9", "k", ""});
  EXPECT_FALSE(client.Call("GET", "/health"));
}

TEST(SwarmClient, DeeplyNestedRepliesAreErrorsNotCrashes) {
  CannedHttp http;
  http.response = {200, std::string(200000, '[') + std::string(200000, ']'), {}};
  SwarmClient client(http, {"http://127.0.0.1:9", "k", ""});
  auto reply = client.Call("GET", "/api/tasks/t1");
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("128-level limit"), std::string::npos)
      << reply.error().message;
}

TEST(SwarmClient, TransportErrorsPassThrough) {
  CannedHttp http;
  http.fail = true;
  SwarmClient client(http, {"http://127.0.0.1:9", "k", ""});
  auto reply = client.Call("GET", "/health");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, ErrorCode::kUnavailable);
}

TEST(UrlEncode, EscapesReservedCharacters) {
  EXPECT_EQ(UrlEncode("a b/c?d"), "a%20b%2Fc%3Fd");
  EXPECT_EQ(UrlEncode("smoke-codex_1.2~x"), "smoke-codex_1.2~x");
}

// Fails like curl does: the message names the request's URL.
class RefusingHttp final : public http::HttpClient {
 public:
  Result<http::ClientResponse> Send(const http::ClientRequest& request) override {
    return Unavailable(request.method + " " + request.url + ": Couldn't connect to server");
  }
};

TEST(SwarmClient, TransportErrorsCarryNoUrlCredentials) {
  RefusingHttp http;
  SwarmClient client(http, {"http://admin:hunter2-pass@127.0.0.1:1", "key-123", ""});
  auto reply = client.Call("GET", "/api/tasks");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(reply.error().message,
            "GET http://[REDACTED]@127.0.0.1:1/api/tasks: Couldn't connect to server");
}

}  // namespace
}  // namespace swarm
