#include "sandbox/e2b_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/bounded_json.h"
#include "core/redact.h"
#include "http/connect.h"
#include "sandbox/e2b_test_fakes.h"
#include "sandbox/envd_stream.h"

namespace swarm::sandbox {
namespace {

using nlohmann::json;
using test_support::HasHeader;
using test_support::HeaderOf;
using test_support::ScriptedHttp;
namespace connect = http::connect;

constexpr char kKey[] = "e2b_secret_key_0123456789";
constexpr char kToken[] = "envd-token-abcdef123456";

E2bConfig LocalConfig() {
  return E2bConfig::FromEnv({{"E2B_API_KEY", kKey},
                             {"E2B_API_URL", "http://127.0.0.1:9"},
                             {"E2B_SANDBOX_URL", "http://127.0.0.1:10"}});
}

class E2bClientTest : public ::testing::Test {
 protected:
  E2bClientTest() {
    options_.api.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
  }
  E2bSandboxProvider& provider() {
    if (!provider_) provider_.emplace(LocalConfig(), http_, options_);
    return *provider_;
  }
  static SandboxHandle Secure() { return SandboxHandle{"isbx1", kToken, ""}; }

  ScriptedHttp http_;
  E2bClientOptions options_;
  std::vector<std::chrono::milliseconds> sleeps_;
  std::optional<E2bSandboxProvider> provider_;
};

CommandSpec Cmd(std::string cmd, std::string cwd = "") {
  CommandSpec command;
  command.cmd = std::move(cmd);
  command.cwd = std::move(cwd);
  return command;
}

std::string Event(const json& event) { return connect::EncodeMessage({{"event", event}}); }
std::string B64(std::string_view s) { return Base64Encode(s); }

json BodyOf(const http::ClientRequest& request) {
  auto parsed = ParseBoundedJson(request.body);
  EXPECT_TRUE(parsed) << request.body;
  return parsed ? *parsed : json();
}

// The StartRequest inside the one envelope of a Start call's body.
json StartRequestOf(const http::ClientRequest& request) {
  connect::EnvelopeDecoder decoder;
  EXPECT_TRUE(decoder.Feed(request.body));
  auto envelope = decoder.Next();
  EXPECT_TRUE(envelope.has_value());
  EXPECT_FALSE(decoder.Next().has_value());
  return envelope ? json::parse(envelope->payload) : json();
}

// ---- control plane --------------------------------------------------------------------------

// Found by fuzz_envd_stream: a non-boolean `exited` threw out of the decoder.
TEST(ProcessStreamDecoderTest, AMalformedExitedFieldIsFalseNotAThrow) {
  ProcessStreamDecoder decoder;
  std::vector<ProcessStreamEvent> events;
  auto fed =
      decoder.Feed(Event({{"end", {{"exitCode", 1}, {"exited", 11}}}}) + connect::EncodeEndStream(),
                   [&](const ProcessStreamEvent& e) {
                     events.push_back(e);
                     return true;
                   });
  ASSERT_TRUE(fed) << fed.error().message;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ProcessStreamEvent::Kind::kEnd);
  EXPECT_EQ(events[0].exit_code, 1);
  EXPECT_FALSE(events[0].exited);
  EXPECT_TRUE(decoder.Finish());
}

// A number outside long long's range is garbage, not a cast with undefined behaviour.
TEST(E2bApiFieldsTest, IntFieldFallsBackForAnOutOfRangeNumber) {
  const auto body = json::parse(R"({"big":1e300,"small":-1e19,"f":3.9,"s":"12","i":7})");
  EXPECT_EQ(e2b::IntField(body, "big", -1), -1);
  EXPECT_EQ(e2b::IntField(body, "small", -1), -1);
  EXPECT_EQ(e2b::IntField(body, "f"), 3);
  EXPECT_EQ(e2b::IntField(body, "s"), 12);
  EXPECT_EQ(e2b::IntField(body, "i"), 7);
}

TEST_F(E2bClientTest, CreatePostsTheSandboxWithKeyAndAllFields) {
  http_.Queue(201, R"({"templateID":"tpl1","sandboxID":"iabc123","clientID":"c",
                       "envdVersion":"0.6.13","envdAccessToken":"tok-1234567","domain":null})");
  SandboxSpec spec;
  spec.template_id = "worker";
  spec.timeout = std::chrono::seconds(900);
  spec.env_vars = {{"A", "1"}};
  spec.metadata = {{"app", "agent-swarm"}};
  spec.cpu_count = 2;
  auto info = provider().Create(spec);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->id(), "iabc123");
  EXPECT_EQ(info->handle.envd_access_token, "tok-1234567");
  EXPECT_EQ(info->handle.domain, "");
  EXPECT_EQ(info->envd_version, "0.6.13");
  EXPECT_EQ(info->template_id, "tpl1");
  EXPECT_EQ(info->metadata, spec.metadata);

  const auto& request = http_.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:9/sandboxes");
  EXPECT_EQ(HeaderOf(request, "X-API-Key"), kKey);
  EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/json");
  EXPECT_EQ(BodyOf(request), json::parse(R"({"templateID":"worker","timeout":900,
      "envVars":{"A":"1"},"metadata":{"app":"agent-swarm"},"secure":true,
      "allow_internet_access":true,"cpuCount":2})"));
}

