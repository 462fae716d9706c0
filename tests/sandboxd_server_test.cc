// The real `agent-swarm sandboxd` over loopback: the control plane's key, isolation between
// sandboxes and from sandboxd, the access token of secure sandboxes, and that kill, the TTL
// and sandboxd's own death leave no process behind (checked in /proc).
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "http/connect.h"
#include "support/api_process.h"
#include "support/child_process.h"

namespace swarm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing_support::ChildProcess;
using testing_support::SandboxProcesses;
using testing_support::TempDir;
using testing_support::WaitUntil;

constexpr const char* kKey = "sandboxd-test-key-6f1e2d";

struct RunResult {
  int pid = 0;
  std::string out;
  std::string err;
  int exit_code = -999;
  std::string end_error;  // the end-of-stream error code, if any
};

class Sandboxd {
 public:
  Sandboxd(const std::string& root, std::map<std::string, std::string> env = {})
      : log_(root + ".log") {
    env.emplace("SANDBOXD_API_KEY", kKey);
    child_ = std::make_unique<ChildProcess>(testing_support::ChildSpec{
        {testing_support::AgentSwarmBinary(), "sandboxd", "--port", "0", "--root", root},
        env,
        "/dev/null",
        log_});
    port_ = testing_support::WaitListening(*child_, log_, "sandboxd");
  }
  // A graceful stop, so sandboxd removes what it made (a SIGKILL leaves its cgroups to the
  // next start).
  ~Sandboxd() {
    if (child_->running()) {
      child_->Signal(SIGTERM);
      child_->Wait(10s);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  ChildProcess& child() { return *child_; }
  std::string log() const { return testing_support::ReadFile(log_); }

  http::ClientResponse Api(const std::string& method, const std::string& path,
                           const std::string& body = "", const std::string& key = kKey) {
    http::ClientRequest request;
    request.method = method;
    request.url = url() + path;
    request.body = body;
    request.headers = {{"Content-Type", "application/json"}};
    if (!key.empty()) request.headers.emplace_back("X-API-Key", key);
    request.timeout = 15s;
    auto response = client_.Send(request);
    EXPECT_TRUE(response) << response.error().message;
    return response ? *response : http::ClientResponse{};
  }

  json Create(const json& body) {
    auto response = Api("POST", "/v2/sandboxes", body.dump());
    EXPECT_EQ(response.status, 201) << response.body;
    return json::parse(response.body, nullptr, false);
  }

  http::ClientResponse Envd(const json& sandbox, const std::string& path, const std::string& body,
                            bool with_token = true) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = url() + path;
    request.body = body;
    request.headers = {{"Content-Type", "application/json"},
                       {"E2b-Sandbox-Id", sandbox.value("sandboxID", "")}};
    if (with_token)
      request.headers.emplace_back("X-Access-Token", sandbox.value("envdAccessToken", ""));
    request.timeout = 15s;
    auto response = client_.Send(request);
    EXPECT_TRUE(response) << response.error().message;
    return response ? *response : http::ClientResponse{};
  }

  // process.Process/Start; `background` returns on the start event and leaves it running.
  RunResult Run(const json& sandbox, const std::string& command, bool background = false,
                bool with_token = true) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = url() + "/process.Process/Start";
    request.body = http::connect::EncodeMessage(
        {{"process", {{"cmd", "/bin/bash"}, {"args", {"-l", "-c", command}}}}});
    request.headers = {{"Content-Type", "application/connect+json"},
                       {"Connect-Protocol-Version", "1"},
                       {"E2b-Sandbox-Id", sandbox.value("sandboxID", "")}};
    if (with_token) {
      request.headers.emplace_back("X-Access-Token", sandbox.value("envdAccessToken", ""));
    }
    request.timeout = 20s;
    RunResult result;
    http::connect::EnvelopeDecoder decoder;
    auto sink = [&](std::string_view bytes) {
      if (!decoder.Feed(bytes)) return false;
      while (auto envelope = decoder.Next()) {
        if (envelope->end_stream()) {
          auto error = http::connect::ParseEndStream(envelope->payload);
          if (error && *error) result.end_error = (*error)->code;
          continue;
        }
        auto event = json::parse(envelope->payload)["event"];
        if (event.contains("start")) {
          result.pid = event["start"].value("pid", 0);
          if (background) return false;
        }
        if (event.contains("data")) {
          auto& data = event["data"];
          auto decode = [](const std::string& b64) {
            std::string out;
            static const std::string alphabet =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            int value = 0, bits = -8;
            for (char c : b64) {
              auto at = alphabet.find(c);
              if (at == std::string::npos) break;
              value = (value << 6) + static_cast<int>(at);
              bits += 6;
              if (bits >= 0) {
                out.push_back(static_cast<char>((value >> bits) & 0xFF));
                bits -= 8;
              }
            }
            return out;
          };
          if (data.contains("stdout")) result.out += decode(data["stdout"]);
          if (data.contains("stderr")) result.err += decode(data["stderr"]);
        }
        if (event.contains("end")) result.exit_code = event["end"].value("exitCode", 0);
      }
      return true;
    };
    auto response = client_.SendStreaming(request, sink);
    EXPECT_TRUE(response) << response.error().message;
    if (response && response->status != 200) result.end_error = std::to_string(response->status);
    return result;
  }

