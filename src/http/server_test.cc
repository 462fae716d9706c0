#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "http/query.h"
#include "http/test_server.h"

namespace swarm::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test_support::TestServer;
using test_support::WaitUntil;

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client over a POSIX socket, for what curl hides: exact bytes on the wire,
// pipelining, malformed requests, and seeing the server close the connection. Every read is
// bounded by a deadline.

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;

  // The first value of a header, matched case-insensitively, or "".
  std::string Header(std::string name) const {
    std::string lower_head = head;
    for (char& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t at = lower_head.find("\r\n" + name + ":");
    if (at == std::string::npos) return {};
    std::size_t begin = at + 2 + name.size() + 1;
    std::size_t end = head.find("\r\n", begin);
    std::string value = head.substr(begin, end - begin);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    return value;
  }
};

class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    connect_errno_ = connected_ ? 0 : errno;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response; nullopt if the connection closed or `bound` passed first. A response to
  // HEAD has no body whatever its Content-Length says.
  std::optional<RawResponse> ReadResponse(std::chrono::milliseconds bound = 5s,
                                          bool head_request = false) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    std::size_t end_of_head;
    while ((end_of_head = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(deadline)) return std::nullopt;
    }
    RawResponse r;
    r.head = pending_.substr(0, end_of_head + 2);
    pending_.erase(0, end_of_head + 4);
    if (r.head.size() < 12) return std::nullopt;
    r.status = std::stoi(r.head.substr(9, 3));
    std::size_t length = 0;
    if (!head_request && r.status != 100 && r.status != 204 && r.status != 304) {
      std::string cl = r.Header("Content-Length");
      length = cl.empty() ? 0 : std::stoul(cl);
    }
    while (pending_.size() < length) {
      if (!ReadMore(deadline)) return std::nullopt;
    }
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }

  // True if the server closes the connection (EOF or reset) within `bound`.
  bool WaitClosed(std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    for (;;) {
      if (!Poll(deadline)) return false;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET || errno == EPIPE;
    }
  }

 private:
  bool Poll(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }

  bool ReadMore(std::chrono::steady_clock::time_point deadline) {
    if (!Poll(deadline)) return false;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
  std::string pending_;
};

// ---------------------------------------------------------------------------------------------
// The handler under test. Written as the API layer should write one: a small functor that
// forwards to a named coroutine taking its arguments by value (coroutine lambdas with captures
// miscompile on GCC 12).

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

struct State {
  std::atomic<int> sleeping{0};     // handlers inside /sleep now
  std::atomic<int> sleeps_done{0};  // /sleep handlers finished
  std::atomic<int> handled{0};      // handler calls
  std::atomic<int> watching{0};     // /watch handlers waiting for their peer
  std::atomic<int> undelivered{0};  // on_undelivered calls
  std::atomic<bool> saw_gone{false};
  std::atomic<int64_t> gone_at_ns{0};  // steady clock, when an OnGone callback ran
  std::mutex mu;
  std::vector<AccessRecord> log;               // guarded by mu
  std::shared_ptr<asio::steady_timer> waiter;  // guarded by mu: the /wait handler's timer
  asio::any_io_executor waiter_executor;       // guarded by mu

  std::size_t log_size() {
    std::lock_guard lock(mu);
    return log.size();
  }
};

