#include "sandbox/template_client.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/bounded_json.h"
#include "sandbox/e2b_test_fakes.h"
#include "sandbox/template_archive.h"

namespace swarm::sandbox {
namespace {

using nlohmann::json;
using test_support::HasHeader;
using test_support::HeaderOf;
using test_support::ScriptedHttp;

constexpr char kKey[] = "e2b_template_key_987654";
constexpr char kApi[] = "http://127.0.0.1:9";

class TemplateClientTest : public ::testing::Test {
 protected:
  TemplateClientTest() {
    options_.api.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
  }
  E2bTemplateService& service() {
    if (!service_) {
      service_.emplace(E2bConfig::FromEnv({{"E2B_API_KEY", kKey}, {"E2B_API_URL", kApi}}), http_,
                       options_);
    }
    return *service_;
  }
  // The requests whose URL starts with `prefix`.
  std::vector<http::ClientRequest> RequestsTo(const std::string& prefix) const {
    std::vector<http::ClientRequest> out;
    for (const auto& r : http_.requests) {
      if (r.url.rfind(prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }

  ScriptedHttp http_;
  TemplateClientOptions options_;
  std::vector<std::chrono::milliseconds> sleeps_;
  std::optional<E2bTemplateService> service_;
};

json BodyOf(const http::ClientRequest& request) {
  auto parsed = ParseBoundedJson(request.body);
  EXPECT_TRUE(parsed) << request.body;
  return parsed ? *parsed : json();
}

http::ClientResponse Json(int status, const json& body) { return {status, body.dump(), {}}; }

TEST_F(TemplateClientTest, BuildCreatesUploadsStartsAndPollsWithLogs) {
  // Status replies in order: two log lines while building, none, then ready with one more
  // line, then an empty page that ends the wait.
  std::vector<json> statuses = {
      {{"status", "building"},
       {"logEntries",
        {{{"timestamp", "t1"}, {"level", "info"}, {"message", "pulling image"}},
         {{"timestamp", "t2"}, {"level", "info"}, {"message", "copying"}, {"step", "1"}}}}},
      {{"status", "waiting"}, {"logEntries", json::array()}},
      {{"status", "ready"},
       {"logEntries", {{{"timestamp", "t3"}, {"level", "info"}, {"message", "done"}}}}},
      {{"status", "ready"}, {"logEntries", json::array()}}};
  std::size_t polls = 0;
  std::string uploaded;
  http_.handler = [&](const http::ClientRequest& r) -> Result<http::ClientResponse> {
    const std::string api(kApi);
    if (r.url == api + "/v3/templates") {
      return Json(202, {{"templateID", "tpl9"}, {"buildID", "b-1"}, {"names", {"worker"}}});
    }
    if (r.url.rfind(api + "/templates/tpl9/files/", 0) == 0) {
      // The entrypoint is new, the config file is cached already.
      if (uploaded.empty() && polls == 0 &&
          RequestsTo(api + "/templates/tpl9/files/").size() == 1) {
        return Json(201, {{"present", false}, {"url", "/upload/abc?sig=xyz"}});
      }
      return Json(201, {{"present", true}});
    }
    if (r.url == api + "/upload/abc?sig=xyz") {
      uploaded = r.body;
      return http::ClientResponse{200, "", {}};
    }
    if (r.url == api + "/v2/templates/tpl9/builds/b-1") return Json(202, json::object());
    if (r.url.rfind(api + "/templates/tpl9/builds/b-1/status?logsOffset=", 0) == 0) {
      return Json(200, statuses.at(std::min(polls++, statuses.size() - 1)));
    }
    return http::ClientResponse{404, R"({"code":404,"message":"unexpected"})", {}};
  };

  TemplateSpec spec;
  spec.name = "worker";
  spec.from_image = "ghcr.io/acme/worker:1.2.3";
  spec.start_cmd = "/docker-entrypoint.sh";
  spec.ready_cmd = "test -f /tmp/ready";
  spec.cpu_count = 2;
  spec.memory_mb = 1024;
  spec.env = {{"A", "1"}, {"B", "2"}};
  spec.workdir = "/home/user";
  spec.files = {
      TemplateFile{"", std::string("#!/bin/sh\necho hi\n"), "/docker-entrypoint.sh", 0755},
      TemplateFile{"", std::string("k=v\n"), "/etc/worker.conf", 0644}};
  std::vector<BuildLogEntry> logs;
  auto build = service().Build(spec, [&](const BuildLogEntry& e) { logs.push_back(e); });
  ASSERT_TRUE(build) << build.error().message;
  EXPECT_EQ(build->template_id, "tpl9");
  EXPECT_EQ(build->build_id, "b-1");
  EXPECT_EQ(build->names, std::vector<std::string>{"worker"});

  auto create = RequestsTo(std::string(kApi) + "/v3/templates");
  ASSERT_EQ(create.size(), 1u);
  EXPECT_EQ(create[0].method, "POST");
  EXPECT_EQ(HeaderOf(create[0], "X-API-Key"), kKey);
  EXPECT_EQ(BodyOf(create[0]), json::parse(R"({"name":"worker","cpuCount":2,"memoryMB":1024})"));

  // The new file went up as a tar.gz holding it under its base name, with the API key (the
  // URL is the API's own) and the signed URL as given.
  auto archive = ReadTarGz(uploaded);
  ASSERT_TRUE(archive) << archive.error().message;
  ASSERT_EQ(archive->size(), 1u);
  EXPECT_EQ((*archive)[0].name, "docker-entrypoint.sh");
  EXPECT_EQ((*archive)[0].content, "#!/bin/sh\necho hi\n");
  EXPECT_EQ((*archive)[0].mode, 0755);
  auto puts = RequestsTo(std::string(kApi) + "/upload/");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].method, "PUT");
  EXPECT_EQ(HeaderOf(puts[0], "X-API-Key"), kKey);

  auto start = RequestsTo(std::string(kApi) + "/v2/templates/tpl9/builds/b-1");
  ASSERT_EQ(start.size(), 1u);
  auto body = BodyOf(start[0]);
  EXPECT_EQ(body["fromImage"], "ghcr.io/acme/worker:1.2.3");
  EXPECT_EQ(body["startCmd"], "/docker-entrypoint.sh");
  EXPECT_EQ(body["readyCmd"], "test -f /tmp/ready");
  EXPECT_EQ(body["force"], false);
  ASSERT_EQ(body["steps"].size(), 4u);
  EXPECT_EQ(body["steps"][0], json::parse(R"({"type":"ENV","args":["A","1","B","2"],
                                              "force":false})"));
  EXPECT_EQ(body["steps"][1], json::parse(R"({"type":"WORKDIR","args":["/home/user"],
                                              "force":false})"));
  const auto& copy = body["steps"][2];
  EXPECT_EQ(copy["type"], "COPY");
  EXPECT_EQ(copy["args"], json::parse(R"(["docker-entrypoint.sh","/docker-entrypoint.sh","",
                                         "0755"])"));
  const std::string hash = copy["filesHash"];
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(RequestsTo(std::string(kApi) + "/templates/tpl9/files/")[0].url,
            std::string(kApi) + "/templates/tpl9/files/" + hash);
  EXPECT_NE(body["steps"][3]["filesHash"], hash);
  EXPECT_EQ(body["steps"][3]["args"][3], "0644");

  // Polled with an advancing offset, every log line delivered once, 200 ms between polls.
  auto polled = RequestsTo(std::string(kApi) + "/templates/tpl9/builds/b-1/status");
  ASSERT_EQ(polled.size(), 4u);
  EXPECT_EQ(polled[0].url.substr(polled[0].url.find('?')), "?logsOffset=0");
  EXPECT_EQ(polled[1].url.substr(polled[1].url.find('?')), "?logsOffset=2");
  EXPECT_EQ(polled[2].url.substr(polled[2].url.find('?')), "?logsOffset=2");
  EXPECT_EQ(polled[3].url.substr(polled[3].url.find('?')), "?logsOffset=3");
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0].message, "pulling image");
  EXPECT_EQ(logs[1].step, "1");
  EXPECT_EQ(logs[2].message, "done");
  for (auto s : sleeps_) EXPECT_EQ(s, std::chrono::milliseconds(200));
  EXPECT_FALSE(sleeps_.empty());
}

TEST_F(TemplateClientTest, TheSameFileHasTheSameHash) {
  std::vector<std::string> hashes;
  http_.handler = [&](const http::ClientRequest& r) -> Result<http::ClientResponse> {
    if (r.url.find("/v3/templates") != std::string::npos) {
      return Json(202, {{"templateID", "t"}, {"buildID", "b"}});
    }
    if (r.url.find("/files/") != std::string::npos) {
      hashes.push_back(r.url.substr(r.url.rfind('/') + 1));
      return Json(201, {{"present", true}});
    }
    if (r.url.find("/status") != std::string::npos) return Json(200, {{"status", "ready"}});
    return Json(202, json::object());
  };
  TemplateSpec spec;
  spec.name = "n";
  spec.files = {TemplateFile{"", std::string("x"), "/a", 0644}};
  ASSERT_TRUE(service().Build(spec, nullptr));
  ASSERT_TRUE(service().Build(spec, nullptr));
  spec.files[0].mode = 0755;
  ASSERT_TRUE(service().Build(spec, nullptr));
  ASSERT_EQ(hashes.size(), 3u);
  EXPECT_EQ(hashes[0], hashes[1]);
  EXPECT_NE(hashes[0], hashes[2]);
  // A build without steps still sends the SDK's default base image.
  auto start = RequestsTo(std::string(kApi) + "/v2/templates/t/builds/b");
  ASSERT_FALSE(start.empty());
  EXPECT_EQ(BodyOf(start[0])["fromImage"], "e2bdev/base");
  EXPECT_EQ(BodyOf(start[0])["force"], false);
  spec.force = true;
  ASSERT_TRUE(service().Build(spec, nullptr));
  EXPECT_EQ(BodyOf(RequestsTo(std::string(kApi) + "/v2/templates/t/builds/b").back())["force"],
            true);
}

TEST_F(TemplateClientTest, ALocalFileIsReadAndAForeignUploadUrlGetsNoKey) {
  const std::string path = ::testing::TempDir() + "template_client_entrypoint.sh";
  {
    std::ofstream out(path, std::ios::binary);
    out << "#!/bin/sh\n";
  }
  std::string uploaded;
  http::ClientRequest put;
  http_.handler = [&](const http::ClientRequest& r) -> Result<http::ClientResponse> {
    if (r.url.find("/v3/templates") != std::string::npos) {
      return Json(202, {{"templateID", "t"}, {"buildID", "b"}});
    }
    if (r.url.find("/files/") != std::string::npos) {
      return Json(201, {{"present", false},
                        {"url", "https://storage.example/bucket/x?X-Goog-Signature=s3cr3t"},
                        {"headers", {{"Content-Type", "application/x-tar"}}}});
    }
    if (r.method == "PUT") {
      put = r;
      return http::ClientResponse{403, "<Error>SignatureDoesNotMatch</Error>", {}};
    }
    return Json(202, json::object());
  };
  TemplateSpec spec;
  spec.name = "n";
  spec.files = {TemplateFile{path, std::nullopt, "/docker-entrypoint.sh", 0755}};
  auto build = service().Build(spec, nullptr);
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code, ErrorCode::kForbidden);
  EXPECT_NE(build.error().message.find("https://storage.example/bucket/x:"), std::string::npos)
      << build.error().message;
  EXPECT_EQ(build.error().message.find("s3cr3t"), std::string::npos) << build.error().message;
  EXPECT_FALSE(HasHeader(put, "X-API-Key"));
  EXPECT_EQ(HeaderOf(put, "Content-Type"), "application/x-tar");
  auto archive = ReadTarGz(put.body);
  ASSERT_TRUE(archive);
  EXPECT_EQ((*archive)[0].name, "template_client_entrypoint.sh");
  EXPECT_EQ((*archive)[0].content, "#!/bin/sh\n");