TEST_F(E2bClientTest, CreateAcceptsA200AndSendsEmptyMapsAsObjects) {
  http_.Queue(200, R"({"templateID":"base","sandboxID":"i1","envdVersion":"0.6.13"})");
  SandboxSpec spec;
  spec.secure = false;
  auto info = provider().Create(spec);
  ASSERT_TRUE(info) << info.error().message;
  auto body = BodyOf(http_.last());
  EXPECT_TRUE(body["envVars"].is_object());
  EXPECT_TRUE(body["metadata"].is_object());
  EXPECT_EQ(body["secure"], false);
  EXPECT_EQ(body["timeout"], 300);
  EXPECT_FALSE(body.contains("cpuCount"));
}

TEST_F(E2bClientTest, UnauthorizedSurfacesStatusAndMessageWithoutTheKey) {
  // A server that echoes the key back must not get it into our error text.
  http_.Queue(401, std::string(R"({"code":401,"message":"Invalid API key: )") + kKey + "\"}");
  auto info = provider().Create({});
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(info.error().message.find("E2B 401: Invalid API key"), std::string::npos)
      << info.error().message;
  EXPECT_EQ(info.error().message.find(kKey), std::string::npos) << info.error().message;
}

TEST_F(E2bClientTest, ErrorStatusesMapToErrorCodes) {
  const std::vector<std::pair<int, ErrorCode>> cases = {
      {400, ErrorCode::kBadRequest},  {403, ErrorCode::kForbidden},
      {404, ErrorCode::kNotFound},    {409, ErrorCode::kConflict},
      {500, ErrorCode::kUnavailable}, {503, ErrorCode::kUnavailable}};
  for (const auto& [status, code] : cases) {
    http_.Queue(status, R"({"code":)" + std::to_string(status) + R"(,"message":"nope"})");
    auto info = provider().Get("iabc");
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, code) << status;
    EXPECT_EQ(info.error().message, "E2B " + std::to_string(status) + ": nope");
  }
  // Not JSON (a proxy's HTML page): its start stands in for the message.
  http_.Queue(502, "<html>bad gateway</html>");
  auto info = provider().Get("iabc");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().message, "E2B 502: <html>bad gateway</html>");
}

