#include "cli/smoke_command.h"

#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/local_smoke.h"
#include "core/redact.h"
#include "http/test_server.h"
#include "support/child_process.h"

namespace swarm {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSwarmKey[] = "swarm-key-for-smoke-tests-7f3a";

ProviderSmokeResult InPhase(std::string provider, SmokePhase phase, bool ok = false) {
  ProviderSmokeResult r;
  r.provider = std::move(provider);
  r.phase = phase;
  r.ok = ok;
  r.agent_id = "smoke-" + r.provider + "-local-0190abcd";
  return r;
}

ProviderSmokeResult Passed(std::string provider, int64_t total_ms) {
  auto r = InPhase(std::move(provider), SmokePhase::kDone, true);
  r.sandbox_id = "sbx-" + r.provider;
  r.task_id = "task-" + r.provider;
  r.task_status = "completed";
  r.session_id = "sess-" + r.provider;
  r.finished_via = "mcp";
  r.output = R"({"reply":"pong"})";
  r.log_lines = 12;
  r.timings.total_ms = total_ms;
  r.sandbox_killed = true;
  return r;
}

SmokeRun MakeRun(SmokeRunStatus status, std::vector<ProviderSmokeResult> results) {
  SmokeRun run;
  run.id = "0190abcd-run";
  run.status = status;
  run.ok = status == SmokeRunStatus::kPassed;
  run.api_version = "0.1.0";
  run.request.providers.clear();
  for (const auto& r : results) run.request.providers.push_back(r.provider);
  run.results = std::move(results);
  return run;
}

// ---- flags ----

TEST(ParseProviderList, AcceptsKnownNamesWithBlanks) {
  auto providers = ParseProviderList(" claude, codex ,pi,opencode,");
  ASSERT_TRUE(providers) << providers.error().message;
  EXPECT_EQ(*providers, (std::vector<std::string>{"claude", "codex", "pi", "opencode"}));
}

TEST(ParseProviderList, RefusesUnknownRepeatedAndEmpty) {
  auto unknown = ParseProviderList("claude,gemini");
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown provider 'gemini'"));
  auto repeated = ParseProviderList("codex,codex");
  ASSERT_FALSE(repeated);
  EXPECT_THAT(repeated.error().message, HasSubstr("codex is named twice"));
  EXPECT_FALSE(ParseProviderList(" , "));
  EXPECT_FALSE(ParseProviderList(""));
}

TEST(SmokeRequestBody, CarriesOnlyWhatTheFlagsSet) {
  SmokeFlags flags;
  EXPECT_EQ(SmokeRequestBody(flags, {"claude"}, std::nullopt), json({{"providers", {"claude"}}}));
  flags.template_id = "tmpl";
  flags.sha = "abc123";
  flags.timeout_sec = 45;
  flags.sandbox_timeout_sec = 600;
  flags.allow_version_skew = true;
  EXPECT_EQ(SmokeRequestBody(flags, {"pi", "codex"}, "http://127.0.0.1:9"),
            json({{"providers", {"pi", "codex"}},
                  {"template", "tmpl"},
                  {"deploymentSha", "abc123"},
                  {"timeoutMs", 45000},
                  {"sandboxTimeoutSec", 600},
                  {"allowVersionSkew", true},
                  {"modelBaseUrl", "http://127.0.0.1:9"}}));
}

TEST(SmokeFollowBound, IsTheTimeoutPlusTheMargin) {
  SmokeFlags flags;
  EXPECT_EQ(SmokeFollowBound(flags), std::chrono::seconds(300) + kSmokeFollowMargin);
  flags.timeout_sec = 20;
  EXPECT_EQ(SmokeFollowBound(flags), std::chrono::seconds(20) + kSmokeFollowMargin);
}

// ---- progress and report ----

TEST(SmokeProgressView, PlainPrintsOneLinePerPhaseChange) {
  SmokeProgressView view(/*terminal=*/false);
  std::vector<ProviderSmokeResult> results = {InPhase("claude", SmokePhase::kQueued),
                                              InPhase("codex", SmokePhase::kQueued)};
  EXPECT_EQ(view.Update(results, milliseconds(0)),
            "[   0.0s] claude: queued\n"
            "[   0.0s] codex: queued\n");
  EXPECT_EQ(view.Update(results, milliseconds(300)), "");  // nothing changed

  results[0].phase = SmokePhase::kStartingWorker;
  results[0].sandbox_id = "sbx-1";
  EXPECT_EQ(view.Update(results, milliseconds(1500)),
            "[   1.5s] claude: sandbox up, starting worker (sandbox sbx-1)\n");

  results[1] = InPhase("codex", SmokePhase::kDone);
  results[1].failure_reason = "no credential: set OPENAI_API_KEY\nfor codex";
  results[1].timings.total_ms = 4;
  EXPECT_EQ(view.Update(results, milliseconds(1800)),
            "[   0.0s] codex: failed: no credential: set OPENAI_API_KEY for codex\n");
  results[0] = Passed("claude", 9100);
  EXPECT_EQ(view.Update(results, milliseconds(9500)), "[   9.1s] claude: passed\n");
}

TEST(SmokeProgressView, TerminalRedrawsTheBlockInPlace) {
  SmokeProgressView view(/*terminal=*/true);
  std::vector<ProviderSmokeResult> results = {InPhase("claude", SmokePhase::kCreatingSandbox),
                                              InPhase("opencode", SmokePhase::kTaskRunning)};
  results[1].sandbox_id = "sbx-22";
  const std::string first = view.Update(results, milliseconds(2000));
  EXPECT_EQ(first,
            "\r\x1b[2Kclaude    creating sandbox             -       2.0s\n"
            "\r\x1b[2Kopencode  task running                 sbx-22  2.0s\n");
  results[1] = Passed("opencode", 2500);
  const std::string second = view.Update(results, milliseconds(3000));
  // Up two lines, then both rewritten: the running one's clock moves, the done one's stops;
  // the phase column keeps its width.
  EXPECT_EQ(second,
            "\x1b[2A"
            "\r\x1b[2Kclaude    creating sandbox             -             3.0s\n"
            "\r\x1b[2Kopencode  passed                       sbx-opencode  2.5s\n");
}

TEST(SmokeProgressView, DoneWithoutTimingsKeepsTheTimeItWasFirstSeen) {
  SmokeProgressView view(/*terminal=*/true);
  std::vector<ProviderSmokeResult> results = {InPhase("pi", SmokePhase::kDone)};
  EXPECT_THAT(view.Update(results, milliseconds(1200)), HasSubstr("1.2s"));
  EXPECT_THAT(view.Update(results, milliseconds(5000)), HasSubstr("1.2s"));
}

TEST(RenderSmokeReport, TableWithEveryColumn) {
  auto claude = Passed("claude", 12345);
  claude.cost_usd = 0.0123;
  auto codex = InPhase("codex", SmokePhase::kDone);
  codex.task_status = "failed";
  codex.failure_reason = "output does not match the outputSchema";
  codex.timings.total_ms = 8000;
  auto pi = InPhase("pi", SmokePhase::kDone);
  pi.failure_reason = std::string(70, 'x');
  auto run = MakeRun(SmokeRunStatus::kFailed, {claude, codex, pi});
  EXPECT_EQ(RenderSmokeReport(run),
            "PROVIDER  OK   STATUS     VIA  SESSION      COST     TIME   REASON\n"
            "claude    yes  completed  mcp  sess-claude  $0.0123  12.3s\n"
            "codex     no   failed     -    -            -        8.0s   output does not match the "
            "outputSchema\n"
            "pi        no   done       -    -            -        -      " +
                std::string(59, 'x') + "…\n" + "pi: " + std::string(70, 'x') + "\n" +
                "smoke run 0190abcd-run failed: 1/3 provider(s) ok, API 0.1.0\n");
}

TEST(SmokeExitStatus, ZeroOnlyWhenEveryProviderPassed) {
  EXPECT_EQ(SmokeExitStatus(MakeRun(SmokeRunStatus::kPassed, {Passed("claude", 1)})), 0);
  auto one_failed =
      MakeRun(SmokeRunStatus::kFailed, {Passed("claude", 1), InPhase("pi", SmokePhase::kDone)});
  EXPECT_EQ(SmokeExitStatus(one_failed), 1);
  EXPECT_EQ(SmokeExitStatus(MakeRun(SmokeRunStatus::kInterrupted, {Passed("claude", 1)})), 1);
  EXPECT_EQ(SmokeExitStatus(MakeRun(SmokeRunStatus::kPassed, {})), 1);
  auto inconsistent = MakeRun(SmokeRunStatus::kPassed, {InPhase("pi", SmokePhase::kDone)});
  EXPECT_EQ(SmokeExitStatus(inconsistent), 1);
}

// ---- the remote flow against a fake API ----

// Answers POST /api/smoke-runs with the first of `states` and each GET with the next one (the
// last one repeats). Records what it was sent.
struct FakeSmokeApi {
  std::mutex mu;
  std::deque<http::HttpResponse> states;
  std::optional<http::HttpResponse> post_reply;  // instead of states.front()
  std::vector<std::string> paths;
  std::vector<std::string> auth;
  std::string posted_body;
  int gets = 0;

