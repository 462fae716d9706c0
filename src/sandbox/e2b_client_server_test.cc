// E2bSandboxProvider over real HTTP: libcurl against the project's own HttpServer on loopback,
// standing in for sandboxd. It checks what the scripted fakes cannot: that StartBackground
// hangs up on a live chunked stream after the `start` event, and that streamed envelopes cut at
// arbitrary TCP boundaries decode.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/client.h"
#include "http/connect.h"
#include "http/test_server.h"
#include "sandbox/e2b_client.h"
#include "sandbox/envd_stream.h"

namespace swarm::sandbox {
namespace {

namespace asio = boost::asio;
namespace connect = http::connect;
using namespace std::chrono_literals;
using http::test_support::TestServer;
using http::test_support::WaitUntil;
using nlohmann::json;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr char kToken[] = "server-test-envd-token";

struct Probe {
  std::atomic<bool> background_saw_gone{false};
  std::atomic<bool> background_done{false};
  std::atomic<int> keepalives_sent{0};
  std::atomic<bool> killed{false};
  std::string last_write_body;  // written on the server's strand, read after the call returns
};

std::string Event(const json& event) { return connect::EncodeMessage({{"event", event}}); }

asio::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(kUseTuple);
}

// Writes `bytes` in pieces of 7, so envelopes straddle chunk boundaries.
asio::awaitable<bool> WriteCut(http::BodyStream& out, const std::string& bytes) {
  for (std::size_t at = 0; at < bytes.size(); at += 7) {
    if (!co_await out.Write(std::string_view(bytes).substr(at, 7))) co_return false;
  }
  co_return true;
}

asio::awaitable<void> Produce(std::shared_ptr<Probe> probe, std::string cmd,
                              http::BodyStream& out) {
  // Every frame is built into a named local before a co_await (GCC 12 coroutine temporaries).
  if (cmd == "echo hi") {
    const std::string started = Event({{"start", {{"pid", 101}}}});
    const std::string output = Event({{"keepalive", json::object()}}) +
                               Event({{"data", {{"stdout", Base64Encode("hi\n")}}}}) +
                               Event({{"data", {{"stderr", Base64Encode("note\n")}}}});
    const std::string ended = Event({{"end", {{"exited", true}, {"status", "exit status 0"}}}}) +
                              connect::EncodeEndStream();
    co_await WriteCut(out, started);
    co_await Sleep(20ms);
    co_await WriteCut(out, output);
    co_await Sleep(20ms);
    co_await WriteCut(out, ended);
  } else if (cmd == "worker") {
    // A background process: it starts, then only keepalives, until the client hangs up.
    const std::string started = Event({{"start", {{"pid", 202}}}});
    const std::string keepalive = Event({{"keepalive", json::object()}});
    co_await out.Write(started);
    for (int i = 0; i < 500 && !out.peer().gone(); ++i) {
      co_await Sleep(20ms);
      if (!co_await out.Write(keepalive)) break;
      ++probe->keepalives_sent;
    }
    probe->background_saw_gone = out.peer().gone();
    probe->background_done = true;
  } else if (cmd == "cut") {
    // Returns without the end-of-stream envelope, as a crashed envd would.
    const std::string started = Event({{"start", {{"pid", 303}}}});
    co_await out.Write(started);
  }
}

struct Producer {
  std::shared_ptr<Probe> probe;
  std::string cmd;
  asio::awaitable<void> operator()(http::BodyStream& out) const { return Produce(probe, cmd, out); }
};

asio::awaitable<http::HttpResponse> Handle(std::shared_ptr<Probe> probe,
                                           http::HttpRequest request) {
  http::HttpResponse response;
  // The control plane: create and kill, keyed like E2B.
  if (request.path == "/sandboxes" || request.path.rfind("/sandboxes/", 0) == 0) {
    if (request.Header("x-api-key") != "server-test-api-key") {
      response.status = 401;
      response.body = R"({"code":401,"message":"Invalid API key"})";
    } else if (request.method == "POST") {
      auto body = json::parse(request.body);
      response.status = 201;
      response.body =
          json{{"sandboxID", "isrv1"},    {"templateID", body["templateID"]}, {"clientID", "local"},
               {"envdVersion", "0.6.13"}, {"envdAccessToken", kToken},        {"domain", nullptr}}
              .dump();
    } else if (request.method == "DELETE" && !probe->killed.exchange(true)) {
      response.status = 204;
    } else {
      response.status = 404;
      response.body = R"({"code":404,"message":"sandbox not found"})";
    }
    co_return response;
  }
  if (request.Header("e2b-sandbox-id") != "isrv1" || request.Header("x-access-token") != kToken) {
    response.status = 401;
    response.body = connect::EncodeUnaryError({"unauthenticated", "bad access token"});
    co_return response;
  }
  if (request.path == "/files" && request.method == "POST") {
    probe->last_write_body = request.body;
    response.body = R"([{"path":"/tmp/x","name":"x","type":"file"}])";
    co_return response;
  }
  if (request.path == "/files" && request.method == "GET") {
    response.content_type = "application/octet-stream";
    response.body = "file body";
    co_return response;
  }
  if (request.path != "/process.Process/Start") {
    co_return http::JsonError(404, "no such route");
  }
  connect::EnvelopeDecoder decoder;
  auto fed = decoder.Feed(request.body);
  auto envelope = decoder.Next();
  if (!fed || !envelope) co_return http::JsonError(400, "no envelope");
  auto start = json::parse(envelope->payload);
  response.content_type = std::string(connect::kStreamContentType);
  response.stream = Producer{probe, start["process"]["args"][2].get<std::string>()};
  co_return response;
}

struct Handler {
  std::shared_ptr<Probe> probe;
  asio::awaitable<http::HttpResponse> operator()(http::HttpRequest request) const {
    return Handle(probe, std::move(request));
  }
};

class E2bClientServerTest : public ::testing::Test {
 protected:
  E2bClientServerTest()
      : server_(http::ServerOptions{}, Handler{probe_}),
        provider_(E2bConfig::FromEnv({{"E2B_API_KEY", "server-test-api-key"},
                                      {"E2B_API_URL", server_.Url("")},
                                      {"E2B_SANDBOX_URL", server_.Url("")}}),
                  curl_) {}