asio::awaitable<HttpResponse> Handle(std::shared_ptr<State> state, HttpRequest request) {
  HttpResponse response;
  ++state->handled;
  auto count_undelivered = [state] { ++state->undelivered; };
  if (request.path == "/watch") {
    // Waits until the peer goes (or 10 s), woken by the peer watch.
    auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, 10s);
    request.peer->OnGone([state, timer] {
      state->gone_at_ns = std::chrono::steady_clock::now().time_since_epoch().count();
      timer->cancel();
    });
    ++state->watching;
    co_await timer->async_wait(kUseTuple);
    --state->watching;
    state->saw_gone = request.PeerGone();
    response.body = R"({"watched":true})";
    response.on_undelivered = count_undelivered;
  } else if (request.path == "/big") {
    response.body = std::string(8 << 20, 'b');
    response.content_type = "text/plain";
    response.on_undelivered = count_undelivered;
  } else if (request.path == "/delivered") {
    response.body = R"({"ok":true})";
    response.on_undelivered = count_undelivered;
  } else if (request.path == "/echo") {
    response.status = 201;
    response.headers.emplace_back("X-Reply", "yes");
    response.body = nlohmann::json{{"method", request.method},
                                   {"path", request.path},
                                   {"query", request.query},
                                   {"x_foo", request.Header("x-foo")},
                                   {"body", request.body},
                                   {"remote", request.remote},
                                   {"header_count", request.headers.size()}}
                        .dump();
  } else if (request.path == "/sleep") {
    auto ms = std::stoi(QueryParams::Parse(request.query).Get("ms").value_or("100"));
    ++state->sleeping;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await timer.async_wait(kUseTuple);
    --state->sleeping;
    ++state->sleeps_done;
    response.body = R"({"slept":true})";
  } else if (request.path == "/wait") {
    // A wake-able wait: the timer lives on this connection's strand; whoever wants to wake the
    // handler posts a cancel to that executor (see the WakeableWait test).
    auto executor = co_await asio::this_coro::executor;
    auto timer = std::make_shared<asio::steady_timer>(executor, 10s);
    {
      std::lock_guard lock(state->mu);
      state->waiter = timer;
      state->waiter_executor = executor;
    }
    auto [ec] = co_await timer->async_wait(kUseTuple);
    response.body = ec == asio::error::operation_aborted ? "woken" : "timed out";
    response.content_type = "text/plain";
  } else if (request.path == "/throw") {
    throw std::runtime_error("handler bug");
  } else if (request.path == "/no-content") {
    response.status = 204;
  } else {
    response = JsonError(404, "no such path");
  }
  co_return response;
}

struct TestHandler {
  std::shared_ptr<State> state;
  asio::awaitable<HttpResponse> operator()(HttpRequest request) const {
    return Handle(state, std::move(request));
  }
};

// Refuses, on the headers alone, requests without "X-Key: good".
struct TestHeadHook {
  std::shared_ptr<State> state;
  std::optional<HttpResponse> operator()(const HttpRequest& head) const {
    EXPECT_TRUE(head.body.empty());
    if (head.Header("x-key") == "good") return std::nullopt;
    return JsonError(401, "Unauthorized");
  }
};

struct TestLogger {
  std::shared_ptr<State> state;
  void operator()(const AccessRecord& record) const {
    std::lock_guard lock(state->mu);
    state->log.push_back(record);
  }
};

ServerOptions SmallOptions() {
  ServerOptions options;
  options.body_limit = 16;
  options.read_timeout = 5s;
  options.idle_timeout = 5s;
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = SmallOptions()) {
    server_ = std::make_unique<TestServer>(options, TestHandler{state_}, TestLogger{state_});
  }
  void TearDown() override {
    // The /wait handler's timer and strand must go before the io_context does.
    std::lock_guard lock(state_->mu);
    state_->waiter.reset();
    state_->waiter_executor = {};
  }
  uint16_t port() const { return server_->port(); }
  std::string Url(const std::string& target) const { return server_->Url(target); }

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::unique_ptr<TestServer> server_;
  CurlHttpClient client_;
};

std::string Get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

std::string Post(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

// ---------------------------------------------------------------------------------------------

TEST_F(ServerTest, RoundTripCarriesMethodPathQueryHeadersAndBody) {
  Start();
  ClientRequest request;
  request.method = "POST";
  request.url = Url("/echo?x=1&name=a%20b");
  request.headers = {{"X-Foo", "Bar"}, {"Content-Type", "text/plain"}};
  request.body = "hello";
  auto response = client_.Send(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 201);
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["path"], "/echo");
  EXPECT_EQ(body["query"], "x=1&name=a%20b");
  EXPECT_EQ(body["x_foo"], "Bar");
  EXPECT_EQ(body["body"], "hello");
  EXPECT_EQ(body["remote"], "127.0.0.1");

  auto header = [&](const std::string& name) -> std::string {
    for (const auto& [n, v] : response->headers) {
      if (n == name) return v;
    }
    return "<missing>";
  };
  EXPECT_EQ(header("x-reply"), "yes");
  EXPECT_EQ(header("content-type"), "application/json");
  EXPECT_EQ(header("content-length"), std::to_string(response->body.size()));
}

