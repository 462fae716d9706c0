#include "sandboxd/routes.h"

#include <signal.h>

#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/connect.h"
#include "sandboxd/envd_wire.h"
#include "support/child_process.h"

namespace swarm::sandboxd {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kKey = "routes-test-key";

// A response body stream that keeps what is written; the peer can be made to go.
class FakeStream : public http::BodyStream {
 public:
  asio::awaitable<bool> Write(std::string_view bytes) override {
    written.append(bytes);
    co_return !watch.gone();
  }
  http::PeerWatch& peer() override { return watch; }

  // The envelopes written: their JSON, and whether the last one ended the stream.
  std::vector<json> Messages(bool* ended = nullptr) const {
    http::connect::EnvelopeDecoder decoder;
    EXPECT_TRUE(decoder.Feed(written));
    std::vector<json> messages;
    while (auto envelope = decoder.Next()) {
      if (envelope->end_stream()) {
        if (ended) *ended = true;
        messages.push_back(json::parse(envelope->payload));
      } else {
        messages.push_back(json::parse(envelope->payload)["event"]);
      }
    }
    return messages;
  }

  std::string written;
  http::PeerWatch watch;
};

template <typename T>
T Await(asio::io_context& io, asio::awaitable<T> awaitable) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(awaitable), [&](std::exception_ptr error, T value) {
    if (error) std::rethrow_exception(error);
    result = std::move(value);
  });
  io.restart();
  io.run();
  return std::move(*result);
}

class RoutesTest : public ::testing::Test {
 protected:
  RoutesTest()
      : registry_(RegistryOptions{.root = dir_.path(),
                                  .isolation = sandbox::Isolation::kProcessGroup,
                                  .max_sandboxes = 2}),
        routes_(registry_, nullptr, RoutesOptions{.api_key = kKey}) {}

  http::HttpResponse Call(std::string method, std::string path, std::string body = "",
                          http::HeaderList headers = {{"x-api-key", kKey}}) {
    http::HttpRequest request;
    request.method = std::move(method);
    const auto q = path.find('?');
    request.path = path.substr(0, q);
    if (q != std::string::npos) request.query = path.substr(q + 1);
    request.body = std::move(body);
    request.headers = std::move(headers);
    return Await(io_, routes_.Dispatch(std::move(request)));
  }

  json Create(const json& body = {{"templateID", "base"}}) {
    auto response = Call("POST", "/v2/sandboxes", body.dump());
    EXPECT_EQ(response.status, 201) << response.body;
    return json::parse(response.body);
  }

  http::HeaderList EnvdHeaders(const json& sandbox, bool stream) {
    return {{"e2b-sandbox-id", sandbox["sandboxID"]},
            {"x-access-token", sandbox.value("envdAccessToken", "")},
            {"content-type", stream ? "application/connect+json" : "application/json"}};
  }

  http::HttpResponse Start(const json& sandbox, const std::string& command,
                           http::HeaderList extra = {}) {
    auto headers = EnvdHeaders(sandbox, true);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return Call("POST", "/process.Process/Start",
                http::connect::EncodeMessage(
                    {{"process", {{"cmd", "/bin/bash"}, {"args", {"-c", command}}}}}),
                headers);
  }

  testing_support::TempDir dir_;
  asio::io_context io_;
  SandboxRegistry registry_;
  SandboxdRoutes routes_;
};

TEST_F(RoutesTest, StartStreamsStartOutputEndAndEndOfStream) {
  auto sandbox = Create();
  auto response = Start(sandbox, "echo hi; echo err >&2; exit 2");
  ASSERT_EQ(response.status, 200);
  ASSERT_TRUE(response.stream);
  EXPECT_EQ(response.content_type, "application/connect+json");
  FakeStream out;
  Await(io_, [&]() -> asio::awaitable<int> {
    co_await response.stream(out);
    co_return 0;
  }());
  bool ended = false;
  auto messages = out.Messages(&ended);
  ASSERT_GE(messages.size(), 4u) << out.written;
  EXPECT_TRUE(messages[0].contains("start"));
  EXPECT_TRUE(ended);
  EXPECT_EQ(messages.back(), json::object());
  const auto& end = messages[messages.size() - 2]["end"];
  EXPECT_EQ(end["exitCode"], 2);
  EXPECT_EQ(end["status"], "exit status 2");
}

