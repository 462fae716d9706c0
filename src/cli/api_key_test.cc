#include "cli/api_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace swarm {
namespace {

namespace fs = std::filesystem;

class ApiKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "api-key-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  fs::path dir_;
};

TEST_F(ApiKeyFileTest, TakesTheFirstLineTrimmed) {
  EXPECT_EQ(ReadApiKeyFile(Write("k", "  sk-file-key-1\r\nsecond line\n")).value(),
            "sk-file-key-1");
  EXPECT_EQ(ReadApiKeyFile(Write("k2", "sk-no-newline")).value(), "sk-no-newline");
}

TEST_F(ApiKeyFileTest, AnEmptyFirstLineIsAnError) {
  for (const char* content : {"", "\n", "   \nsk-second-line\n"}) {
    auto key = ReadApiKeyFile(Write("empty", content));
    ASSERT_FALSE(key) << content;
    EXPECT_NE(key.error().message.find("holds no key"), std::string::npos);
    EXPECT_NE(key.error().message.find("empty"), std::string::npos);  // names the file
  }
}

TEST_F(ApiKeyFileTest, AnUnreadableFileIsAnErrorNamingIt) {
  auto missing = ReadApiKeyFile((dir_ / "nope").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope: cannot be read"), std::string::npos)
      << missing.error().message;
  auto directory = ReadApiKeyFile(dir_.string());
  EXPECT_FALSE(directory);
}

TEST_F(ApiKeyFileTest, ResolveOrder) {
  const std::string file = Write("k", "from-file\n");
  EXPECT_EQ(ResolveApiKey(file, "from-flag", "from-env", "from-legacy").value(), "from-file");
  EXPECT_EQ(ResolveApiKey("", "from-flag", "from-env", "from-legacy").value(), "from-flag");
  EXPECT_EQ(ResolveApiKey("", "", "from-env", "from-legacy").value(), "from-env");
  EXPECT_EQ(ResolveApiKey("", "", "", "from-legacy").value(), "from-legacy");
  EXPECT_EQ(ResolveApiKey("", "", std::nullopt, "from-legacy").value(), "from-legacy");
  auto none = ResolveApiKey("", "", std::nullopt, "");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no API key"), std::string::npos);
}

}  // namespace
}  // namespace swarm
