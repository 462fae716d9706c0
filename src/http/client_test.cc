#include "http/client.h"

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/test_server.h"

namespace swarm::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Answers with what it received: "<METHOD> <path>?<query>|<x-token header>|<body>".
asio::awaitable<HttpResponse> Reflect(HttpRequest request) {
  HttpResponse response;
  if (request.path == "/slow") {
    asio::steady_timer timer(co_await asio::this_coro::executor, 2s);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (request.path == "/missing") response.status = 404;
  response.content_type = "text/plain";
  response.headers.emplace_back("X-Mixed-Case", "Value");
  response.body = request.method + " " + request.path + "?" + request.query + "|" +
                  std::string(request.Header("x-token")) + "|" + request.body;
  co_return response;
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : server_(ServerOptions{}, Reflect) {}

  std::string Header(const ClientResponse& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "<missing>";
  }

  test_support::TestServer server_;
  CurlHttpClient client_;
};

TEST_F(ClientTest, SendsMethodHeadersAndBody) {
  struct Case {
    std::string method;
    std::string body;
  };
  for (const Case& c : std::vector<Case>{{"GET", ""},
                                         {"POST", "{\"a\":1}"},
                                         {"POST", ""},
                                         {"PUT", "put-body"},
                                         {"PATCH", "p"},
                                         {"DELETE", ""}}) {
    ClientRequest request;
    request.method = c.method;
    request.url = server_.Url("/things?q=1");
    request.headers = {{"X-Token", "t-1"}};
    request.body = c.body;
    auto response = client_.Send(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200) << c.method;
    EXPECT_EQ(response->body, c.method + " /things?q=1|t-1|" + c.body);
    EXPECT_EQ(Header(*response, "x-mixed-case"), "Value");
    EXPECT_EQ(Header(*response, "content-type"), "text/plain");
  }
}

TEST_F(ClientTest, HeadHasNoBody) {
  ClientRequest request;
  request.method = "HEAD";
  request.url = server_.Url("/x");
  auto response = client_.Send(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
}

TEST_F(ClientTest, AnyStatusIsAResponse) {
  ClientRequest request;
  request.url = server_.Url("/missing");
  auto response = client_.Send(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 404);
}

TEST_F(ClientTest, ConnectionRefusedIsUnavailableWithoutHeaderValues) {
  // A port that was free a moment ago and has nobody listening now.
  uint16_t port;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  ClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  request.headers = {{"Authorization", "Bearer super-secret-token"}};
  request.timeout = 5s;
  auto response = client_.Send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(response.error().message.rfind("GET " + request.url + ": ", 0), 0u)
      << response.error().message;
  EXPECT_EQ(response.error().message.find("super-secret"), std::string::npos);
}

TEST_F(ClientTest, TimeoutIsUnavailable) {
  ClientRequest request;
  request.url = server_.Url("/slow");
  request.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto response = client_.Send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  // The handle recovers: the next call on this thread works.
  request.url = server_.Url("/fast");
  request.timeout = 5s;
  auto next = client_.Send(request);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->status, 200);
}

TEST_F(ClientTest, HeaderWithLineBreakIsRefusedWithoutEchoingIt) {
  ClientRequest request;
  request.url = server_.Url("/x");
  request.headers = {{"X-Token", "secret\r\nX-Injected: 1"}};
  auto response = client_.Send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message.find("secret"), std::string::npos);
}

TEST_F(ClientTest, ThreadsUseTheSharedClientConcurrently) {
  std::vector<std::future<int>> workers;
  for (int t = 0; t < 4; ++t) {
    workers.push_back(std::async(std::launch::async, [this, t] {
      int ok = 0;
      for (int i = 0; i < 20; ++i) {
        ClientRequest request;
        request.method = "POST";
        request.url = server_.Url("/t" + std::to_string(t));
        request.body = std::to_string(i);
        auto response = client_.Send(request);
        if (response &&
            response->body == "POST /t" + std::to_string(t) + "?||" + std::to_string(i)) {
          ++ok;
        }
      }
      return ok;
    }));
  }
  for (auto& w : workers) {
    ASSERT_EQ(w.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(w.get(), 20);
  }
}

}  // namespace
}  // namespace swarm::http
