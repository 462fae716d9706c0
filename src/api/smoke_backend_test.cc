#include "api/smoke_backend.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "sandbox/dotenv.h"

namespace swarm {
namespace {

namespace fs = std::filesystem;

class SecretsFileTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "smoke-secrets-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = (fs::path(dir_) / name).string();
    std::ofstream(path) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::string dir_;
};

TEST_F(SecretsFileTest, APrivateFileIsRead) {
  const std::string path =
      Write("secrets.env", "# provider keys\nOPENAI_API_KEY=sk-one\nexport X_TOKEN='two'\n", 0600);
  auto read = ReadSmokeSecretsFile(path);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, (sandbox::StringMap{{"OPENAI_API_KEY", "sk-one"}, {"X_TOKEN", "two"}}));
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(ReadSmokeSecretsFile(path));
}

TEST_F(SecretsFileTest, AFileOpenToGroupOrOthersIsRefused) {
  for (mode_t mode : {0640, 0604, 0660, 0644, 0601, 0610}) {
    const std::string path = Write("secrets.env", "OPENAI_API_KEY=sk-one\n", mode);
    auto read = ReadSmokeSecretsFile(path);
    ASSERT_FALSE(read) << std::oct << mode;
    EXPECT_NE(read.error().message.find("chmod 600 " + path), std::string::npos)
        << read.error().message;
    EXPECT_EQ(read.error().message.find("sk-one"), std::string::npos);
  }
}

TEST_F(SecretsFileTest, OnlyARegularFileWillDo) {
  EXPECT_FALSE(ReadSmokeSecretsFile(dir_));  // a directory
  auto missing = ReadSmokeSecretsFile(dir_ + "/missing.env");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing.env"), std::string::npos);
  // A symlink is judged by what it points at (Kubernetes mounts secrets through links).
  const std::string target = Write("real.env", "K=v\n", 0600);
  const std::string link = dir_ + "/link.env";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_TRUE(ReadSmokeSecretsFile(link));
  ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
  EXPECT_FALSE(ReadSmokeSecretsFile(link));
}

TEST_F(SecretsFileTest, AnOversizedFileIsRefused) {
  const std::string path =
      Write("big.env", "K=" + std::string(sandbox::kMaxDotenvBytes + 1, 'x') + "\n", 0600);
  auto read = ReadSmokeSecretsFile(path);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("larger than"), std::string::npos);
}

TEST(SmokeCredentials, TakesProviderVariablesAndBaseUrlsThenTheSecretsFile) {
  const sandbox::StringMap env = {{"ANTHROPIC_API_KEY", "sk-ant-env"},
                                  {"OPENAI_API_KEY", "sk-openai-env"},
                                  {"OPENROUTER_API_KEY", ""},  // empty: absent
                                  {"OPENAI_BASE_URL", "http://stub/v1"},
                                  {"AGENT_SWARM_API_KEY", "the-swarm-key"},
                                  {"E2B_API_KEY", "e2b-key"},
                                  {"HOME", "/root"}};
  const sandbox::StringMap file = {{"OPENAI_API_KEY", "sk-openai-file"},
                                   {"CLAUDE_CODE_OAUTH_TOKEN", "oauth"}};
  EXPECT_EQ(SmokeCredentials(env, file), (sandbox::StringMap{
                                             {"ANTHROPIC_API_KEY", "sk-ant-env"},
                                             {"CLAUDE_CODE_OAUTH_TOKEN", "oauth"},
                                             {"OPENAI_API_KEY", "sk-openai-file"},
                                             {"OPENAI_BASE_URL", "http://stub/v1"},
                                         }));
}

TEST(SmokeCredentials, SecretValuesLeaveOutBaseUrlsAndShortOrdinaryValues) {
  const sandbox::StringMap credentials = {{"ANTHROPIC_API_KEY", "sk-ant-long-value"},
                                          {"OPENAI_BASE_URL", "http://stub-llm.local/v1"},
                                          {"X_TOKEN", "tok1"},  // short, but a token's name
                                          {"FEATURE", "true"},
                                          {"REGION", "eu-west-1-long"}};
  auto values = SmokeSecretValues(credentials);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"eu-west-1-long", "sk-ant-long-value", "tok1"}));
}

TEST(SmokeWorkerEnv, ParsesKeyValueEntries) {
  auto env = ParseWorkerEnv({"A=1", "PATH=/x:/y", "EMPTY=", "B=c=d"});
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(*env, (sandbox::StringMap{{"A", "1"}, {"PATH", "/x:/y"}, {"EMPTY", ""}, {"B", "c=d"}}));
  for (const std::string bad : {"NOEQUALS", "=v", "1A=v", "A B=v"}) {
    auto refused = ParseWorkerEnv({bad});
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().message.find("--smoke-worker-env"), std::string::npos);
  }
}