  void Push(const SmokeRun& run) {
    http::HttpResponse r;
    r.body = SmokeRunToJson(run).dump();
    states.push_back(std::move(r));
  }

  http::HttpResponse Answer(const http::HttpRequest& request) {
    std::lock_guard lock(mu);
    paths.push_back(request.method + " " + request.path);
    auth.emplace_back(request.Header("authorization"));
    if (request.method == "POST" && request.path == "/api/smoke-runs") {
      posted_body = request.body;
      if (post_reply) return *post_reply;
      http::HttpResponse r = states.front();
      r.status = 202;
      return r;
    }
    if (request.method == "GET" && request.path == "/api/smoke-runs/0190abcd-run") {
      ++gets;
      if (states.size() > 1) states.pop_front();
      return states.front();
    }
    return http::JsonError(404, "no such route");
  }
};

class RemoteSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override { ClearSecretsForTest(); }

  std::shared_ptr<SmokeCliEnvironment> Env() {
    auto env = std::make_shared<SmokeCliEnvironment>();
    env->process_env = {{"AGENT_SWARM_API_KEY", kSwarmKey}, {"MCP_BASE_URL", server_.Url("")}};
    env->out = &out_;
    env->err = &err_;
    env->make_http = [] { return std::make_unique<http::CurlHttpClient>(); };
    env->poll_interval = milliseconds(5);
    env->watch_stop_signals = [this] { return &stop_; };
    return env;
  }