TEST_F(E2bClientTest, NoKeyNoCall) {
  E2bSandboxProvider keyless(E2bConfig::FromEnv({{"E2B_API_URL", "http://127.0.0.1:9"}}), http_);
  auto info = keyless.Create({});
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(info.error().message.find("E2B_API_KEY"), std::string::npos);
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(E2bClientTest, TransportFailuresAreUnavailable) {
  http_.handler = [](const http::ClientRequest&) -> Result<http::ClientResponse> {
    return Unavailable("GET http://127.0.0.1:9/sandboxes/i1: Connection refused");
  };
  auto info = provider().Get("i1");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(info.error().message.find("Connection refused"), std::string::npos);
}

TEST_F(E2bClientTest, AnOversizedReplyIsRefused) {
  http_.chunk_size = 1 << 20;
  http_.Queue(200, "[" + std::string(e2b::kMaxReplyBytes, ' ') + "]");
  auto list = provider().List({});
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(http_.sink_stopped);
}

TEST_F(E2bClientTest, RateLimitIsRetriedAfterRetryAfterAndBounded) {
  http_.Queue(429, R"({"code":429,"message":"slow down"})", {{"retry-after", "2"}});
  http_.Queue(429, R"({"code":429,"message":"slow down"})", {{"retry-after", "3600"}});
  http_.Queue(204, "");
  ASSERT_TRUE(provider().SetTimeout("iabc", std::chrono::seconds(60)));
  EXPECT_EQ(http_.requests.size(), 3u);
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_EQ(sleeps_[0], std::chrono::seconds(2));
  EXPECT_EQ(sleeps_[1], std::chrono::seconds(30));  // capped

  // Past the retries, and for a 429 that does not say when, the 429 is the answer.
  http_.requests.clear();
  for (int i = 0; i < 5; ++i) {
    http_.Queue(429, R"({"code":429,"message":"slow down"})", {{"retry-after", "1"}});
  }
  auto timeout = provider().SetTimeout("iabc", std::chrono::seconds(60));
  ASSERT_FALSE(timeout);
  EXPECT_EQ(timeout.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(timeout.error().message, "E2B 429: slow down");
  EXPECT_EQ(http_.requests.size(), 4u);  // the first try and 3 retries

  http_.queue.clear();
  http_.requests.clear();
  http_.Queue(429, R"({"code":429,"message":"slow down"})");
  EXPECT_FALSE(provider().SetTimeout("iabc", std::chrono::seconds(60)));
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(E2bClientTest, KillIsTrueThenFalseForAGoneSandbox) {
  http_.Queue(204, "");
  http_.Queue(404, R"({"code":404,"message":"sandbox \"iabc\" not found"})");
  auto first = provider().Kill("iabc");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first);
  EXPECT_EQ(http_.last().method, "DELETE");
  EXPECT_EQ(http_.last().url, "http://127.0.0.1:9/sandboxes/iabc");
  auto second = provider().Kill("iabc");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(*second);
}

TEST_F(E2bClientTest, KillWithA404ThatIsNotE2bsIsAnError) {
  // A wrong API URL answers 404 without E2B's body: that must not read as "already gone".
  http_.Queue(404, "404 page not found");
  auto killed = provider().Kill("iabc");
  ASSERT_FALSE(killed);
  EXPECT_EQ(killed.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(killed.error().message, "E2B 404: 404 page not found");
}

TEST_F(E2bClientTest, SandboxIdsThatWouldChangeThePathAreRefused) {
  for (const char* id : {"", "../templates", "a/b", "a?b", "a b"}) {
    auto killed = provider().Kill(id);
    ASSERT_FALSE(killed) << id;
    EXPECT_EQ(killed.error().code, ErrorCode::kBadRequest);
  }
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(E2bClientTest, GetTimeoutAndConnectShapes) {
  http_.Queue(200, R"({"templateID":"t","sandboxID":"iabc","clientID":"c","envdVersion":"0.6.13",
                       "startedAt":"2026-01-01T00:00:00Z","endAt":"2026-01-01T00:05:00Z",
                       "cpuCount":2,"memoryMB":512,"state":"running","metadata":{"k":"v"},
                       "domain":"foo.test"})");
  auto info = provider().Get("iabc");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(http_.last().method, "GET");
  EXPECT_EQ(http_.last().url, "http://127.0.0.1:9/sandboxes/iabc");
  EXPECT_EQ(info->started_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(info->end_at, "2026-01-01T00:05:00Z");
  EXPECT_EQ(info->cpu_count, 2);
  EXPECT_EQ(info->memory_mb, 512);
  EXPECT_EQ(info->handle.domain, "foo.test");
  EXPECT_EQ(info->metadata.at("k"), "v");

  http_.Queue(204, "");
  ASSERT_TRUE(provider().SetTimeout("iabc", std::chrono::seconds(90)));
  EXPECT_EQ(http_.last().url, "http://127.0.0.1:9/sandboxes/iabc/timeout");
  EXPECT_EQ(BodyOf(http_.last()), json::parse(R"({"timeout":90})"));

  http_.Queue(201, R"({"templateID":"t","sandboxID":"iabc","envdVersion":"0.6.13",
                       "envdAccessToken":"tok-2345678"})");
  auto connected = provider().Connect("iabc", std::chrono::seconds(60));
  ASSERT_TRUE(connected) << connected.error().message;
  EXPECT_EQ(http_.last().method, "POST");
  EXPECT_EQ(http_.last().url, "http://127.0.0.1:9/sandboxes/iabc/connect");
  EXPECT_EQ(BodyOf(http_.last()), json::parse(R"({"timeout":60})"));
  EXPECT_EQ(connected->handle.envd_access_token, "tok-2345678");
}

TEST(E2bMetadataQuery, EncodedInThreeLayersAsTheJsSdkDoes) {
  // The example recorded from e2b 2.51.0 (e2b-wire.md §1).
  EXPECT_EQ(e2b::EncodeMetadataQuery({{"user id", "a b&c=d"}, {"app", "prod"}}),
            "app%3Dprod%26user%252520id%3Da%252520b%252526c%25253Dd");
  EXPECT_EQ(e2b::EncodeMetadataQuery({{"who", "survey"}}), "who%3Dsurvey");
  EXPECT_EQ(e2b::EncodeUriComponent("a/b c!~*'()"), "a%2Fb%20c!~*'()");
}

TEST_F(E2bClientTest, ListFiltersByMetadataAndFollowsPages) {
  http_.Queue(200, R"([{"templateID":"t","sandboxID":"i1","clientID":"c","state":"running",
                        "envdVersion":"0.6.13","metadata":{"app":"swarm","x":"1"}}])",
              {{"x-next-token", "page 2"}});
  http_.Queue(200, R"([{"templateID":"t","sandboxID":"i2","state":"running",
                        "metadata":{"app":"swarm"}},
                       {"templateID":"t","sandboxID":"i3","state":"running",
                        "metadata":{"app":"other"}}])");
  auto list = provider().List({{"app", "swarm"}});
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(http_.requests[0].url,
            "http://127.0.0.1:9/v2/sandboxes?metadata=app%3Dswarm&state=running");
  EXPECT_EQ(http_.requests[1].url,
            "http://127.0.0.1:9/v2/sandboxes?metadata=app%3Dswarm&state=running"
            "&nextToken=page%202");
  // i3 does not hold the filter: a server that ignored it does not widen the answer.
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id(), "i1");
  EXPECT_EQ((*list)[1].id(), "i2");
}

