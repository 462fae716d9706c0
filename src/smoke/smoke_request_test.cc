#include "smoke/smoke_request.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace swarm::smoke {
namespace {

using nlohmann::json;

SmokeRequestDefaults Defaults() {
  SmokeRequestDefaults d;
  d.api_url = "http://127.0.0.1:3013";
  d.api_key = "swarm-key-defaults";
  return d;
}

json Minimal() { return {{"providers", {"claude"}}}; }

// The 400 message for `body`, or a failure when it parses.
std::string ErrorFor(const json& body, const SmokeRequestDefaults& defaults = Defaults()) {
  auto parsed = ParseSmokeRequest(body, defaults);
  if (parsed) {
    ADD_FAILURE() << "accepted: " << body.dump();
    return "";
  }
  EXPECT_EQ(parsed.error().code, ErrorCode::kBadRequest);
  return parsed.error().message;
}

json With(const char* key, json value) {
  json body = Minimal();
  body[key] = std::move(value);
  return body;
}

TEST(ParseSmokeRequest, FillsTheHostDefaults) {
  SmokeRequestDefaults d = Defaults();
  d.model_base_url = "http://127.0.0.1:9999/v1";
  auto r = ParseSmokeRequest(Minimal(), d);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->providers, std::vector<std::string>{"claude"});
  EXPECT_EQ(r->template_id, "agent-swarm-worker");
  EXPECT_EQ(r->api_url, "http://127.0.0.1:3013");
  EXPECT_EQ(r->api_key, "swarm-key-defaults");
  EXPECT_EQ(r->deployment_sha, "local");
  EXPECT_EQ(r->timeout_ms, 300'000);
  EXPECT_EQ(r->sandbox_timeout_sec, 900);
  EXPECT_EQ(r->model_base_url, "http://127.0.0.1:9999/v1");
  EXPECT_TRUE(r->secrets.empty());
  EXPECT_FALSE(r->allow_version_skew);
}

TEST(ParseSmokeRequest, TakesEveryFieldGiven) {
  json body = {{"providers", {"codex", "pi", "opencode", "claude"}},
               {"template", "agent-swarm-worker-abc123"},
               {"apiUrl", "https://swarm.example.com/"},
               {"apiKey", "other-key"},
               {"deploymentSha", "abc123.v1_x-y"},
               {"timeoutMs", 1000},
               {"sandboxTimeoutSec", 86400},
               {"modelBaseUrl", "http://stub:8080/v1"},
               {"secrets", {{"codex", {{"OPENAI_API_KEY", "sk-1"}}}}},
               {"allowVersionSkew", true},
               {"somethingNew", {1, 2}}};  // unknown fields are ignored
  auto r = ParseSmokeRequest(body, Defaults());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->providers, (std::vector<std::string>{"codex", "pi", "opencode", "claude"}));
  EXPECT_EQ(r->template_id, "agent-swarm-worker-abc123");
  EXPECT_EQ(r->api_url, "https://swarm.example.com");  // trailing slash dropped
  EXPECT_EQ(r->api_key, "other-key");
  EXPECT_EQ(r->deployment_sha, "abc123.v1_x-y");
  EXPECT_EQ(r->timeout_ms, 1000);
  EXPECT_EQ(r->sandbox_timeout_sec, 86400);
  EXPECT_EQ(r->model_base_url, "http://stub:8080/v1");
  EXPECT_EQ(r->secrets.at("codex").at("OPENAI_API_KEY"), "sk-1");
  EXPECT_TRUE(r->allow_version_skew);
}

TEST(ParseSmokeRequest, NullMeansTheDefault) {
  json body = Minimal();
  body["template"] = nullptr;
  body["timeoutMs"] = nullptr;
  auto r = ParseSmokeRequest(body, Defaults());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->template_id, "agent-swarm-worker");
  EXPECT_EQ(r->timeout_ms, 300'000);
}

