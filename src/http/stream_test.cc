// Streamed responses end to end: the server's chunked BodyStream, the curl client's streaming
// reads, and Connect envelopes across both.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/client.h"
#include "http/connect.h"
#include "http/test_server.h"

namespace swarm::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test_support::TestServer;
using test_support::WaitUntil;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// What the producers report to the test thread.
struct Probe {
  std::atomic<bool> client_got_first{false};  // set by the client's sink
  std::atomic<bool> producer_done{false};
  std::atomic<bool> producer_saw_gone{false};
  std::atomic<int> writes_refused{0};
};

// Waits on the connection's strand until `done` holds or the peer goes, up to `bound`.
asio::awaitable<void> WaitFor(BodyStream& out, const std::atomic<bool>& done,
                              std::chrono::milliseconds bound) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done.load() && !out.peer().gone() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(5ms);
    co_await timer.async_wait(kUseTuple);
  }
}

// Sleeps up to `bound`, woken at once by the client hanging up.
asio::awaitable<void> SleepUnlessGone(BodyStream& out, std::chrono::milliseconds bound) {
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, bound);
  out.peer().OnGone([timer] { timer->cancel(); });
  co_await timer->async_wait(kUseTuple);
}

asio::awaitable<void> Produce(std::shared_ptr<Probe> probe, std::string path, BodyStream& out) {
  if (path == "/two-pieces") {
    co_await out.Write("one");
    co_await WaitFor(out, probe->client_got_first, 5s);  // the client has "one" before "two"
    co_await out.Write("two");
  } else if (path == "/until-gone") {
    co_await out.Write("x");
    co_await SleepUnlessGone(out, 10s);
    probe->producer_saw_gone = out.peer().gone();
    if (!co_await out.Write("after")) ++probe->writes_refused;
  } else if (path == "/ticks") {
    // A keepalive every 50 ms until the client goes (at most 10 s).
    for (int i = 0; i < 200 && !out.peer().gone(); ++i) {
      if (!co_await out.Write(".")) break;
      co_await SleepUnlessGone(out, 50ms);
    }
    probe->producer_saw_gone = out.peer().gone();
  } else if (path == "/stall") {
    co_await out.Write("x");
    co_await SleepUnlessGone(out, 5s);
  } else if (path == "/connect") {
    // Three messages and the end, written with the envelopes cut at odd places.
    std::string all = connect::EncodeMessage({{"event", {{"start", {{"pid", 7}}}}}}) +
                      connect::EncodeMessage({{"event", {{"data", {{"stdout", "aGk="}}}}}}) +
                      connect::EncodeMessage({{"event", {{"end", {{"exited", true}}}}}}) +
                      connect::EncodeEndStream(connect::ConnectError{"aborted", "over"});
    for (std::size_t at = 0; at < all.size(); at += 7) {
      co_await out.Write(std::string_view(all).substr(at, 7));
    }
  }
  probe->producer_done = true;
}

struct Producer {
  std::shared_ptr<Probe> probe;
  std::string path;
  asio::awaitable<void> operator()(BodyStream& out) const { return Produce(probe, path, out); }
};

asio::awaitable<HttpResponse> Handle(std::shared_ptr<Probe> probe, HttpRequest request) {
  HttpResponse response;
  if (request.path == "/plain") {
    response.body = R"({"plain":true})";
    co_return response;
  }
  if (request.path == "/missing") co_return JsonError(404, "no such stream");
  response.content_type = std::string(connect::kStreamContentType);
  response.stream = Producer{probe, request.path};
  co_return response;
}

struct TestHandler {
  std::shared_ptr<Probe> probe;
  asio::awaitable<HttpResponse> operator()(HttpRequest request) const {
    return Handle(probe, std::move(request));
  }
};

class StreamTest : public ::testing::Test {
 protected:
  StreamTest() : server_(ServerOptions{}, TestHandler{probe_}) {}

  ClientRequest Post(const std::string& path) {
    ClientRequest request;
    request.method = "POST";
    request.url = server_.Url(path);
    request.timeout = 10s;
    return request;
  }

  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  TestServer server_;
  CurlHttpClient client_;
};