  int Smoke(std::vector<std::string> args, std::shared_ptr<SmokeCliEnvironment> env = nullptr) {
    args.insert(args.begin(), "smoke");
    return RunSmokeCommandLine(std::move(args), env ? env : Env());
  }

  // Queued → running → `last`.
  void Script(const SmokeRun& last) {
    std::vector<ProviderSmokeResult> queued, running;
    for (const auto& r : last.results) {
      queued.push_back(InPhase(r.provider, SmokePhase::kQueued));
      auto go = InPhase(r.provider, SmokePhase::kTaskRunning);
      go.sandbox_id = "sbx-" + r.provider;
      running.push_back(go);
    }
    api_->Push(MakeRun(SmokeRunStatus::kRunning, queued));
    api_->Push(MakeRun(SmokeRunStatus::kRunning, running));
    api_->Push(last);
  }

  std::shared_ptr<FakeSmokeApi> api_ = std::make_shared<FakeSmokeApi>();
  // A plain function, not a capturing lambda, is the coroutine: its frame holds its own copy
  // of the shared state, whatever becomes of the handler object.
  static boost::asio::awaitable<http::HttpResponse> Respond(std::shared_ptr<FakeSmokeApi> api,
                                                            http::HttpRequest request) {
    co_return api->Answer(request);
  }
  http::test_support::TestServer server_{
      http::ServerOptions{},
      [api = api_](http::HttpRequest request) { return Respond(api, std::move(request)); }};
  std::ostringstream out_, err_;
  std::atomic<bool> stop_{false};
};

TEST_F(RemoteSmokeTest, PassedRunExitsZeroWithTheTable) {
  auto claude = Passed("claude", 3000);
  claude.cost_usd = 0.002;
  Script(MakeRun(SmokeRunStatus::kPassed, {claude, Passed("codex", 4000)}));
  EXPECT_EQ(Smoke({"--providers", "claude,codex", "--timeout-sec", "30", "--sha", "abc"}), 0)
      << err_.str();
  EXPECT_EQ(
      json::parse(api_->posted_body),
      json({{"providers", {"claude", "codex"}}, {"deploymentSha", "abc"}, {"timeoutMs", 30000}}));
  EXPECT_EQ(api_->auth.front(), std::string("Bearer ") + kSwarmKey);
  EXPECT_EQ(api_->gets, 2);
  EXPECT_THAT(out_.str(), HasSubstr("claude    yes  completed  mcp  sess-claude  $0.0020  3.0s"));
  EXPECT_THAT(out_.str(), HasSubstr("smoke run 0190abcd-run passed: 2/2 provider(s) ok"));
  // Not a terminal: plain phase lines.
  EXPECT_THAT(err_.str(), HasSubstr("] codex: task running\n"));
  EXPECT_THAT(err_.str(), HasSubstr("] codex: passed\n"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("\x1b[")));
}