TEST(ParseSmokeRequest, ProvidersAreRequiredKnownAndDistinct) {
  EXPECT_NE(ErrorFor(json::object()).find("providers is required"), std::string::npos);
  EXPECT_NE(ErrorFor({{"providers", "claude"}}).find("providers must be an array"),
            std::string::npos);
  EXPECT_NE(ErrorFor({{"providers", json::array()}}).find("providers must not be empty"),
            std::string::npos);
  EXPECT_NE(ErrorFor({{"providers", {"claude", 3}}}).find("providers[1] must be a string"),
            std::string::npos);
  const std::string unknown = ErrorFor({{"providers", {"claude", "gemini"}}});
  EXPECT_NE(unknown.find("providers[1] is not a known provider"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("claude, codex, pi, opencode"), std::string::npos) << unknown;
  EXPECT_EQ(unknown.find("gemini"), std::string::npos) << "the input is not echoed";
  EXPECT_NE(ErrorFor({{"providers", {"pi", "pi"}}}).find("providers[1] repeats pi"),
            std::string::npos);
  EXPECT_NE(ErrorFor({{"providers", {"pi", "codex", "claude", "opencode", "pi"}}})
                .find("providers must have at most 4 items"),
            std::string::npos);
}

TEST(ParseSmokeRequest, TemplateIsAPlausibleName) {
  EXPECT_NE(ErrorFor(With("template", "")).find("template:"), std::string::npos);
  EXPECT_NE(ErrorFor(With("template", "a b")).find("template:"), std::string::npos);
  EXPECT_NE(ErrorFor(With("template", std::string(300, 'x'))).find("template must be at most"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("template", 7)).find("template must be a string"), std::string::npos);
}

TEST(ParseSmokeRequest, ApiUrlIsAnHttpUrlWithoutCredentials) {
  SmokeRequestDefaults no_url = Defaults();
  no_url.api_url.clear();
  EXPECT_NE(ErrorFor(Minimal(), no_url).find("apiUrl is required"), std::string::npos);
  EXPECT_NE(ErrorFor(With("apiUrl", "ftp://x")).find("apiUrl must be an http"), std::string::npos);
  EXPECT_NE(ErrorFor(With("apiUrl", "not a url")).find("apiUrl must be an absolute"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("apiUrl", "http://user:pw@host")).find("apiUrl must not carry"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("apiUrl", "http://host/\n")).find("apiUrl must not hold control"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("apiUrl", "http://" + std::string(3000, 'h'))).find("apiUrl must be at"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("modelBaseUrl", "file:///etc")).find("modelBaseUrl must be an http"),
            std::string::npos);
}

TEST(ParseSmokeRequest, ApiKeyIsRequiredAndNeverEchoed) {
  SmokeRequestDefaults no_key = Defaults();
  no_key.api_key.clear();
  EXPECT_NE(ErrorFor(Minimal(), no_key).find("apiKey is required"), std::string::npos);
  const std::string bad = ErrorFor(With("apiKey", "secret-value\nX"));
  EXPECT_NE(bad.find("apiKey must not hold control characters"), std::string::npos);
  EXPECT_EQ(bad.find("secret-value"), std::string::npos);
  EXPECT_NE(ErrorFor(With("apiKey", std::string(5000, 'k'))).find("apiKey must be at most"),
            std::string::npos);
}

TEST(ParseSmokeRequest, DeploymentShaIsShortAndPlain) {
  EXPECT_TRUE(ParseSmokeRequest(With("deploymentSha", std::string(40, 'a')), Defaults()));
  for (const json& bad : {json(std::string(41, 'a')), json(""), json("a/b"), json("a b")}) {
    EXPECT_NE(ErrorFor(With("deploymentSha", bad)).find("deploymentSha must be 1 to 40"),
              std::string::npos)
        << bad.dump();
  }
}

TEST(ParseSmokeRequest, TimeoutsAreBounded) {
  EXPECT_NE(ErrorFor(With("timeoutMs", 999)).find("timeoutMs must be between 1000 and 3600000"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("timeoutMs", 3'600'001)).find("timeoutMs must be between"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("timeoutMs", 1.5)).find("timeoutMs must be an integer"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("timeoutMs", UINT64_MAX)).find("timeoutMs must be between"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("sandboxTimeoutSec", 59)).find("sandboxTimeoutSec must be between 60"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("sandboxTimeoutSec", 86401)).find("sandboxTimeoutSec must be between"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("allowVersionSkew", "yes")).find("allowVersionSkew must be a boolean"),
            std::string::npos);
}

TEST(ParseSmokeRequest, SecretsAreBoundedAndTheirValuesNeverEchoed) {
  EXPECT_NE(ErrorFor(With("secrets", json::array())).find("secrets must be an object"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("secrets", {{"gemini", json::object()}})).find("not a known provider"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("secrets", {{"codex", "sk"}})).find("secrets.codex must be an object"),
            std::string::npos);
  const std::string lower = ErrorFor(With("secrets", {{"codex", {{"openai_key", "sk-abc"}}}}));
  EXPECT_NE(lower.find("secrets.codex has a variable name"), std::string::npos) << lower;
  EXPECT_EQ(lower.find("sk-abc"), std::string::npos);
  EXPECT_NE(ErrorFor(With("secrets", {{"codex", {{"1X", "v"}}}})).find("variable name"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With("secrets", {{"codex", {{"K", 5}}}})).find("secrets.codex.K must be a"),
            std::string::npos);
  const std::string big = ErrorFor(With("secrets", {{"pi", {{"K", std::string(8193, 's')}}}}));
  EXPECT_NE(big.find("secrets.pi.K must be at most 8192 bytes"), std::string::npos) << big;
  EXPECT_TRUE(
      ParseSmokeRequest(With("secrets", {{"pi", {{"K", std::string(8192, 's')}}}}), Defaults()));
  EXPECT_NE(ErrorFor(With("secrets", {{"pi", {{"K", std::string("a\0b", 3)}}}})).find("NUL"),
            std::string::npos);
  json many = json::object();
  for (int i = 0; i < 33; ++i) many["K" + std::to_string(i)] = "v";
  EXPECT_NE(ErrorFor(With("secrets", {{"pi", many}})).find("secrets.pi must have at most 32"),
            std::string::npos);
  many.erase("K0");
  EXPECT_TRUE(ParseSmokeRequest(With("secrets", {{"pi", many}}), Defaults()));
}

TEST(ParseSmokeRequest, RefusesABodyThatIsNotAnObject) {
  EXPECT_FALSE(ParseSmokeRequest(json::array(), Defaults()));
}

TEST(ProviderCredentialVars, NamesWhatEachWorkerReads) {
  EXPECT_EQ(ProviderCredentialVars("claude"), std::vector<std::string>{"ANTHROPIC_API_KEY"});
  EXPECT_EQ(ProviderCredentialVars("codex"), std::vector<std::string>{"OPENAI_API_KEY"});
  const std::vector<std::string> any = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY",
                                        "OPENROUTER_API_KEY"};
  EXPECT_EQ(ProviderCredentialVars("pi"), any);
  EXPECT_EQ(ProviderCredentialVars("opencode"), any);
  EXPECT_TRUE(ProviderCredentialVars("gemini").empty());
}

}  // namespace
}  // namespace swarm::smoke
