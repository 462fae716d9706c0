#include "stub_llm/stub_service.h"

#include <chrono>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "core/redact.h"
#include "stub_llm/model_reply.h"
#include "stub_llm/sse_test_support.h"

namespace swarm::stub_llm {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

http::HttpRequest Post(std::string path, const json& body, std::string query = "") {
  http::HttpRequest r;
  r.method = "POST";
  r.path = std::move(path);
  r.query = std::move(query);
  r.body = body.dump();
  r.headers = {{"content-type", "application/json"}, {"x-api-key", "sk-ant-secret-4242"}};
  return r;
}

http::HttpRequest Bare(std::string method, std::string path) {
  http::HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

json ChatBody(std::string prompt, bool stream = false) {
  return {{"model", "m"},
          {"stream", stream},
          {"messages", json::array({{{"role", "user"}, {"content", std::move(prompt)}}})}};
}

class StubServiceTest : public testing::Test {
 protected:
  void TearDown() override { ClearSecretsForTest(); }

  Script script_{"pong"};
  std::mutex mu_;
  std::vector<json> lines_;
  StubService service_{script_, [this](json line) {
                         std::lock_guard lock(mu_);
                         lines_.push_back(std::move(line));
                       }};
};

TEST_F(StubServiceTest, RoutesBySuffix) {
  json anthropic = {{"stream", false},
                    {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  for (const auto& [path, query] :
       std::vector<std::pair<std::string, std::string>>{{"/v1/messages", ""},
                                                        {"/v1/messages", "beta=true"},
                                                        {"/messages", ""},
                                                        {"/proxy/anthropic/v1/messages/", ""}}) {
    auto out = service_.Decide(Post(path, anthropic, query));
    EXPECT_EQ(out.response.status, 200) << path;
    EXPECT_EQ(json::parse(out.response.body)["type"], "message") << path;
  }
  json responses = {{"input", "hi"}};
  EXPECT_EQ(json::parse(service_.Decide(Post("/v1/responses", responses)).response.body)["object"],
            "response");
  EXPECT_EQ(json::parse(service_.Decide(Post("/responses", responses)).response.body)["object"],
            "response");
  EXPECT_EQ(
      json::parse(
          service_.Decide(Post("/v1/chat/completions", ChatBody("hi"))).response.body)["object"],
      "chat.completion");
  EXPECT_EQ(json::parse(service_.Decide(Post("/chat/completions", ChatBody("hi")))
                            .response.body)["choices"][0]["message"]["content"],
            "pong");
  EXPECT_EQ(json::parse(service_.Decide(Post("/v1/messages/count_tokens", anthropic))
                            .response.body)["input_tokens"],
            EstimateTokens(anthropic.dump().size()));
}

TEST_F(StubServiceTest, RootModelsAndUnknownPaths) {
  EXPECT_EQ(service_.Decide(Bare("HEAD", "/")).response.status, 200);
  EXPECT_EQ(service_.Decide(Bare("GET", "/")).response.status, 200);
  json models = json::parse(service_.Decide(Bare("GET", "/v1/models")).response.body);
  EXPECT_EQ(models["object"], "list");
  EXPECT_EQ(models["data"][0]["id"], kStubModel);
  EXPECT_EQ(json::parse(service_.Decide(Bare("GET", "/models")).response.body)["object"], "list");
  json one = json::parse(service_.Decide(Bare("GET", "/v1/models/gpt-5.5")).response.body);
  EXPECT_EQ(one["id"], "gpt-5.5");

  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/messages"},
                                                        {"POST", "/v1/embeddings"},
                                                        {"HEAD", "/v1/models"},
                                                        {"DELETE", "/"},
                                                        {"POST", "/v1/messagesx"}}) {
    auto out = service_.Decide(Bare(method, path));
    EXPECT_EQ(out.response.status, 404) << method << " " << path;
    EXPECT_TRUE(json::parse(out.response.body)["error"]["message"].is_string());
    EXPECT_EQ(out.log["kind"], "unknown");
  }
}

TEST_F(StubServiceTest, BadBodiesAre400InTheWireShape) {
  http::HttpRequest r = Post("/v1/messages", {});
  r.body = "{nope";
  auto out = service_.Decide(r);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(json::parse(out.response.body)["error"]["message"],
            "the request body is not valid JSON");
  r.path = "/v1/chat/completions";
  out = service_.Decide(r);
  EXPECT_EQ(json::parse(out.response.body)["error"]["type"], "invalid_request_error");
}

TEST_F(StubServiceTest, ScriptedErrorKeepsTheWireShape) {
  auto out = service_.Decide(Post("/v1/chat/completions", ChatBody("HTTP_ERROR: 503 maintenance")));
  EXPECT_EQ(out.response.status, 503);
  EXPECT_EQ(json::parse(out.response.body)["error"]["message"], "maintenance");
  EXPECT_EQ(out.log["decision"]["action"], "error");
  EXPECT_EQ(out.log["status"], 503);
}

TEST_F(StubServiceTest, LogLineDescribesTheRequestWithoutItsKey) {
  auto out =
      service_.Decide(Post("/v1/chat/completions",
                           ChatBody("quote sk-ant-secret-4242 then REPLY: hi", true), "beta=true"));
  const json& log = out.log;
  EXPECT_EQ(log["method"], "POST");
  EXPECT_EQ(log["path"], "/v1/chat/completions");
  EXPECT_EQ(log["query"], "beta=true");
  EXPECT_EQ(log["kind"], "model");
  EXPECT_EQ(log["wire"], "chat");
  EXPECT_EQ(log["stream"], true);
  EXPECT_EQ(log["status"], 200);
  EXPECT_EQ(log["decision"]["action"], "reply");
  EXPECT_EQ(log["decision"]["text"], "hi");
  EXPECT_EQ(log["headers"]["x-api-key"], "[REDACTED] (18 bytes)");
  EXPECT_GT(log["usage"]["input"].get<int>(), 0);
  EXPECT_GT(log["bytesOut"].get<int>(), 0);
  // The prompt echoes the key: the log writer (log::Info) scrubs it as a registered secret.
  EXPECT_EQ(Redact(log.dump()).find("sk-ant-secret-4242"), std::string::npos);
}

TEST_F(StubServiceTest, StreamingRepliesAreEventStreams) {
  auto out = service_.Decide(Post("/v1/chat/completions", ChatBody("hi", true)));
  EXPECT_EQ(out.response.content_type, "text/event-stream");
  auto sse = test_support::ParseSse(out.response.body);
  EXPECT_EQ(sse.error, "");
  EXPECT_EQ(sse.events.back().data, "[DONE]");
}

asio::awaitable<void> HandleAndRecord(StubService* service, http::HttpRequest request,
                                      std::vector<std::string>* finished, std::string name) {
  http::HttpResponse response = co_await service->Handle(std::move(request));
  EXPECT_EQ(response.status, 200);
  finished->push_back(std::move(name));
}

TEST_F(StubServiceTest, DelayWaitsOnATimerWithoutBlockingTheThread) {
  asio::io_context io;  // run by this one thread
  std::vector<std::string> finished;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io,
                 HandleAndRecord(&service_, Post("/v1/chat/completions", ChatBody("DELAY_MS: 150")),
                                 &finished, "slow"),
                 asio::detached);
  asio::co_spawn(io,
                 HandleAndRecord(&service_, Post("/v1/chat/completions", ChatBody("quick")),
                                 &finished, "quick"),
                 asio::detached);
  io.run();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(finished, (std::vector<std::string>{"quick", "slow"}));
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[1]["decision"]["delayMs"], 150);
  EXPECT_GE(lines_[1]["ms"].get<int>(), 150);
}

}  // namespace
}  // namespace swarm::stub_llm