TEST_F(E2bClientTest, ListFallsBackToTheLegacyEndpointOn404) {
  http_.Queue(404, R"({"code":404,"message":"not here"})");
  http_.Queue(200, R"([{"templateID":"t","sandboxID":"i1","metadata":{}}])");
  auto list = provider().List({});
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(http_.requests[0].url, "http://127.0.0.1:9/v2/sandboxes?state=running");
  EXPECT_EQ(http_.requests[1].url, "http://127.0.0.1:9/sandboxes");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].state, "running");
}

TEST_F(E2bClientTest, ListStopsAfterThePageBound) {
  options_.max_list_pages = 3;
  http_.handler = [](const http::ClientRequest&) -> Result<http::ClientResponse> {
    return http::ClientResponse{200, "[]", {{"x-next-token", "again"}}};
  };
  auto list = provider().List({});
  ASSERT_FALSE(list);
  EXPECT_EQ(http_.requests.size(), 3u);
}

// ---- envd -----------------------------------------------------------------------------------

TEST_F(E2bClientTest, RunSendsStartWithEnvdHeadersAndDecodesSplitEvents) {
  std::string body = Event({{"start", {{"pid", 42}}}}) + Event({{"keepalive", json::object()}}) +
                     Event({{"data", {{"stdout", B64("hello ")}}}}) +
                     Event({{"data", {{"stderr", B64("warn\n")}}}}) +
                     Event({{"data", {{"stdout", B64("world\n")}}}}) +
                     Event({{"end",
                             {{"exitCode", 3},
                              {"exited", true},
                              {"status", "exit status 3"},
                              {"error", "exit status 3"}}}}) +
                     connect::EncodeEndStream();
  http_.Queue(200, body, {{"content-type", "application/connect+json"}});
  http_.chunk_size = 1;  // every envelope split across many pieces

  CommandSpec command;
  command.cmd = "echo hello world";
  command.envs = {{"K", "V"}};
  command.cwd = "/work";
  command.user = "root";
  command.tag = "t1";
  std::string live_out;
  OutputCallbacks callbacks{[&](std::string_view s) { live_out += s; }, nullptr};
  auto result = provider().Run(Secure(), command, callbacks);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->pid, 42);
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_TRUE(result->exited);
  EXPECT_EQ(result->status, "exit status 3");
  EXPECT_EQ(result->output.stdout_text, "hello world\n");
  EXPECT_EQ(result->output.stderr_text, "warn\n");
  EXPECT_EQ(live_out, "hello world\n");

  const auto& request = http_.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:10/process.Process/Start");
  EXPECT_EQ(HeaderOf(request, "E2b-Sandbox-Id"), "isbx1");
  EXPECT_EQ(HeaderOf(request, "E2b-Sandbox-Port"), "49983");
  EXPECT_EQ(HeaderOf(request, "X-Access-Token"), kToken);
  EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/connect+json");
  EXPECT_EQ(HeaderOf(request, "Connect-Protocol-Version"), "1");
  EXPECT_EQ(HeaderOf(request, "Keepalive-Ping-Interval"), "50");
  EXPECT_EQ(HeaderOf(request, "Connect-Timeout-Ms"), "60000");
  EXPECT_EQ(HeaderOf(request, "Authorization"), "Basic cm9vdDo=");  // base64("root:")
  EXPECT_FALSE(HasHeader(request, "X-API-Key"));  // the key stays with the control plane
  EXPECT_EQ(StartRequestOf(request), json::parse(R"({"process":{"cmd":"/bin/bash",
      "args":["-l","-c","echo hello world"],"envs":{"K":"V"},"cwd":"/work"},
      "tag":"t1","stdin":false})"));
}

