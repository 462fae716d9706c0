// The smoke-run routes through ApiRoutes::Dispatch (auth, the route table, the handlers),
// without sockets: a real store, a fake executor.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/agent_service.h"
#include "api/heartbeats.h"
#include "api/poll_hub.h"
#include "api/routes.h"
#include "api/routes_test_support.h"
#include "api/smoke_test_support.h"
#include "api/task_service.h"
#include "core/redact.h"
#include "sandbox/fake_sandbox_provider.h"

namespace swarm {
namespace {

using nlohmann::json;
using smoke_testing::CountingStore;
using smoke_testing::Gate;
using smoke_testing::WaitFor;

constexpr char kKey[] = "routes-test-key-4f1e9a";
constexpr char kProviderSecret[] = "sk-provider-secret-value-77";

std::string Header(const http::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class SmokeRoutesTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_->ok());
    Build({});
  }
  void TearDown() override {
    gate_->Open();
    if (smoke_) smoke_->Shutdown(std::chrono::seconds(5));
    ClearSecretsForTest();
    executors_.Join();  // heartbeats Dispatch posted, before the services go
  }

  void Build(SmokeServiceOptions options, bool with_smoke = true) {
    if (smoke_) smoke_->Shutdown(std::chrono::seconds(5));
    routes_.reset();
    options.max_runs = options.max_runs > 0 ? options.max_runs : 4;
    auto gate = gate_;
    smoke_ = std::make_unique<SmokeService>(
        *store_, clock_,
        [gate](const SmokeRequest& request, const std::string&, const smoke::SmokeProgress&,
               const std::atomic<bool>& stop) {
          const bool opened = gate->Wait(&stop);
          std::vector<ProviderSmokeResult> out;
          for (const auto& p : request.providers) {
            ProviderSmokeResult r;
            r.provider = p;
            r.ok = opened;
            r.phase = SmokePhase::kDone;
            out.push_back(r);
          }
          return out;
        },
        &sandboxes_, options);
    RoutesOptions routes_options;
    routes_options.api_key = kKey;
    routes_options.smoke_defaults.api_url = "http://127.0.0.1:3013";
    routes_options.smoke_defaults.api_key = kKey;
    routes_ = std::make_unique<ApiRoutes>(routes_options, agents_, tasks_, hub_, executors_,
                                          with_smoke ? smoke_.get() : nullptr);
  }

  http::HttpResponse Send(const std::string& method, const std::string& target,
                          const std::string& body = "", bool authorized = true) {
    return testing_support::DispatchNow(
        *routes_, testing_support::RouteRequest(method, target, body, authorized ? kKey : ""));
  }

  json Body(const http::HttpResponse& r) { return json::parse(r.body, nullptr, false); }