TEST_F(RemoteSmokeTest, FailedProviderExitsOneNamingTheReason) {
  auto pi = InPhase("pi", SmokePhase::kDone);
  pi.task_status = "cancelled";
  pi.failure_reason = "task still running after timeoutMs 30000: cancelled";
  Script(MakeRun(SmokeRunStatus::kFailed, {Passed("claude", 1000), pi}));
  EXPECT_EQ(Smoke({"--providers", "claude,pi"}), 1);
  EXPECT_THAT(out_.str(), HasSubstr("pi        no   cancelled"));
  EXPECT_THAT(out_.str(), HasSubstr("task still running after timeoutMs 30000"));
  EXPECT_THAT(err_.str(), HasSubstr("pi: failed: task still running"));
}

TEST_F(RemoteSmokeTest, InterruptedRunExitsOne) {
  auto claude = InPhase("claude", SmokePhase::kTaskRunning);
  claude.failure_reason = "interrupted: the API stopped before the run finished";
  Script(MakeRun(SmokeRunStatus::kInterrupted, {claude}));
  EXPECT_EQ(Smoke({"--providers", "claude"}), 1);
  EXPECT_THAT(out_.str(), HasSubstr("smoke run 0190abcd-run interrupted: 0/1"));
}

TEST_F(RemoteSmokeTest, JsonPrintsTheFinalRunOnly) {
  auto last = MakeRun(SmokeRunStatus::kPassed, {Passed("opencode", 2000)});
  Script(last);
  EXPECT_EQ(Smoke({"--providers", "opencode", "--json"}), 0) << err_.str();
  const json printed = json::parse(out_.str());
  EXPECT_EQ(printed, SmokeRunToJson(last));
  EXPECT_EQ(printed["results"][0]["output"], R"({"reply":"pong"})");
}

TEST_F(RemoteSmokeTest, TerminalProgressRedrawsInPlace) {
  Script(MakeRun(SmokeRunStatus::kPassed, {Passed("claude", 1000)}));
  auto env = Env();
  env->err_is_terminal = true;
  EXPECT_EQ(Smoke({"--providers", "claude"}, env), 0);
  EXPECT_THAT(err_.str(), HasSubstr("\x1b[1A\r\x1b[2Kclaude  task running"));
  EXPECT_THAT(err_.str(), HasSubstr("\x1b[1A\r\x1b[2Kclaude  passed"));
}

TEST_F(RemoteSmokeTest, NoSecretInAnyOutput) {
  // A server that echoes the key back, in a reason and in the JSON: it never reaches the user.
  auto claude = InPhase("claude", SmokePhase::kDone);
  claude.failure_reason = std::string("worker said: key ") + kSwarmKey + " refused";
  Script(MakeRun(SmokeRunStatus::kFailed, {claude}));
  EXPECT_EQ(Smoke({"--providers", "claude"}), 1);
  auto json_env = Env();
  EXPECT_EQ(Smoke({"--providers", "claude", "--json"}, json_env), 1);
  EXPECT_THAT(out_.str(), Not(HasSubstr(kSwarmKey)));
  EXPECT_THAT(err_.str(), Not(HasSubstr(kSwarmKey)));
  EXPECT_THAT(out_.str(), HasSubstr("worker said: key [REDACTED] refused"));
  EXPECT_EQ(api_->posted_body.find(kSwarmKey), std::string::npos);
}