  static CommandSpec Command(std::string cmd) {
    CommandSpec command;
    command.cmd = std::move(cmd);
    command.timeout = 10s;
    return command;
  }

  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  TestServer server_;
  http::CurlHttpClient curl_;
  E2bSandboxProvider provider_;
  SandboxHandle sandbox_{"isrv1", kToken, ""};
};

TEST_F(E2bClientServerTest, CreateRunKillOverHttp) {
  SandboxSpec spec;
  spec.template_id = "base";
  auto info = provider_.Create(spec);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->id(), "isrv1");
  EXPECT_EQ(info->template_id, "base");
  auto result = provider_.Run(info->handle, Command("echo hi"));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->output.stdout_text, "hi\n");
  auto killed = provider_.Kill(info->id());
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_TRUE(*killed);
  killed = provider_.Kill(info->id());
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_FALSE(*killed);

  E2bSandboxProvider wrong_key(
      E2bConfig::FromEnv({{"E2B_API_KEY", "not-the-key"}, {"E2B_API_URL", server_.Url("")}}),
      curl_);
  auto refused = wrong_key.Create(spec);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(refused.error().message.rfind("E2B 401: Invalid API key", 0), 0u);
}

TEST_F(E2bClientServerTest, RunDecodesAStreamCutAcrossChunks) {
  auto result = provider_.Run(sandbox_, Command("echo hi"));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->pid, 101);
  EXPECT_TRUE(result->exited);
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->output.stdout_text, "hi\n");
  EXPECT_EQ(result->output.stderr_text, "note\n");
}

TEST_F(E2bClientServerTest, StartBackgroundReturnsAtStartAndHangsUpWhileItRuns) {
  CommandSpec command = Command("worker");
  command.timeout = 0ms;  // no deadline: a worker
  const auto began = std::chrono::steady_clock::now();
  auto pid = provider_.StartBackground(sandbox_, command);
  ASSERT_TRUE(pid) << pid.error().message;
  EXPECT_EQ(*pid, 202);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  // The server's stream learns of the hang-up soon; the (stand-in) process was never ended.
  ASSERT_TRUE(WaitUntil([&] { return probe_->background_done.load(); }, 5s));
  EXPECT_TRUE(probe_->background_saw_gone);
  EXPECT_LT(probe_->keepalives_sent.load(), 100);
}

TEST_F(E2bClientServerTest, AStreamThatStopsWithoutItsEndIsAnError) {
  auto result = provider_.Run(sandbox_, Command("cut"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().message, "envd stream ended without EndStreamResponse");
}

TEST_F(E2bClientServerTest, AWrongTokenIsRefused) {
  SandboxHandle wrong{"isrv1", "some-other-token", ""};
  auto result = provider_.Run(wrong, Command("echo hi"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(result.error().message.find("some-other-token"), std::string::npos);
}

TEST_F(E2bClientServerTest, FilesGoBothWays) {
  ASSERT_TRUE(provider_.WriteFile(sandbox_, "/tmp/x", "payload"));
  EXPECT_NE(probe_->last_write_body.find("\r\n\r\npayload\r\n--"), std::string::npos);
  auto content = provider_.ReadFile(sandbox_, "/tmp/x");
  ASSERT_TRUE(content) << content.error().message;
  EXPECT_EQ(*content, "file body");
}

}  // namespace
}  // namespace swarm::sandbox