  // A run started through the route; its id.
  std::string Started(const json& body = {{"providers", {"claude"}}}) {
    auto r = Send("POST", "/api/smoke-runs", body.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return Body(r).value("id", "");
  }

  std::shared_ptr<CountingStore> store_ = std::make_shared<CountingStore>();
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  SystemClock clock_;
  PollHub hub_;
  Heartbeats heartbeats_;
  AgentService agents_{*store_, clock_, heartbeats_};
  TaskService tasks_{*store_, clock_, hub_};
  StoreExecutors executors_{1, 1};
  sandbox::FakeSandboxProvider sandboxes_;
  std::unique_ptr<SmokeService> smoke_;
  std::unique_ptr<ApiRoutes> routes_;
};

TEST_F(SmokeRoutesTest, PostStartsARunAndAnswers202WithoutSecrets) {
  const json request = {{"providers", {"claude", "codex"}},
                        {"apiKey", "a-request-key-never-echoed"},
                        {"secrets", {{"codex", {{"OPENAI_API_KEY", kProviderSecret}}}}}};
  auto r = Send("POST", "/api/smoke-runs", request.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const json body = Body(r);
  EXPECT_EQ(body["status"], "running");
  EXPECT_EQ(body["results"].size(), 2u);
  EXPECT_EQ(body["results"][0]["provider"], "claude");
  EXPECT_EQ(body["results"][0]["phase"], "queued");
  EXPECT_EQ(body["request"]["apiUrl"], "http://127.0.0.1:3013");  // the API's default
  EXPECT_EQ(body["request"]["secrets"], json({{"codex", {"OPENAI_API_KEY"}}}));
  EXPECT_FALSE(body["request"].contains("apiKey"));
  for (const char* secret : {kKey, kProviderSecret, "a-request-key-never-echoed"}) {
    EXPECT_EQ(r.body.find(secret), std::string::npos) << secret;
  }

  const std::string id = body["id"];
  auto got = Send("GET", "/api/smoke-runs/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Body(got)["id"], id);
  gate_->Open();
  ASSERT_TRUE(
      WaitFor([&] { return Body(Send("GET", "/api/smoke-runs/" + id))["status"] == "passed"; }));
  got = Send("GET", "/api/smoke-runs/" + id);
  auto listed = Send("GET", "/api/smoke-runs");
  for (const char* secret : {kKey, kProviderSecret, "a-request-key-never-echoed"}) {
    EXPECT_EQ(got.body.find(secret), std::string::npos) << secret;
    EXPECT_EQ(listed.body.find(secret), std::string::npos) << secret;
  }
}

TEST_F(SmokeRoutesTest, BadRequestsAre400NamingTheField) {
  struct Case {
    std::string body;
    std::string names;
  };
  const std::vector<Case> cases = {
      {"{", "malformed JSON"},
      {"[]", "JSON object"},
      {"{}", "providers is required"},
      {R"({"providers":["claude","nope"]})", "providers[1]"},
      {R"({"providers":["claude"],"timeoutMs":5})", "timeoutMs"},
      {R"({"providers":["claude"],"sandboxTimeoutSec":"x"})", "sandboxTimeoutSec"},
      {R"({"providers":["claude"],"deploymentSha":"a/b"})", "deploymentSha"},
      {R"({"providers":["claude"],"apiUrl":"ftp://h"})", "apiUrl"},
      {R"({"providers":["claude"],"secrets":{"codex":{"OPENAI_API_KEY":1}}})",
       "secrets.codex.OPENAI_API_KEY"},
      // Deep documents stop at the body's nesting limit, before any field is read.
      {R"({"providers":["claude"],"secrets":)" + std::string(5'000, '[') + std::string(5'000, ']') +
           "}",
       "nested deeper than"},
      // A huge field stops at its own bound (the body limit of the server comes first on the
      // wire; this is what is left of a body under it).
      {R"({"providers":["claude"],"apiKey":")" + std::string(100'000, 'k') + R"("})",
       "apiKey must be at most"},
  };
  for (const auto& c : cases) {
    auto r = Send("POST", "/api/smoke-runs", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_NE(Body(r).value("error", "").find(c.names), std::string::npos)
        << c.body << " -> " << r.body;
  }
  EXPECT_EQ(store_->creates, 0);
}

TEST_F(SmokeRoutesTest, UnknownRunIs404) {
  auto r = Send("GET", "/api/smoke-runs/0190f7a0-0000-7000-8000-000000000000");
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(SmokeRoutesTest, ListIsNewestFirstAndPaged) {
  gate_->Open();  // the runs end at once
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Started());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // distinct created_at
  }
  auto r = Send("GET", "/api/smoke-runs");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["total"], 3);
  ASSERT_EQ(body["runs"].size(), 3u);
  EXPECT_EQ(body["runs"][0]["id"], ids[2]);
  EXPECT_EQ(body["runs"][2]["id"], ids[0]);

  body = Body(Send("GET", "/api/smoke-runs?limit=2&offset=1"));
  EXPECT_EQ(body["total"], 3);
  ASSERT_EQ(body["runs"].size(), 2u);
  EXPECT_EQ(body["runs"][0]["id"], ids[1]);
  EXPECT_EQ(body["runs"][1]["id"], ids[0]);

  for (const char* bad : {"limit=0", "limit=101", "limit=x", "offset=-1"}) {
    auto refused = Send("GET", std::string("/api/smoke-runs?") + bad);
    EXPECT_EQ(refused.status, 400) << bad;
    const std::string field = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_NE(Body(refused).value("error", "").find(field), std::string::npos) << refused.body;
  }
  EXPECT_EQ(Body(Send("GET", "/api/smoke-runs?limit=100"))["runs"].size(), 3u);
}

TEST_F(SmokeRoutesTest, BeyondTheLimitIs503WithRetryAfter) {
  SmokeServiceOptions options;
  options.max_runs = 1;
  Build(options);
  Started();
  auto r = Send("POST", "/api/smoke-runs", R"({"providers":["pi"]})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Header(r, "Retry-After"), "30");
  EXPECT_NE(Body(r).value("error", "").find("--smoke-max-runs"), std::string::npos) << r.body;
}

TEST_F(SmokeRoutesTest, SmokeRunsOffIs503NamingTheFlag) {
  SmokeServiceOptions options;
  options.disabled_reason = "smoke runs are off: the API was started with --smoke-backend off";
  Build(options);
  // Whatever the body: no request can start a run.
  for (const std::string body : {R"({"providers":["pi"]})", "{"}) {
    auto r = Send("POST", "/api/smoke-runs", body);
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_NE(Body(r).value("error", "").find("--smoke-backend off"), std::string::npos);
    EXPECT_EQ(Header(r, "Retry-After"), "");
  }
  EXPECT_EQ(Send("GET", "/api/smoke-runs").status, 200) << "earlier runs stay readable";
}

TEST_F(SmokeRoutesTest, WithoutTheServiceEveryRouteIs503) {
  Build({}, /*with_smoke=*/false);
  EXPECT_EQ(Send("POST", "/api/smoke-runs", R"({"providers":["pi"]})").status, 503);
  EXPECT_EQ(Send("GET", "/api/smoke-runs").status, 503);
  EXPECT_EQ(Send("GET", "/api/smoke-runs/x").status, 503);
}

TEST_F(SmokeRoutesTest, EveryRouteNeedsTheKey) {
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/api/smoke-runs"}, {"GET", "/api/smoke-runs"}, {"GET", "/api/smoke-runs/x"}}) {
    auto r = Send(method, target, R"({"providers":["pi"]})", /*authorized=*/false);
    EXPECT_EQ(r.status, 401) << method << " " << target;
  }
  EXPECT_EQ(store_->creates, 0);
}

}  // namespace
}  // namespace swarm