TEST_F(ServerTest, MethodIsUpperCasedAndHeaderNamesLowerCased) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("get /echo HTTP/1.1\r\nHost: t\r\nX-FOO: v\r\n\r\n"));
  auto r = raw.ReadResponse();
  ASSERT_TRUE(r);
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["x_foo"], "v");
}

TEST_F(ServerTest, KeepAliveServesSequentialAndPipelinedRequestsOnOneConnection) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(raw.Send(Get("/echo?i=" + std::to_string(i))));
    auto r = raw.ReadResponse();
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(nlohmann::json::parse(r->body)["query"], "i=" + std::to_string(i));
    EXPECT_NE(r->Header("Connection"), "close");
  }
  // Two requests in one segment come back in order.
  ASSERT_TRUE(raw.Send(Get("/echo?p=1") + Post("/echo?p=2", "xy")));
  auto first = raw.ReadResponse();
  auto second = raw.ReadResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(nlohmann::json::parse(first->body)["query"], "p=1");
  EXPECT_EQ(nlohmann::json::parse(second->body)["body"], "xy");
  // "Connection: close" is honoured.
  ASSERT_TRUE(raw.Send(Get("/echo", "Connection: close\r\n")));
  auto last = raw.ReadResponse();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->Header("Connection"), "close");
  EXPECT_TRUE(raw.WaitClosed(2s));
}

TEST_F(ServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  Start();
  {
    RawClient raw(port());
    ASSERT_TRUE(raw.Send("GET /echo HTTP/1.0\r\n\r\n"));
    auto r = raw.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201);
    EXPECT_TRUE(raw.WaitClosed(2s));
  }
  RawClient raw(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(raw.Send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = raw.ReadResponse();
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->Header("Connection"), "keep-alive");
  }
}

TEST_F(ServerTest, CurlClientReusesItsConnection) {
  Start();
  for (int i = 0; i < 5; ++i) {
    ClientRequest request;
    request.url = Url("/echo");
    auto response = client_.Send(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 201);
    EXPECT_EQ(server_->server().open_connections(), 1u);
  }
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Post("/echo", std::string(16, 'a'))));
  auto r = raw.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(nlohmann::json::parse(r->body)["body"], std::string(16, 'a'));
}

TEST_F(ServerTest, BodyOverTheLimitGets413AndTheConnectionCloses) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Post("/echo", std::string(17, 'a'))));
  auto r = raw.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"error":"request body is larger than the 16-byte limit"})");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(raw.WaitClosed(3s));
  ASSERT_TRUE(WaitUntil([&] { return state_->log_size() == 1; }, 2s));
  EXPECT_EQ(state_->log[0].status, 413);
  EXPECT_EQ(state_->log[0].method, "POST");
  EXPECT_EQ(state_->log[0].path, "/echo");
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitGets413) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"));
  auto r = raw.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(ServerTest, LargeBodyFromCurlStillGetsThe413) {
  // The client is still sending when the server answers; the lingering close keeps the
  // response from being destroyed by a reset.
  ServerOptions options = SmallOptions();
  options.body_limit = 1024;
  Start(options);
  ClientRequest request;
  request.method = "POST";
  request.url = Url("/echo");
  request.body = std::string(4 << 20, 'x');
  request.timeout = 10s;
  auto response = client_.Send(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, R"({"error":"request body is larger than the 1024-byte limit"})");
}

TEST_F(ServerTest, MalformedRequestsGet400AndClose) {
  Start();
  for (const char* bad :
       {"NOT AN HTTP REQUEST\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n"}) {
    RawClient raw(port());
    ASSERT_TRUE(raw.Send(bad));
    auto r = raw.ReadResponse();
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    auto body = nlohmann::json::parse(r->body);
    EXPECT_TRUE(body.contains("error")) << r->body;
    EXPECT_TRUE(raw.WaitClosed(3s)) << bad;
  }
}

TEST_F(ServerTest, OversizedHeaderGets431) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Get("/echo", "X-Big: " + std::string(20000, 'b') + "\r\n")));
  auto r = raw.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(raw.WaitClosed(3s));
}