 private:
  std::string log_;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
  http::CurlHttpClient client_;
};

class SandboxdServerTest : public ::testing::Test {
 protected:
  std::string Root() const { return dir_.path() + "/root"; }
  TempDir dir_;
};

TEST_F(SandboxdServerTest, RefusesToStartWithoutAKey) {
  auto result = testing_support::RunCommand(
      {testing_support::AgentSwarmBinary(), "sandboxd", "--port", "0", "--root", Root()}, {}, 10s);
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.err.find("SANDBOXD_API_KEY"), std::string::npos) << result.err;
}

TEST_F(SandboxdServerTest, ControlPlaneWantsTheKeyAndKnowsItsTemplates) {
  Sandboxd server(Root());
  auto wrong = server.Api("POST", "/v2/sandboxes", R"({"templateID":"base"})", "not-the-key");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(json::parse(wrong.body)["code"], 401);
  EXPECT_EQ(server.Api("GET", "/v2/sandboxes", "", "").status, 401);
  auto unknown = server.Api("POST", "/v2/sandboxes", R"({"templateID":"no-such-template"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["code"], 404);
  EXPECT_EQ(server.Api("GET", "/health", "", "").status, 204);
  EXPECT_EQ(server.Api("DELETE", "/sandboxes/inosuchsandbox000000000").status, 404);
  EXPECT_EQ(server.log().find(kKey), std::string::npos) << "the key reached the log";
}

TEST_F(SandboxdServerTest, SandboxesAreIsolatedFromSandboxdAndEachOther) {
  Sandboxd server(Root());
  auto a = server.Create({{"templateID", "base"}, {"envVars", {{"ONLY_A", "a-value"}}}});
  auto b = server.Create({{"templateID", "base"}});
  ASSERT_TRUE(a.contains("sandboxID") && b.contains("sandboxID"));

  auto marker = server.Run(a, "echo secret-of-a > /tmp/a-file; exec sleep 300", true);
  ASSERT_GT(marker.pid, 0);
  ASSERT_TRUE(WaitUntil([&] { return !SandboxProcesses(a["sandboxID"]).empty(); }, 5s));

  auto env = server.Run(a, "echo \"$ONLY_A\"; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'");
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(env.out.rfind("a-value\n", 0), 0u) << env.out;
  EXPECT_EQ(env.out.find(kKey), std::string::npos) << "sandboxd's key is visible inside";

  auto ps = server.Run(b, "ps -eo args");
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_NE(ps.out.find("ps -eo args"), std::string::npos) << ps.out;
  EXPECT_EQ(ps.out.find("sleep 300"), std::string::npos) << "b sees a's process: " << ps.out;
  // Separate commands: ps would show a command line naming what it looks for.
  auto look = server.Run(b,
                         "ls -A /tmp; cat /tmp/a-file 2>/dev/null; "
                         "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; echo done");
  EXPECT_EQ(look.exit_code, 0) << look.err;
  EXPECT_NE(look.out.find("done"), std::string::npos);
  EXPECT_EQ(look.out.find("a-file"), std::string::npos) << look.out;
  EXPECT_EQ(look.out.find("secret-of-a"), std::string::npos) << look.out;
  EXPECT_EQ(look.out.find("a-value"), std::string::npos) << look.out;
  EXPECT_EQ(look.out.find(kKey), std::string::npos) << look.out;
  // Nor through sandboxd's state directory, where a's /tmp lives on the host.
  auto state = server.Run(b, "ls -A " + Root() + " | wc -l");
  EXPECT_EQ(state.out, "0\n") << state.out << state.err;

  auto root_write = server.Run(b, "touch /usr/should-not-exist");
  EXPECT_NE(root_write.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists("/usr/should-not-exist"));
}

TEST_F(SandboxdServerTest, SecureSandboxRefusesEnvdWithoutItsToken) {
  Sandboxd server(Root());
  auto sandbox = server.Create({{"templateID", "base"}});
  ASSERT_FALSE(sandbox.value("envdAccessToken", "").empty());
  auto list = server.Envd(sandbox, "/process.Process/List", "{}", false);
  EXPECT_EQ(list.status, 401) << list.body;
  auto run = server.Run(sandbox, "touch /tmp/ran", false, false);
  EXPECT_EQ(run.end_error, "401");
  EXPECT_EQ(run.pid, 0);
  auto wrong = sandbox;
  wrong["envdAccessToken"] = "0000";
  EXPECT_EQ(server.Envd(wrong, "/process.Process/List", "{}").status, 401);
  EXPECT_EQ(server.Envd(sandbox, "/process.Process/List", "{}").status, 200);

  // v1 without "secure": no token issued, none asked.
  auto open = server.Api("POST", "/sandboxes", R"({"templateID":"base","timeout":60})");
  ASSERT_EQ(open.status, 201) << open.body;
  auto open_sandbox = json::parse(open.body);
  EXPECT_FALSE(open_sandbox.contains("envdAccessToken"));
  EXPECT_EQ(server.Run(open_sandbox, "exit 0", false, false).exit_code, 0);
}

TEST_F(SandboxdServerTest, CgroupLimitsHoldTheSandboxWhereTheMachineAllows) {
  Sandboxd server(Root());
  auto sandbox = server.Create({{"templateID", "base"}, {"cpuCount", 1}, {"memoryMB", 256}});
  const std::string id = sandbox["sandboxID"];
  auto groups = server.Run(sandbox, "cat /proc/self/cgroup");
  ASSERT_EQ(groups.exit_code, 0) << groups.err;
  if (server.log().find("without some cgroup limits") != std::string::npos) {
    // Not writable here: sandboxd said so, and the sandbox still runs.
    return;
  }
  // cgroup v1 lists each hierarchy; v2 one line. Either way the sandbox's group holds it.
  EXPECT_NE(groups.out.find("agent-swarm-" + id), std::string::npos) << groups.out;
  for (const auto& line : {std::string(":memory:"), std::string(":cpu,")}) {
    const auto at = groups.out.find(line);
    if (at == std::string::npos) continue;  // v2
    const auto end = groups.out.find('\n', at);
    const std::string path = groups.out.substr(at + line.size(), end - at - line.size());
    if (line == ":memory:") {
      EXPECT_EQ(
          testing_support::ReadFile("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes"),
          std::to_string(256 << 20) + "\n");
    }
  }
}

TEST_F(SandboxdServerTest, KillLeavesNoProcess) {
  Sandboxd server(Root());
  auto sandbox = server.Create({{"templateID", "base"}});
  const std::string id = sandbox["sandboxID"];
  ASSERT_GT(server.Run(sandbox, "sleep 300 & setsid sleep 300 & exec sleep 300", true).pid, 0);
  ASSERT_TRUE(WaitUntil([&] { return SandboxProcesses(id).size() >= 4; }, 5s));
  EXPECT_EQ(server.Api("DELETE", "/sandboxes/" + id).status, 204);
  EXPECT_TRUE(SandboxProcesses(id).empty());
  EXPECT_FALSE(std::filesystem::exists(Root() + "/sandboxes/" + id));
  EXPECT_EQ(server.Api("DELETE", "/sandboxes/" + id).status, 404);
  EXPECT_EQ(server.Envd(sandbox, "/process.Process/List", "{}").status, 502);
}

TEST_F(SandboxdServerTest, TimeoutKillsTheSandbox) {
  Sandboxd server(Root());
  auto sandbox = server.Create({{"templateID", "base"}, {"timeout", 1}});
  const std::string id = sandbox["sandboxID"];
  ASSERT_GT(server.Run(sandbox, "exec sleep 300", true).pid, 0);
  ASSERT_FALSE(SandboxProcesses(id).empty());
  EXPECT_TRUE(WaitUntil([&] { return SandboxProcesses(id).empty(); }, 5s));
  EXPECT_EQ(server.Api("GET", "/sandboxes/" + id).status, 404);

  // Extending the timeout keeps it alive past its first end.
  auto kept = server.Create({{"templateID", "base"}, {"timeout", 1}});
  EXPECT_EQ(server
                .Api("POST", "/sandboxes/" + kept["sandboxID"].get<std::string>() + "/timeout",
                     R"({"timeout":30})")
                .status,
            204);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(server.Api("GET", "/sandboxes/" + kept["sandboxID"].get<std::string>()).status, 200);
}

TEST_F(SandboxdServerTest, KilledMidCommandLeavesNothingAndARestartReportsItGone) {
  std::string id;
  {
    Sandboxd server(Root());
    auto sandbox = server.Create({{"templateID", "base"}});
    id = sandbox["sandboxID"];
    ASSERT_GT(server.Run(sandbox, "sleep 300 & exec sleep 300", true).pid, 0);
    ASSERT_TRUE(WaitUntil([&] { return SandboxProcesses(id).size() >= 3; }, 5s));
    server.child().Signal(SIGKILL);
    ASSERT_TRUE(server.child().Wait(5s));
    EXPECT_TRUE(WaitUntil([&] { return SandboxProcesses(id).empty(); }, 5s))
        << SandboxProcesses(id).size() << " processes outlived sandboxd";
  }
  Sandboxd restarted(Root());
  EXPECT_EQ(restarted.Api("GET", "/sandboxes/" + id).status, 404);
  EXPECT_FALSE(std::filesystem::exists(Root() + "/sandboxes/" + id));
  EXPECT_NE(restarted.log().find("sandbox gone after restart"), std::string::npos);
}

TEST_F(SandboxdServerTest, StopKillsEverySandbox) {
  Sandboxd server(Root());
  auto sandbox = server.Create({{"templateID", "base"}});
  const std::string id = sandbox["sandboxID"];
  ASSERT_GT(server.Run(sandbox, "exec sleep 300", true).pid, 0);
  server.child().Signal(SIGTERM);
  auto status = server.child().Wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  EXPECT_TRUE(SandboxProcesses(id).empty());
}

}  // namespace
}  // namespace swarm