TEST_F(E2bClientTest, RunDefaultsFieldsProtojsonOmits) {
  // Go's protojson drops zero values: exit 0 arrives without exitCode; pid 0 without pid.
  http_.Queue(200, Event({{"start", json::object()}}) +
                       Event({{"end", {{"exited", true}, {"status", "exit status 0"}}}}) +
                       connect::EncodeEndStream());
  CommandSpec command;
  command.cmd = "true";
  command.timeout = std::chrono::milliseconds(0);
  auto result = provider().Run(SandboxHandle{"isbx1", "", ""}, command);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_TRUE(result->exited);
  EXPECT_EQ(result->pid, 0);
  const auto& request = http_.last();
  EXPECT_FALSE(HasHeader(request, "Connect-Timeout-Ms"));  // no deadline
  EXPECT_FALSE(HasHeader(request, "X-Access-Token"));      // not a secure sandbox
  EXPECT_FALSE(HasHeader(request, "Authorization"));
  EXPECT_EQ(request.timeout.count(), 0);  // only the stall timeout bounds it
  EXPECT_GT(request.stall_timeout.count(), 0);
  auto start = StartRequestOf(request);
  EXPECT_FALSE(start["process"].contains("envs"));
  EXPECT_FALSE(start["process"].contains("cwd"));
  EXPECT_FALSE(start.contains("tag"));
}

TEST_F(E2bClientTest, RunKeepsTheHeadOfLongOutputAndSaysItWasCut) {
  options_.max_output_bytes = 4;
  http_.Queue(200, Event({{"start", {{"pid", 1}}}}) +
                       Event({{"data", {{"stdout", B64("abcdefgh")}}}}) +
                       Event({{"data", {{"stdout", B64("ij")}}}}) +
                       Event({{"end", {{"exited", true}}}}) + connect::EncodeEndStream());
  std::string live;
  auto result =
      provider().Run(Secure(), Cmd("yes"), {[&](std::string_view s) { live += s; }, nullptr});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(live, "abcdefghij");  // callbacks see everything
  EXPECT_EQ(result->output.stdout_text,
            "abcd\n[agent-swarm: output truncated, 6 more bytes not kept]\n");
  EXPECT_EQ(result->output.stderr_text, "");
}