TEST_F(RemoteSmokeTest, ApiRefusingTheRequestIsUsage) {
  api_->post_reply = http::JsonError(400, "template: not a template name");
  EXPECT_EQ(Smoke({"--providers", "claude"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("template: not a template name"));
  api_->post_reply = http::JsonError(401, "unauthorized");
  EXPECT_EQ(Smoke({"--providers", "claude"}), 1);
}

TEST_F(RemoteSmokeTest, RetriesWhileTheApiIsUnavailable) {
  api_->Push(MakeRun(SmokeRunStatus::kRunning, {InPhase("claude", SmokePhase::kQueued)}));
  api_->states.push_back(http::JsonError(503, "store busy"));
  api_->states.push_back(http::JsonError(503, "store busy"));
  api_->Push(MakeRun(SmokeRunStatus::kPassed, {Passed("claude", 1000)}));
  EXPECT_EQ(Smoke({"--providers", "claude"}), 0) << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("store busy (retrying)"));
  EXPECT_EQ(api_->gets, 3);
}

TEST_F(RemoteSmokeTest, AStopSignalEndsFollowingPromptly) {
  api_->Push(MakeRun(SmokeRunStatus::kRunning, {InPhase("claude", SmokePhase::kQueued)}));
  auto env = Env();
  env->poll_interval = std::chrono::seconds(30);
  std::thread stopper([this] {
    std::this_thread::sleep_for(milliseconds(100));
    stop_ = true;
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(Smoke({"--providers", "claude"}, env), 1);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_THAT(err_.str(), HasSubstr("stopped following smoke run 0190abcd-run; it goes on in "
                                    "the API (GET /api/smoke-runs/0190abcd-run)"));
}

TEST_F(RemoteSmokeTest, GivesUpAfterTheBound) {
  api_->Push(MakeRun(SmokeRunStatus::kRunning, {InPhase("claude", SmokePhase::kQueued)}));
  SwarmClientOptions options;
  options.base_url = server_.Url("");
  options.api_key = kSwarmKey;
  http::CurlHttpClient http;
  SwarmClient client(http, options);
  SmokeConsole console{out_, err_};
  console.poll_interval = milliseconds(5);
  EXPECT_EQ(RunRemoteSmoke(client, {{"providers", {"claude"}}}, milliseconds(100), console), 1);
  EXPECT_THAT(err_.str(), HasSubstr("still running after 0.1s"));
}

TEST_F(RemoteSmokeTest, KeyFromAFile) {
  Script(MakeRun(SmokeRunStatus::kPassed, {Passed("claude", 1000)}));
  testing_support::TempDir dir;
  { std::ofstream(dir.File("key")) << "file-key-0123456789\n"; }
  auto env = Env();
  env->process_env.erase("AGENT_SWARM_API_KEY");
  EXPECT_EQ(Smoke({"--providers", "claude", "--api-key-file", dir.File("key")}, env), 0);
  EXPECT_EQ(api_->auth.front(), "Bearer file-key-0123456789");
}

// ---- usage errors: exit 2, nothing sent ----

TEST_F(RemoteSmokeTest, BadUsageExitsTwoWithoutCallingTheApi) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                                        // --providers is required
      {"--providers", "claude,bogus"},                           // unknown provider
      {"--providers", "pi,pi"},                                  // repeated
      {"--providers", "claude", "--timeout-sec", "0"},           // out of range
      {"--providers", "claude", "--sandbox-timeout-sec", "10"},  // out of range
      {"--providers", "claude", "--stub-model"},                 // needs --local
      {"--providers", "claude", "--local", "--api-url", "http://x"},
      {"--providers", "claude", "--local", "--api-key-file", "/dev/null"},
      {"--providers", "claude", "--sha", "has space"},
      {"--providers", "claude", "--template", std::string("a\nb")},
      {"--providers", "claude", "--no-such-flag"},
  };
  for (const auto& args : cases) {
    EXPECT_EQ(Smoke(args), 2) << ::testing::PrintToString(args);
  }
  auto env = Env();
  env->process_env.clear();
  EXPECT_EQ(Smoke({"--providers", "claude"}, env), 2);  // no key anywhere
  EXPECT_THAT(err_.str(), HasSubstr("AGENT_SWARM_API_KEY"));
  EXPECT_TRUE(api_->paths.empty());
}

TEST_F(RemoteSmokeTest, ArgvKeyIsRefusedWithoutEchoingIt) {
  EXPECT_EQ(Smoke({"--providers", "claude", "--api-key", "argv-secret-key-99"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--api-key is not accepted here"));
  EXPECT_THAT(err_.str() + out_.str(), Not(HasSubstr("argv-secret-key-99")));
  EXPECT_TRUE(api_->paths.empty());
}

TEST_F(RemoteSmokeTest, LocalRunsTheFlowAgainstTheStackItStarts) {
  Script(MakeRun(SmokeRunStatus::kPassed, {Passed("claude", 1000)}));
  auto env = Env();
  env->process_env.clear();  // --local needs no key of the caller's
  bool started = false;
  env->run_local = [&](const SmokeFlags& flags, const auto& run) {
    started = true;
    EXPECT_TRUE(flags.stub_model);
    return run(server_.Url(""), "local-stack-key-abcdef", std::string("http://127.0.0.1:7"));
  };
  EXPECT_EQ(Smoke({"--providers", "claude", "--local", "--stub-model"}, env), 0) << err_.str();
  EXPECT_TRUE(started);
  EXPECT_EQ(api_->auth.front(), "Bearer local-stack-key-abcdef");
  EXPECT_EQ(json::parse(api_->posted_body)["modelBaseUrl"], "http://127.0.0.1:7");
}

// ---- the local stack's plan ----

TEST(LocalSmokePlan, SecretsOnlyInTheApisEnvironment) {
  const EnvMap process = {{"PATH", "/usr/bin:/bin"},
                          {"HOME", "/root"},
                          {"ANTHROPIC_API_KEY", "sk-ant-real-caller-key"},
                          {"OPENAI_BASE_URL", "https://proxy.example/v1"},
                          {"GITHUB_TOKEN", "ghp-not-for-the-api"},
                          {"HARNESS_BIN_DIR", "/opt/harnesses/bin"}};
  auto plan = PlanLocalApi(process, "/repo/build/agent-swarm", "/tmp/w", "swarm-local-key",
                           "http://127.0.0.1:4000", "sandboxd-local-key", "tmpl", false);
  for (const auto& arg : plan.args) {
    EXPECT_THAT(arg, Not(HasSubstr("key"))) << arg;
    EXPECT_THAT(arg, Not(HasSubstr("sk-ant"))) << arg;
  }
  EXPECT_EQ(plan.env.at("AGENT_SWARM_API_KEY"), "swarm-local-key");
  EXPECT_EQ(plan.env.at("E2B_API_KEY"), "sandboxd-local-key");
  EXPECT_EQ(plan.env.at("E2B_API_URL"), "http://127.0.0.1:4000");
  EXPECT_EQ(plan.env.at("E2B_SANDBOX_URL"), "http://127.0.0.1:4000");
  EXPECT_EQ(plan.env.at("ANTHROPIC_API_KEY"), "sk-ant-real-caller-key");
  EXPECT_EQ(plan.env.at("OPENAI_BASE_URL"), "https://proxy.example/v1");
  EXPECT_EQ(plan.env.count("GITHUB_TOKEN"), 0u);
  EXPECT_EQ(plan.env.count("OPENAI_API_KEY"), 0u);
  const std::vector<std::string> expected = {"api",
                                             "--port",
                                             "0",
                                             "--db",
                                             "/tmp/w/swarm.sqlite",
                                             "--smoke-backend",
                                             "e2b",
                                             "--smoke-template",
                                             "tmpl",
                                             "--smoke-worker-env",
                                             "AGENT_SWARM_BIN=/repo/build/agent-swarm",
                                             "--smoke-worker-env",
                                             "PATH=/usr/bin:/bin",
                                             "--smoke-worker-env",
                                             "HARNESS_BIN_DIR=/opt/harnesses/bin"};
  EXPECT_EQ(plan.args, expected);
}

TEST(LocalSmokePlan, StubModelUsesStandInKeysNotTheCallers) {
  const EnvMap process = {{"ANTHROPIC_API_KEY", "sk-ant-real-caller-key"}};
  auto plan = PlanLocalApi(process, "/x/build/agent-swarm", "/tmp/w", "k1-abcdef", "http://h:1",
                           "k2-abcdef", "tmpl", true);
  EXPECT_EQ(plan.env.at("ANTHROPIC_API_KEY"), "sk-ant-stub-model-unused");
  EXPECT_EQ(plan.env.at("OPENAI_API_KEY"), "sk-stub-model-unused");
  EXPECT_EQ(plan.env.at("PATH"), "/usr/local/bin:/usr/bin:/bin");
}

TEST(LocalSmokePlan, HarnessBinDirBesideTheBuildDirectory) {
  testing_support::TempDir repo;
  const std::string exe = repo.File("build/agent-swarm");
  EXPECT_EQ(HarnessBinDir({}, exe), std::nullopt);
  std::filesystem::create_directories(repo.File(".harnesses/node_modules/.bin"));
  EXPECT_EQ(HarnessBinDir({}, exe), repo.File(".harnesses/node_modules/.bin"));
  EXPECT_EQ(HarnessBinDir({{"HARNESS_BIN_DIR", "/elsewhere"}}, exe), "/elsewhere");
}

TEST(LocalSmokePlan, RandomKeysDiffer) {
  const std::string a = RandomLocalKey("swarm");
  EXPECT_THAT(a, ::testing::MatchesRegex("swarm-[0-9a-f]{32}"));
  EXPECT_NE(a, RandomLocalKey("swarm"));
}

}  // namespace
}  // namespace swarm