  spec.files = {TemplateFile{path + ".missing", std::nullopt, "/x", 0644}};
  build = service().Build(spec, nullptr);
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code, ErrorCode::kNotFound);
}

TEST_F(TemplateClientTest, AFailedBuildCarriesTheBuildersReason) {
  http_.handler = [&](const http::ClientRequest& r) -> Result<http::ClientResponse> {
    if (r.url.find("/v3/templates") != std::string::npos) {
      return Json(202, {{"templateID", "t"}, {"buildID", "b"}});
    }
    if (r.url.find("/status") != std::string::npos) {
      return Json(200, {{"status", "error"},
                        {"reason", {{"message", "image ghcr.io/x not found"}, {"step", "base"}}}});
    }
    return Json(202, json::object());
  };
  TemplateSpec spec;
  spec.name = "n";
  auto build = service().Build(spec, nullptr);
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(build.error().message, "template build failed: image ghcr.io/x not found");
}

// Found by fuzz_e2b_reply: a non-boolean `present` threw out of Build.
TEST_F(TemplateClientTest, AFileLinkWithAMalformedPresentFieldIsAnErrorNotAThrow) {
  http_.handler = [&](const http::ClientRequest& r) -> Result<http::ClientResponse> {
    if (r.url.find("/v3/templates") != std::string::npos) {
      return Json(202, {{"templateID", "t"}, {"buildID", "b"}});
    }
    if (r.url.find("/files/") != std::string::npos) return Json(201, {{"present", "yes"}});
    return Json(202, json::object());
  };
  TemplateSpec spec;
  spec.name = "n";
  spec.files.push_back(TemplateFile{.content = "x", .dest_path = "/x"});
  auto build = service().Build(spec, nullptr);
  ASSERT_FALSE(build);
  EXPECT_NE(build.error().message.find("no upload URL"), std::string::npos)
      << build.error().message;
}