TEST_F(E2bClientTest, AStreamCutBeforeItsEndIsUnavailable) {
  http_.Queue(200,
              Event({{"start", {{"pid", 1}}}}) + Event({{"data", {{"stdout", B64("partial")}}}}));
  auto result = provider().Run(Secure(), Cmd("sleep 100"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().message, "envd stream ended without EndStreamResponse");

  // Cut inside an envelope.
  std::string body = Event({{"start", {{"pid", 1}}}});
  http_.Queue(200, body + Event({{"end", json::object()}}).substr(0, 7));
  result = provider().Run(Secure(), Cmd("x"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "envd stream ended without EndStreamResponse");
}

TEST_F(E2bClientTest, AnEndStreamErrorIsMappedFromItsConnectCode) {
  http_.Queue(200, connect::EncodeEndStream(
                       connect::ConnectError{"invalid_argument", "cwd '/nope' does not exist"}));
  auto result = provider().Run(Secure(), Cmd("true", "/nope"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(result.error().message, "envd: invalid_argument: cwd '/nope' does not exist");

  http_.Queue(200,
              Event({{"start", {{"pid", 9}}}}) + connect::EncodeEndStream(connect::ConnectError{
                                                     "deadline_exceeded", "context deadline"}));
  result = provider().Run(Secure(), Cmd("sleep 9"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
}

TEST_F(E2bClientTest, AStreamRefusedByStatusIsMappedAndNeverShowsTheToken) {
  // A secure envd refusing a bad token; the message echoing it must be scrubbed.
  http_.Queue(401,
              std::string(R"({"code":"unauthenticated","message":"bad token )") + kToken + "\"}");
  auto result = provider().Run(Secure(), Cmd("true"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(result.error().message.find(kToken), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("[REDACTED]"), std::string::npos);

  http_.Queue(502, R"({"sandboxId":"isbx1","message":"The sandbox was not found","code":502})");
  result = provider().Run(Secure(), Cmd("true"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
}

TEST_F(E2bClientTest, StartBackgroundReturnsOnTheStartEventAndHangsUp) {
  std::string start = Event({{"start", {{"pid", 77}}}});
  http_.Queue(200, start + Event({{"data", {{"stdout", B64("still running")}}}}));
  http_.chunk_size = 3;
  CommandSpec command;
  command.cmd = "/docker-entrypoint.sh";
  command.timeout = std::chrono::milliseconds(0);
  auto pid = provider().StartBackground(Secure(), command);
  ASSERT_TRUE(pid) << pid.error().message;
  EXPECT_EQ(*pid, 77);
  EXPECT_TRUE(http_.sink_stopped);
  EXPECT_LE(http_.delivered, start.size() + 3);  // stopped right after the start event
  EXPECT_FALSE(HasHeader(http_.last(), "Connect-Timeout-Ms"));
  EXPECT_EQ(http_.last().timeout, options_.start_timeout);
}

TEST_F(E2bClientTest, StartBackgroundFailsWhenTheStreamEndsBeforeStart) {
  http_.Queue(200, connect::EncodeEndStream(connect::ConnectError{"internal", "fork failed"}));
  auto pid = provider().StartBackground(Secure(), Cmd("x"));
  ASSERT_FALSE(pid);
  EXPECT_EQ(pid.error().code, ErrorCode::kInternal);
  EXPECT_EQ(pid.error().message, "envd: internal: fork failed");

  http_.Queue(200, connect::EncodeEndStream());
  pid = provider().StartBackground(Secure(), Cmd("x"));
  ASSERT_FALSE(pid);
  EXPECT_EQ(pid.error().message, "envd stream ended without the process's start event");
}

TEST_F(E2bClientTest, A200ThatIsNotAConnectStreamIsAnError) {
  http_.Queue(200, "<html>login</html>", {{"content-type", "text/html"}});
  auto result = provider().Run(Secure(), Cmd("x"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().message, "envd Start answered text/html, not a Connect stream");
}

TEST_F(E2bClientTest, GarbageInTheStreamIsAnError) {
  http_.Queue(200, connect::EncodeEnvelope("not json"));
  auto result = provider().Run(Secure(), Cmd("x"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("not JSON"), std::string::npos);

  http_.Queue(200, connect::EncodeEnvelope("{}", connect::kFlagCompressed));
  result = provider().Run(Secure(), Cmd("x"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
}

TEST_F(E2bClientTest, ConnectProcessReattachesByPid) {
  http_.Queue(200, Event({{"start", {{"pid", 55}}}}) +
                       Event({{"data", {{"stdout", B64("later\n")}}}}) +
                       Event({{"end", {{"exitCode", -1}, {"status", "signal: killed"}}}}) +
                       connect::EncodeEndStream());
  auto result = provider().ConnectProcess(Secure(), 55);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->pid, 55);
  EXPECT_EQ(result->exit_code, -1);
  EXPECT_FALSE(result->exited);
  EXPECT_EQ(result->status, "signal: killed");
  EXPECT_EQ(result->output.stdout_text, "later\n");
  const auto& request = http_.last();
  EXPECT_EQ(request.url, "http://127.0.0.1:10/process.Process/Connect");
  EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/connect+json");
  EXPECT_FALSE(HasHeader(request, "Connect-Timeout-Ms"));
  EXPECT_EQ(StartRequestOf(request), json::parse(R"({"process":{"pid":55}})"));

  http_.Queue(200, connect::EncodeEndStream(
                       connect::ConnectError{"not_found", "process with pid 56 not found"}));
  result = provider().ConnectProcess(Secure(), 56);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
}

TEST_F(E2bClientTest, ListProcessesParsesTheUnaryReply) {
  http_.Queue(200, R"({"processes":[{"pid":12,"config":{"cmd":"/bin/bash",
      "args":["-l","-c","sleep 9"],"envs":{"A":"1"},"cwd":"/w"},"tag":"w"},{"config":{}}]})");
  auto processes = provider().ListProcesses(Secure());
  ASSERT_TRUE(processes) << processes.error().message;
  ASSERT_EQ(processes->size(), 2u);
  EXPECT_EQ((*processes)[0].pid, 12);
  EXPECT_EQ((*processes)[0].cmd, "/bin/bash");
  EXPECT_EQ((*processes)[0].args, (std::vector<std::string>{"-l", "-c", "sleep 9"}));
  EXPECT_EQ((*processes)[0].cwd, "/w");
  EXPECT_EQ((*processes)[0].tag, "w");
  EXPECT_EQ((*processes)[1].pid, 0);
  const auto& request = http_.last();
  EXPECT_EQ(request.url, "http://127.0.0.1:10/process.Process/List");
  EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/json");
  EXPECT_EQ(HeaderOf(request, "Connect-Protocol-Version"), "1");
  EXPECT_EQ(request.body, "{}");

  http_.Queue(200, "{}");  // protojson: no processes at all
  processes = provider().ListProcesses(Secure());
  ASSERT_TRUE(processes);
  EXPECT_TRUE(processes->empty());
}

TEST_F(E2bClientTest, SendSignalIsFalseForAnUnknownProcess) {
  http_.Queue(200, "{}");
  auto sent = provider().SendSignal(Secure(), 12, Signal::kKill);
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_TRUE(*sent);
  EXPECT_EQ(BodyOf(http_.last()),
            json::parse(R"({"process":{"pid":12},"signal":"SIGNAL_SIGKILL"})"));

  http_.Queue(404, R"({"code":"not_found","message":"process with pid 13 not found"})");
  sent = provider().SendSignal(Secure(), 13, Signal::kTerm);
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_FALSE(*sent);
  EXPECT_EQ(BodyOf(http_.last())["signal"], "SIGNAL_SIGTERM");

  http_.Queue(401, R"({"code":"unauthenticated","message":"missing token"})");
  sent = provider().SendSignal(Secure(), 13, Signal::kTerm);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::kUnauthorized);
}

TEST_F(E2bClientTest, ReadFileGetsRawBytesAndSaysWhenItIsMissing) {
  http_.Queue(200, std::string("bin\0ary", 7), {{"content-type", "application/octet-stream"}});
  auto content = provider().ReadFile(Secure(), "/tmp/a b.txt");
  ASSERT_TRUE(content) << content.error().message;
  EXPECT_EQ(*content, std::string("bin\0ary", 7));
  EXPECT_EQ(http_.last().method, "GET");
  EXPECT_EQ(http_.last().url, "http://127.0.0.1:10/files?path=%2Ftmp%2Fa%20b.txt");
  EXPECT_EQ(HeaderOf(http_.last(), "X-Access-Token"), kToken);
  EXPECT_EQ(HeaderOf(http_.last(), "E2b-Sandbox-Id"), "isbx1");

  http_.Queue(404, R"({"code":404,"message":"path '/nope' does not exist"})");
  content = provider().ReadFile(Secure(), "/nope");
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(content.error().message, "path '/nope' does not exist");

  http_.Queue(404, "");
  content = provider().ReadFile(Secure(), "/gone");
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error().message, "path '/gone' does not exist");

  http_.Queue(400, R"({"code":400,"message":"path '/tmp' is a directory"})");
  content = provider().ReadFile(Secure(), "/tmp");
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(content.error().message, "envd 400 (read file): path '/tmp' is a directory");
}

TEST_F(E2bClientTest, ReadFileRefusesAFileOverTheLimit) {
  options_.max_file_bytes = 10;
  http_.chunk_size = 4;
  http_.Queue(200, std::string(11, 'x'));
  auto content = provider().ReadFile(Secure(), "/big");
  ASSERT_FALSE(content);
  EXPECT_EQ(content.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(http_.sink_stopped);
}

TEST_F(E2bClientTest, WriteFileSendsTheSdksMultipartForm) {
  http_.Queue(200, R"([{"path":"/tmp/x","name":"x","type":"file"}])");
  ASSERT_TRUE(provider().WriteFile(Secure(), "/tmp/x", "line1\nline2"));
  const auto& request = http_.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:10/files?path=%2Ftmp%2Fx");
  const std::string content_type = HeaderOf(request, "Content-Type");
  const std::string prefix = "multipart/form-data; boundary=";
  ASSERT_EQ(content_type.rfind(prefix, 0), 0u) << content_type;
  const std::string boundary = content_type.substr(prefix.size());
  EXPECT_EQ(request.body, "--" + boundary +
                              "\r\nContent-Disposition: form-data; name=\"file\"; "
                              "filename=\"/tmp/x\"\r\nContent-Type: application/octet-stream"
                              "\r\n\r\nline1\nline2\r\n--" +
                              boundary + "--\r\n");

  http_.Queue(507, R"({"code":507,"message":"not enough disk space"})");
  auto written = provider().WriteFile(Secure(), "/tmp/x", "y");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(written.error().message, "envd 507 (write file): not enough disk space");
}

TEST_F(E2bClientTest, EnvdFollowsThePerSandboxHostWithoutASandboxUrl) {
  E2bSandboxProvider cloud(E2bConfig::FromEnv({{"E2B_API_KEY", kKey}}), http_, options_);
  http_.Queue(200, "{}");
  ASSERT_TRUE(cloud.ListProcesses(SandboxHandle{"iabc", "", "foo.test"}));
  EXPECT_EQ(http_.last().url, "https://49983-iabc.foo.test/process.Process/List");
  http_.Queue(200, "{}");
  ASSERT_TRUE(cloud.ListProcesses(SandboxHandle{"iabc", "", ""}));
  EXPECT_EQ(http_.last().url, "https://sandbox.e2b.app/process.Process/List");
}

TEST(Base64, RoundTripsAndAcceptsUrlSafeAndUnpadded) {
  EXPECT_EQ(Base64Encode("root:"), "cm9vdDo=");
  EXPECT_EQ(Base64Decode("cm9vdDo="), "root:");
  EXPECT_EQ(Base64Decode("cm9vdDo"), "root:");
  EXPECT_EQ(Base64Decode("-_8="), std::string("\xfb\xff", 2));
  EXPECT_FALSE(Base64Decode("a$b=").has_value());
  EXPECT_EQ(Base64Decode(""), "");
}

}  // namespace
}  // namespace swarm::sandbox

namespace swarm::sandbox {
namespace {

TEST(E2bClientScrubTest, AShortKeyDoesNotCutUpTheMessage) {
  ScriptedHttp http;
  E2bSandboxProvider provider(E2bConfig::FromEnv({{"E2B_API_KEY", "x"},
                                                  {"E2B_API_URL", "http://127.0.0.1:9"},
                                                  {"E2B_SANDBOX_URL", "http://127.0.0.1:10"}}),
                              http);
  http.Queue(404, R"({"code":404,"message":"sandboxes exist elsewhere"})");
  auto result = provider.Get("isbx1");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("sandboxes exist elsewhere"), std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace swarm::sandbox