TEST_F(RoutesTest, AClientThatGoesLeavesTheProcessRunningAndConnectReattaches) {
  auto sandbox = Create();
  auto response = Start(sandbox, "echo first; sleep 0.5; echo second");
  ASSERT_TRUE(response.stream);
  FakeStream out;
  std::thread hang_up([&] {
    std::this_thread::sleep_for(150ms);
    out.watch.MarkGone();
  });
  Await(io_, [&]() -> asio::awaitable<int> {
    co_await response.stream(out);
    co_return 0;
  }());
  hang_up.join();
  bool ended = false;
  auto first = out.Messages(&ended);
  EXPECT_FALSE(ended);  // cut off by the hang-up, not by the end
  const int pid = first.at(0)["start"]["pid"];

  auto list = Call("POST", "/process.Process/List", "{}", EnvdHeaders(sandbox, false));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body)["processes"][0]["pid"], pid);

  // Reattached while it runs: start again, then only what comes from now on (as envd).
  auto again =
      Call("POST", "/process.Process/Connect",
           http::connect::EncodeMessage({{"process", {{"pid", pid}}}}), EnvdHeaders(sandbox, true));
  ASSERT_TRUE(again.stream);
  FakeStream replay;
  Await(io_, [&]() -> asio::awaitable<int> {
    co_await again.stream(replay);
    co_return 0;
  }());
  auto messages = replay.Messages(&ended);
  EXPECT_TRUE(ended);
  EXPECT_EQ(messages.at(0)["start"]["pid"], pid);
  std::string text;
  for (const auto& m : messages) {
    if (!m.contains("data")) continue;
    auto piece = Base64Decode(m["data"].value("stdout", ""));
    ASSERT_TRUE(piece) << m.dump();
    text += *piece;
  }
  EXPECT_EQ(text, "second\n");
  EXPECT_EQ(messages.at(messages.size() - 2)["end"]["exitCode"], 0);
}

TEST_F(RoutesTest, KeepaliveDuringSilenceAndDeadlineFromTheHeader) {
  auto sandbox = Create();
  auto response = Start(sandbox, "sleep 30",
                        {{"keepalive-ping-interval", "1"}, {"connect-timeout-ms", "1300"}});
  ASSERT_TRUE(response.stream);
  FakeStream out;
  Await(io_, [&]() -> asio::awaitable<int> {
    co_await response.stream(out);
    co_return 0;
  }());
  auto messages = out.Messages();
  int keepalives = 0;
  for (const auto& m : messages) keepalives += m.contains("keepalive") ? 1 : 0;
  EXPECT_GE(keepalives, 1);
  EXPECT_EQ(messages.at(messages.size() - 2)["end"]["status"], "signal: killed");
}

TEST_F(RoutesTest, UnaryErrorsAreConnectErrors) {
  auto sandbox = Create();
  auto signal =
      Call("POST", "/process.Process/SendSignal",
           R"({"process":{"pid":999999},"signal":"SIGNAL_SIGKILL"})", EnvdHeaders(sandbox, false));
  EXPECT_EQ(signal.status, 404);
  EXPECT_EQ(json::parse(signal.body)["code"], "not_found");
  auto bad_start = Call("POST", "/process.Process/Start", http::connect::EncodeMessage({}),
                        EnvdHeaders(sandbox, true));
  EXPECT_EQ(bad_start.status, 200);
  http::connect::EnvelopeDecoder decoder;
  ASSERT_TRUE(decoder.Feed(bad_start.body));
  auto end = decoder.Next();
  ASSERT_TRUE(end && end->end_stream());
  EXPECT_EQ((*http::connect::ParseEndStream(end->payload))->code, "invalid_argument");
}