// POST /echo asking `Expect: 100-continue` (with `extra_headers`): the server answers 100,
// the client sends "hello", and the echo comes back.
void ExpectContinueThenEcho(RawClient& raw, const std::string& extra_headers = "") {
  ASSERT_TRUE(raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\n" + extra_headers +
                       "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = raw.ReadResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(raw.Send("hello"));
  auto r = raw.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(nlohmann::json::parse(r->body)["body"], "hello");
}

TEST_F(ServerTest, ExpectContinueGetsA100First) {
  Start();
  RawClient raw(port());
  ExpectContinueThenEcho(raw);
}

TEST_F(ServerTest, HeadGetsTheLengthWithoutTheBodyAnd204HasNoBody) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(
      raw.Send("HEAD /nowhere HTTP/1.1\r\nHost: t\r\n\r\n" + Get("/no-content") + Get("/echo")));
  auto head = raw.ReadResponse(5s, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  EXPECT_EQ(head->Header("Content-Length"),
            std::to_string(JsonError(404, "no such path").body.size()));
  auto no_content = raw.ReadResponse();
  ASSERT_TRUE(no_content);
  EXPECT_EQ(no_content->status, 204);
  auto echo = raw.ReadResponse();  // framing held: the next response parses
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->status, 201);
}

TEST_F(ServerTest, AWaitingHandlerDoesNotBlockOtherConnections) {
  Start();
  auto long_poll = std::async(std::launch::async, [this] {
    CurlHttpClient client;
    ClientRequest request;
    request.url = Url("/sleep?ms=1500");
    return client.Send(request);
  });
  ASSERT_TRUE(WaitUntil([&] { return state_->sleeping.load() == 1; }, 5s));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    ClientRequest request;
    request.url = Url("/echo");
    auto response = client_.Send(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 201);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(state_->sleeps_done.load(), 0) << "the fast requests waited for the long one";
  ASSERT_EQ(long_poll.wait_for(10s), std::future_status::ready);
  auto slow = long_poll.get();
  ASSERT_TRUE(slow) << slow.error().message;
  EXPECT_EQ(slow->status, 200);
}

TEST_F(ServerTest, WakeableWaitIsWokenByAnotherThread) {
  Start();
  auto poll = std::async(std::launch::async, [this] {
    CurlHttpClient client;
    ClientRequest request;
    request.url = Url("/wait");
    return client.Send(request);
  });
  std::shared_ptr<asio::steady_timer> timer;
  asio::any_io_executor executor;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard lock(state_->mu);
        timer = state_->waiter;
        executor = state_->waiter_executor;
        return timer != nullptr;
      },
      5s));
  // The timer belongs to the handler's strand: cancel it there, never from this thread.
  asio::post(executor, [timer] { timer->cancel(); });
  ASSERT_EQ(poll.wait_for(5s), std::future_status::ready);
  auto response = poll.get();
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->body, "woken");
}

TEST_F(ServerTest, HandlerExceptionBecomes500AndTheConnectionSurvives) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Get("/throw")));
  auto r = raw.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"error":"internal error"})");
  ASSERT_TRUE(raw.Send(Get("/echo")));
  auto next = raw.ReadResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 201);
  ASSERT_TRUE(WaitUntil([&] { return state_->log_size() == 2; }, 2s));
  EXPECT_EQ(state_->log[0].status, 500);
  EXPECT_EQ(state_->log[0].path, "/throw");
}

TEST_F(ServerTest, IdleConnectionClosesAfterIdleTimeout) {
  ServerOptions options = SmallOptions();
  options.idle_timeout = 200ms;
  options.header_timeout = 10s;  // distinct: only the idle wait ends this connection
  Start(options);
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Get("/echo")));
  ASSERT_TRUE(raw.ReadResponse());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(raw.WaitClosed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  EXPECT_TRUE(WaitUntil([&] { return server_->server().open_connections() == 0; }, 2s));
}