TEST_F(StreamTest, EachWriteReachesTheClientAsItIsMade) {
  std::vector<std::string> pieces;
  auto reply = client_.SendStreaming(Post("/two-pieces"), [&](std::string_view bytes) {
    pieces.emplace_back(bytes);
    probe_->client_got_first = true;
    return true;
  });
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->status, 200);
  EXPECT_TRUE(reply->body.empty());
  ASSERT_GE(pieces.size(), 2u);
  EXPECT_EQ(pieces.front(), "one");  // it arrived while the producer still waited
  std::string all;
  for (const auto& p : pieces) all += p;
  EXPECT_EQ(all, "onetwo");
  bool chunked = false;
  for (const auto& [name, value] : reply->headers) {
    if (name == "transfer-encoding" && value == "chunked") chunked = true;
  }
  EXPECT_TRUE(chunked);
}

TEST_F(StreamTest, ProducerIsToldAtOnceWhenTheClientHangsUp) {
  auto reply = client_.SendStreaming(Post("/until-gone"), [](std::string_view) {
    return false;  // enough: curl closes the connection
  });
  ASSERT_TRUE(reply) << reply.error().message;  // stopping early is not an error
  const auto hung_up = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitUntil([&] { return probe_->producer_done.load(); }, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - hung_up, 2s);
  EXPECT_TRUE(probe_->producer_saw_gone);
  EXPECT_EQ(probe_->writes_refused, 1);  // a write after the hang-up says so
  EXPECT_TRUE(WaitUntil([&] { return server_.server().open_connections() == 0; }, 3s));
}

TEST_F(StreamTest, CancelFromAnotherThreadStopsTheTransfer) {
  std::atomic<bool> cancel{false};
  ClientRequest request = Post("/ticks");
  request.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  int pieces = 0;
  auto reply = client_.SendStreaming(request, [&](std::string_view) { return ++pieces > 0; });
  canceller.join();
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("cancelled"), std::string::npos) << reply.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_GT(pieces, 0);
  ASSERT_TRUE(WaitUntil([&] { return probe_->producer_done.load(); }, 3s));
  EXPECT_TRUE(probe_->producer_saw_gone);
}

TEST_F(StreamTest, StallTimeoutEndsASilentStream) {
  ClientRequest request = Post("/stall");
  request.timeout = 0ms;  // no whole-exchange bound: only the stall one
  request.stall_timeout = 1s;
  const auto start = std::chrono::steady_clock::now();
  auto reply = client_.SendStreaming(request, [](std::string_view) { return true; });
  ASSERT_FALSE(reply);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4500ms);
}

TEST_F(StreamTest, ErrorStatusBodyIsCollectedNotStreamed) {
  bool sink_called = false;
  auto reply = client_.SendStreaming(Post("/missing"), [&](std::string_view) {
    sink_called = true;
    return true;
  });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_NE(reply->body.find("no such stream"), std::string::npos);
  EXPECT_FALSE(sink_called);
}

TEST_F(StreamTest, ConnectionServesAnotherRequestAfterAStream) {
  for (int i = 0; i < 3; ++i) {
    std::string got;
    auto streamed = client_.SendStreaming(Post("/two-pieces"), [&](std::string_view bytes) {
      got.append(bytes);
      probe_->client_got_first = true;
      return true;
    });
    ASSERT_TRUE(streamed);
    EXPECT_EQ(got, "onetwo");
    ClientRequest plain = Post("/plain");
    auto reply = client_.Send(plain);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, R"({"plain":true})");
  }
  // Kept alive and reused: curl's one connection.
  EXPECT_EQ(server_.server().open_connections(), 1u);
}

TEST_F(StreamTest, ConnectEnvelopesSurviveArbitraryChunking) {
  connect::EnvelopeDecoder decoder;
  std::vector<connect::Envelope> envelopes;
  auto reply = client_.SendStreaming(Post("/connect"), [&](std::string_view bytes) {
    if (!decoder.Feed(bytes)) return false;
    while (auto e = decoder.Next()) envelopes.push_back(std::move(*e));
    return true;
  });
  ASSERT_TRUE(reply);
  ASSERT_EQ(envelopes.size(), 4u);
  EXPECT_FALSE(decoder.mid_envelope());
  EXPECT_EQ(nlohmann::json::parse(envelopes[0].payload)["event"]["start"]["pid"], 7);
  ASSERT_TRUE(envelopes[3].end_stream());
  auto end = connect::ParseEndStream(envelopes[3].payload);
  ASSERT_TRUE(end && *end);
  EXPECT_EQ((*end)->code, "aborted");
  EXPECT_EQ((*end)->message, "over");
}

}  // namespace
}  // namespace swarm::http