TEST_F(RoutesTest, ControlPlaneKeyLimitsAndErrors) {
  EXPECT_EQ(Call("GET", "/v2/sandboxes", "", {}).status, 401);
  EXPECT_EQ(Call("GET", "/v2/sandboxes", "", {{"x-api-key", "nope"}}).status, 401);
  auto bad = Call("POST", "/v2/sandboxes", R"({"templateID":"base","timeout":"soon"})");
  EXPECT_EQ(bad.status, 400);
  auto a = Create({{"templateID", "base"}, {"metadata", {{"k", "v 1"}}}});
  Create();
  auto third = Call("POST", "/v2/sandboxes", R"({"templateID":"base"})");
  EXPECT_EQ(third.status, 503) << "over max_sandboxes";
  auto listed = Call("GET", "/v2/sandboxes?metadata=k%3Dv%25201");
  ASSERT_EQ(listed.status, 200);
  auto items = json::parse(listed.body);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["sandboxID"], a["sandboxID"]);
  EXPECT_EQ(items[0]["state"], "running");
  auto got = Call("GET", "/sandboxes/" + a["sandboxID"].get<std::string>());
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body)["envdAccessToken"], a["envdAccessToken"]);
  EXPECT_EQ(Call("POST", "/v2/sandboxes/" + a["sandboxID"].get<std::string>() + "/connect",
                 R"({"timeout":60})")
                .status,
            200);
  EXPECT_EQ(Call("DELETE", "/sandboxes/" + a["sandboxID"].get<std::string>()).status, 204);
  auto gone = Call("POST", "/sandboxes/" + a["sandboxID"].get<std::string>() + "/timeout",
                   R"({"timeout":60})");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(json::parse(gone.body)["code"], 404);
}

TEST_F(RoutesTest, FilesRoundTripAndMissingFileIsE2bNotFound) {
  auto sandbox = Create();
  auto headers = EnvdHeaders(sandbox, false);
  headers.back() = {"content-type", "application/octet-stream"};
  auto wrote = Call("POST", "/files?path=notes%2Fa.txt", "hello", headers);
  ASSERT_EQ(wrote.status, 200) << wrote.body;
  EXPECT_EQ(json::parse(wrote.body)[0]["path"], "/home/user/notes/a.txt");
  auto read = Call("GET", "/files?path=%2Fhome%2Fuser%2Fnotes%2Fa.txt", "", headers);
  EXPECT_EQ(read.body, "hello");
  EXPECT_EQ(read.content_type, "application/octet-stream");
  auto missing = Call("GET", "/files?path=%2Fnope", "", headers);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"code":404,"message":"path '/nope' does not exist"})");
  auto gone = Call("GET", "/files?path=x", "", {{"e2b-sandbox-id", "iunknown"}});
  EXPECT_EQ(gone.status, 502);
  EXPECT_EQ(json::parse(gone.body)["message"], "The sandbox was not found");
}

}  // namespace
}  // namespace swarm::sandboxd

namespace swarm::sandboxd {
namespace {

TEST_F(RoutesTest, SendInputAndCloseStdinReachTheProcess) {
  auto sandbox = Create();
  auto response = Call("POST", "/process.Process/Start",
                       http::connect::EncodeMessage(
                           {{"process", {{"cmd", "/bin/bash"}, {"args", {"-c", "tr a-z A-Z"}}}},
                            {"stdin", true},
                            {"tag", "upper"}}),
                       EnvdHeaders(sandbox, true));
  ASSERT_TRUE(response.stream);
  auto list =
      json::parse(Call("POST", "/process.Process/List", "{}", EnvdHeaders(sandbox, false)).body);
  ASSERT_EQ(list["processes"].size(), 1u);
  EXPECT_EQ(list["processes"][0]["tag"], "upper");
  auto input = Call(
      "POST", "/process.Process/SendInput",
      json{{"process", {{"tag", "upper"}}}, {"input", {{"stdin", Base64Encode("quiet words\n")}}}}
          .dump(),
      EnvdHeaders(sandbox, false));
  EXPECT_EQ(input.status, 200) << input.body;
  EXPECT_EQ(Call("POST", "/process.Process/CloseStdin",
                 json{{"process", {{"pid", list["processes"][0]["pid"]}}}}.dump(),
                 EnvdHeaders(sandbox, false))
                .status,
            200);
  FakeStream out;
  Await(io_, [&]() -> asio::awaitable<int> {
    co_await response.stream(out);
    co_return 0;
  }());
  std::string text;
  for (const auto& m : out.Messages()) {
    if (m.contains("data")) text += *Base64Decode(m["data"].value("stdout", ""));
  }
  EXPECT_EQ(text, "QUIET WORDS\n");
}

}  // namespace
}  // namespace swarm::sandboxd