TEST_F(ServerTest, HeaderTimeoutClosesAClientThatNeverFinishesItsHeaders) {
  ServerOptions options = SmallOptions();
  options.header_timeout = 300ms;
  options.read_timeout = 10s;  // distinct: the body's, not the header's
  options.idle_timeout = 10s;
  Start(options);
  RawClient raw(port());
  const auto start = std::chrono::steady_clock::now();
  // One byte every 50 ms never finishes the header: the trickle does not extend the deadline.
  const std::string header = "GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: abcdefghijklmnop";
  bool closed = false;
  for (char c : header) {
    if (!raw.Send(std::string(1, c))) break;
    if (raw.WaitClosed(50ms)) {
      closed = true;
      break;
    }
  }
  if (!closed) closed = raw.WaitClosed(3s);
  EXPECT_TRUE(closed);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
  RawClient silent(port());  // connects and never sends a byte
  EXPECT_TRUE(silent.WaitClosed(3s));
  EXPECT_EQ(state_->handled.load(), 0);
}

TEST_F(ServerTest, KeptAliveConnectionGetsTheHeaderTimeoutFromItsFirstByte) {
  ServerOptions options = SmallOptions();
  options.header_timeout = 300ms;
  options.idle_timeout = 10s;
  Start(options);
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Get("/echo")));
  ASSERT_TRUE(raw.ReadResponse());
  std::this_thread::sleep_for(500ms);  // idle longer than header_timeout: still open
  ASSERT_TRUE(raw.Send("GET /echo HTTP/1.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(raw.WaitClosed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

TEST_F(ServerTest, StalledBodyClosesAfterReadTimeout) {
  ServerOptions options = SmallOptions();
  options.header_timeout = 10s;
  options.read_timeout = 200ms;
  Start(options);
  RawClient raw(port());
  ASSERT_TRUE(raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(raw.WaitClosed(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(state_->handled.load(), 0);
}

TEST_F(ServerTest, OverTheConnectionCapNewConnectionsGet503AndClose) {
  ServerOptions options = SmallOptions();
  options.max_connections = 2;
  Start(options);
  RawClient a(port());
  RawClient b(port());
  ASSERT_TRUE(a.connected() && b.connected());
  ASSERT_TRUE(WaitUntil([&] { return server_->server().open_connections() == 2; }, 2s));
  {
    RawClient over(port());
    ASSERT_TRUE(over.connected());  // accepted, then answered and closed at once
    auto r = over.ReadResponse(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, R"({"error":"too many connections"})");
    EXPECT_EQ(r->Header("Connection"), "close");
    EXPECT_TRUE(over.WaitClosed(2s));
  }
  EXPECT_TRUE(WaitUntil([&] { return server_->server().refused_connections() == 1; }, 2s));
  // The connections inside the cap are served, and a place that frees is taken again.
  ASSERT_TRUE(a.Send(Get("/echo")));
  auto served = a.ReadResponse();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 201);
  b.Send(Get("/echo", "Connection: close\r\n"));
  ASSERT_TRUE(b.ReadResponse());
  ASSERT_TRUE(WaitUntil([&] { return server_->server().open_connections() == 1; }, 3s));
  RawClient again(port());
  ASSERT_TRUE(again.Send(Get("/echo")));
  auto r = again.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
}

TEST_F(ServerTest, OverTheBodyWaiterCapRequestsGet503WithConnectionClose) {
  ServerOptions options = SmallOptions();
  options.max_body_waiters = 1;
  Start(options);
  RawClient slow(port());
  ASSERT_TRUE(slow.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"));
  ASSERT_TRUE(WaitUntil([&] { return server_->server().body_waiters() == 1; }, 2s));
  // The second sender finds the one place taken.
  RawClient second(port());
  ASSERT_TRUE(second.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n"));
  auto refused = second.ReadResponse(2s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_TRUE(second.WaitClosed(3s));
  EXPECT_EQ(refused->Header("Connection"), "close");
  EXPECT_EQ(refused->Header("Retry-After"), "1");
  EXPECT_GE(server_->server().refused_body_waiters(), 1u);
  // Requests without a body do not wait for one and are served.
  RawClient get(port());
  ASSERT_TRUE(get.Send(Get("/echo")));
  auto r = get.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  // Once the first body is complete its place is free again.
  ASSERT_TRUE(slow.Send("cdefghij"));
  auto first = slow.ReadResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 201);
  RawClient third(port());
  ASSERT_TRUE(third.Send(Post("/echo", "xyz")));
  auto ok = third.ReadResponse();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
}

TEST_F(ServerTest, HeadHookRefusesOnTheHeadersBeforeTheBodyOrA100Continue) {
  ServerOptions options = SmallOptions();
  options.head_hook = TestHeadHook{state_};
  Start(options);
  {
    RawClient raw(port());
    ASSERT_TRUE(
        raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nX-Key: wrong\r\nContent-Length: 5\r\n"
                 "Expect: 100-continue\r\n\r\n"));
    auto r = raw.ReadResponse();  // the first thing back is the refusal, never a 100
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->body, R"({"error":"Unauthorized"})");
    EXPECT_EQ(r->Header("Connection"), "close");
    EXPECT_TRUE(raw.WaitClosed(3s));
  }
  {
    // The refusal comes as soon as the header is in, without waiting for the body.
    RawClient raw(port());
    ASSERT_TRUE(raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n"));
    auto r = raw.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
  }
  EXPECT_EQ(state_->handled.load(), 0);
  ASSERT_TRUE(WaitUntil([&] { return state_->log_size() == 2; }, 2s));
  EXPECT_EQ(state_->log[0].status, 401);
  EXPECT_EQ(state_->log[0].path, "/echo");

  RawClient good(port());
  ExpectContinueThenEcho(good, "X-Key: good\r\n");
}

TEST_F(ServerTest, ClientHangingUpDuringAWaitingHandlerMarksThePeerGoneAndWakesIt) {
  Start();
  auto raw = std::make_unique<RawClient>(port());
  ASSERT_TRUE(raw->Send(Get("/watch")));
  ASSERT_TRUE(WaitUntil([&] { return state_->watching.load() == 1; }, 5s));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(state_->gone_at_ns.load(), 0) << "a connected peer is not gone";
  const auto hung_up = std::chrono::steady_clock::now();
  raw.reset();  // close(2)
  ASSERT_TRUE(WaitUntil([&] { return state_->watching.load() == 0; }, 2s));
  const auto woken = std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(state_->gone_at_ns.load()));
  EXPECT_LT(woken - hung_up, 100ms);
  EXPECT_TRUE(state_->saw_gone.load());
  // Its response had nobody to go to.
  ASSERT_TRUE(WaitUntil([&] { return state_->undelivered.load() == 1; }, 2s));
  EXPECT_TRUE(WaitUntil([&] { return server_->server().open_connections() == 0; }, 2s));
}

TEST_F(ServerTest, BytesSentWhileAHandlerWaitsAreServedAfterIt) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Get("/sleep?ms=300")));
  ASSERT_TRUE(WaitUntil([&] { return state_->sleeping.load() == 1; }, 5s));
  ASSERT_TRUE(raw.Send(Get("/echo?after=1")));  // read by the peer watch, kept
  auto first = raw.ReadResponse();
  auto second = raw.ReadResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(nlohmann::json::parse(second->body)["query"], "after=1");
}

TEST_F(ServerTest, AClientFloodingWhileItsHandlerWaitsCountsAsGone) {
  Start();
  RawClient raw(port());
  ASSERT_TRUE(raw.Send(Get("/watch")));
  ASSERT_TRUE(WaitUntil([&] { return state_->watching.load() == 1; }, 5s));
  ASSERT_TRUE(raw.Send(std::string(64 * 1024, 'x')));
  ASSERT_TRUE(WaitUntil([&] { return state_->watching.load() == 0; }, 2s));
  EXPECT_TRUE(state_->saw_gone.load());
  EXPECT_TRUE(raw.WaitClosed(3s));
}

TEST_F(ServerTest, AResponseThatCannotBeWrittenCallsOnUndelivered) {
  ServerOptions options = SmallOptions();
  options.read_timeout = 300ms;  // also the write bound
  Start(options);
  RawClient raw(port());  // asks for 8 MB and never reads them
  ASSERT_TRUE(raw.Send(Get("/big")));
  ASSERT_TRUE(WaitUntil([&] { return state_->undelivered.load() == 1; }, 5s));
}

TEST_F(ServerTest, ADeliveredResponseDoesNotCallOnUndelivered) {
  Start();
  RawClient raw(port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(raw.Send(Get("/delivered")));
    auto r = raw.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_TRUE(raw.Send(Get("/delivered", "Connection: close\r\n")));
  ASSERT_TRUE(raw.ReadResponse());
  EXPECT_TRUE(raw.WaitClosed(2s));
  EXPECT_TRUE(WaitUntil([&] { return server_->server().open_connections() == 0; }, 2s));
  EXPECT_EQ(state_->undelivered.load(), 0);
}

TEST_F(ServerTest, ShutdownFinishesInFlightRequestsAndClosesIdleOnes) {
  Start();
  RawClient idle(port());
  ASSERT_TRUE(idle.Send(Get("/echo")));
  ASSERT_TRUE(idle.ReadResponse());
  RawClient busy(port());
  ASSERT_TRUE(busy.Send(Get("/sleep?ms=300")));
  ASSERT_TRUE(WaitUntil([&] { return state_->sleeping.load() == 1; }, 5s));
  EXPECT_EQ(server_->server().open_connections(), 2u);

  server_->server().BeginShutdown();

  // The idle connection goes at once.
  EXPECT_TRUE(idle.WaitClosed(1s));  // idle_timeout is 5 s: this is the shutdown
  auto r = busy.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(busy.WaitClosed(3s));
  // New connections are refused once the acceptor has closed.
  EXPECT_TRUE(WaitUntil(
      [&] {
        RawClient late(port());
        return !late.connected() && late.connect_errno() == ECONNREFUSED;
      },
      2s));
  // With every connection gone the server holds no work: run() returns in both threads.
  EXPECT_TRUE(server_->WaitForIoThreads(5s));
  EXPECT_EQ(server_->server().open_connections(), 0u);
}

TEST_F(ServerTest, AccessLogHasTheRightFieldsAndNoSecrets) {
  Start();
  ClientRequest request;
  request.url = Url("/echo?token=s3cr3t-query");
  request.headers = {{"X-Agent-ID", "agent-7"}, {"Authorization", "Bearer s3cr3t-key"}};
  auto response = client_.Send(request);
  ASSERT_TRUE(response) << response.error().message;
  ASSERT_TRUE(WaitUntil([&] { return state_->log_size() == 1; }, 2s));
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(state_->log_size(), 1u) << "one record per request";
  const AccessRecord& record = state_->log[0];
  EXPECT_EQ(record.method, "GET");
  EXPECT_EQ(record.path, "/echo");
  EXPECT_EQ(record.status, 201);
  EXPECT_EQ(record.response_bytes, response->body.size());
  EXPECT_GE(record.duration_us, 0);
  EXPECT_LT(record.duration_us, 5'000'000);
  EXPECT_EQ(record.agent_id, "agent-7");
  EXPECT_EQ(record.remote, "127.0.0.1");
  for (const std::string* field :
       {&record.method, &record.path, &record.agent_id, &record.remote}) {
    EXPECT_EQ(field->find("s3cr3t"), std::string::npos) << *field;
  }
}

TEST_F(ServerTest, ListenOnAPortInUseIsUnavailable) {
  Start();
  boost::asio::io_context io;
  ServerOptions options;
  options.port = port();
  HttpServer second(io, options, TestHandler{state_});
  auto result = second.Listen();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("in use"), std::string::npos) << result.error().message;
}

TEST_F(ServerTest, ManyClientThreadsAtOnce) {
  Start();
  std::vector<std::future<int>> workers;
  for (int t = 0; t < 8; ++t) {
    workers.push_back(std::async(std::launch::async, [this, t] {
      CurlHttpClient client;
      int ok = 0;
      for (int i = 0; i < 50; ++i) {
        ClientRequest request;
        request.method = "POST";
        request.url = Url("/echo?t=" + std::to_string(t));
        request.body = std::to_string(i);
        auto response = client.Send(request);
        if (response && response->status == 201 &&
            nlohmann::json::parse(response->body)["body"] == std::to_string(i)) {
          ++ok;
        }
      }
      return ok;
    }));
  }
  for (auto& w : workers) {
    ASSERT_EQ(w.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(w.get(), 50);
  }
}

}  // namespace
}  // namespace swarm::http