TEST_F(TemplateClientTest, TheWaitForABuildIsBounded) {
  options_.build_timeout = std::chrono::milliseconds(50);
  options_.poll_interval = std::chrono::milliseconds(5);
  options_.api.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  http_.handler = [&](const http::ClientRequest& r) -> Result<http::ClientResponse> {
    if (r.url.find("/v3/templates") != std::string::npos) {
      return Json(202, {{"templateID", "t"}, {"buildID", "b"}});
    }
    if (r.url.find("/status") != std::string::npos) return Json(200, {{"status", "building"}});
    return Json(202, json::object());
  };
  TemplateSpec spec;
  spec.name = "n";
  const auto began = std::chrono::steady_clock::now();
  auto build = service().Build(spec, nullptr);
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(build.error().message, "template build b did not finish within 50 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
}

TEST_F(TemplateClientTest, AnUnknownKeyIsSurfacedWithoutTheKey) {
  http_.Queue(401, R"({"code":401,"message":"Invalid API key"})");
  TemplateSpec spec;
  spec.name = "n";
  auto build = service().Build(spec, nullptr);
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(build.error().message.rfind("E2B 401: Invalid API key", 0), 0u);
  EXPECT_EQ(build.error().message.find(kKey), std::string::npos);
}

TEST_F(TemplateClientTest, InvalidSpecsAreRefusedBeforeAnyRequest) {
  TemplateSpec spec;
  EXPECT_FALSE(service().Build(spec, nullptr));  // no name
  spec.name = "has space";
  EXPECT_FALSE(service().Build(spec, nullptr));
  spec.name = "ok";
  spec.memory_mb = 64;
  EXPECT_FALSE(service().Build(spec, nullptr));
  spec.memory_mb.reset();
  spec.files = {TemplateFile{"", std::nullopt, "/x", 0644}};
  EXPECT_FALSE(service().Build(spec, nullptr));
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(TemplateClientTest, PublishUnpublishAndDelete) {
  http_.Queue(200, R"({"names":["team/worker"]})");
  ASSERT_TRUE(service().SetPublic("team/worker", true));
  EXPECT_EQ(http_.last().method, "PATCH");
  EXPECT_EQ(http_.last().url, std::string(kApi) + "/v2/templates/team%2Fworker");
  EXPECT_EQ(BodyOf(http_.last()), json::parse(R"({"public":true})"));

  http_.Queue(200, "{}");
  ASSERT_TRUE(service().SetPublic("worker", false));
  EXPECT_EQ(BodyOf(http_.last()), json::parse(R"({"public":false})"));

  http_.Queue(404, R"({"code":404,"message":"template 'nope' not found"})");
  auto published = service().SetPublic("nope", true);
  ASSERT_FALSE(published);
  EXPECT_EQ(published.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(published.error().message, "E2B 404: template 'nope' not found");

  http_.Queue(204, "");
  http_.Queue(404, R"({"code":404,"message":"template 'worker' not found"})");
  auto deleted = service().Delete("worker");
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(http_.last().method, "DELETE");
  EXPECT_EQ(http_.last().url, std::string(kApi) + "/templates/worker");
  deleted = service().Delete("worker");
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_FALSE(*deleted);
}

}  // namespace
}  // namespace swarm::sandbox