TEST(SmokeWorkerEnv, ALocalSandboxLearnsWhereThisBinaryAndTheClisAre) {
  EXPECT_EQ(LocalWorkerEnv({{"PATH", "/opt/bin:/usr/bin"}, {"HARNESS_BIN_DIR", "/h"}}, "/bin/as"),
            (sandbox::StringMap{{"AGENT_SWARM_BIN", "/bin/as"},
                                {"HARNESS_BIN_DIR", "/h"},
                                {"PATH", "/opt/bin:/usr/bin"}}));
  EXPECT_EQ(LocalWorkerEnv({}, "/bin/as"),
            (sandbox::StringMap{{"AGENT_SWARM_BIN", "/bin/as"},
                                {"PATH", "/usr/local/bin:/usr/bin:/bin"}}));
}

TEST(SmokeBackendKind, AutoIsE2bWhenConfiguredElseLocal) {
  EXPECT_EQ(ParseSmokeBackendKind("auto"), SmokeBackendKind::kAuto);
  EXPECT_EQ(ParseSmokeBackendKind("off"), SmokeBackendKind::kOff);
  EXPECT_FALSE(ParseSmokeBackendKind("docker"));
  using K = SmokeBackendKind;
  EXPECT_EQ(ResolveSmokeBackendKind(K::kAuto, {}), K::kLocal);
  EXPECT_EQ(ResolveSmokeBackendKind(K::kAuto, {{"E2B_API_KEY", "k"}}), K::kE2b);
  EXPECT_EQ(ResolveSmokeBackendKind(K::kAuto, {{"E2B_API_URL", "http://x"}}), K::kE2b);
  EXPECT_EQ(ResolveSmokeBackendKind(K::kAuto, {{"E2B_API_KEY", ""}}), K::kLocal);
  EXPECT_EQ(ResolveSmokeBackendKind(K::kLocal, {{"E2B_API_KEY", "k"}}), K::kLocal);
  EXPECT_EQ(ResolveSmokeBackendKind(K::kOff, {}), K::kOff);
}

TEST(SmokeBackend, E2bNeedsItsKey) {
  SmokeBackendConfig config;
  config.kind = SmokeBackendKind::kE2b;
  auto opened = SmokeBackend::Open(config, {{"E2B_API_URL", "http://127.0.0.1:1"}}, "/bin/true");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("E2B_API_KEY"), std::string::npos);
  auto ok = SmokeBackend::Open(config, {{"E2B_API_KEY", "k"}, {"E2B_API_URL", "http://h:1/"}},
                               "/bin/true");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)->kind(), SmokeBackendKind::kE2b);
  EXPECT_EQ((*ok)->endpoint(), "http://h:1");
}

// The embedded sandboxd starts with the first run, not with the API; one that cannot start is
// that call's error (a failed run naming it), and the next call tries again.
TEST(SmokeBackend, TheEmbeddedSandboxdStartsOnFirstUseAndAFailedStartIsThatCallsError) {
  SmokeBackendConfig config;
  config.kind = SmokeBackendKind::kLocal;
  config.db_path = (fs::temp_directory_path() / "smoke-backend-test.sqlite").string();
  config.start_timeout = std::chrono::milliseconds(2000);
  fs::remove(config.db_path + ".sandboxd.log");
  auto opened = SmokeBackend::Open(config, {}, "/bin/false");  // exits at once
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ((*opened)->kind(), SmokeBackendKind::kLocal);
  // Nothing started: no log yet, and the sweep's listing starts nothing.
  auto listed = (*opened)->sandboxes().List({});
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  EXPECT_FALSE(fs::exists(config.db_path + ".sandboxd.log"));
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto created = (*opened)->sandboxes().Create({});
    ASSERT_FALSE(created);
    EXPECT_NE(created.error().message.find("cannot start the embedded sandboxd"), std::string::npos)
        << created.error().message;
  }
  (*opened)->Stop();
  fs::remove(config.db_path + ".sandboxd.log");
}

TEST(DefaultPublicUrl, LoopbackOrAnyAddressIs127001) {
  EXPECT_EQ(DefaultPublicUrl("127.0.0.1", 3013), "http://127.0.0.1:3013");
  EXPECT_EQ(DefaultPublicUrl("0.0.0.0", 80), "http://127.0.0.1:80");
  EXPECT_EQ(DefaultPublicUrl("::", 80), "http://127.0.0.1:80");
  EXPECT_EQ(DefaultPublicUrl("localhost", 80), "http://127.0.0.1:80");
  EXPECT_EQ(DefaultPublicUrl("::1", 80), "http://[::1]:80");
  EXPECT_EQ(DefaultPublicUrl("10.1.2.3", 3013), "http://10.1.2.3:3013");
  EXPECT_EQ(DefaultPublicUrl("fd00::5", 3013), "http://[fd00::5]:3013");
}

}  // namespace
}  // namespace swarm
