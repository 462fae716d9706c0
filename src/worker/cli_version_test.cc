#include "worker/cli_version.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "harness/posix_process_runner.h"
#include "support/child_process.h"

namespace swarm::worker {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

TEST(FirstVersionLine, TakesTheFirstNonBlankLineTrimmedAndBounded) {
  EXPECT_EQ(FirstVersionLine("2.1.197 (Claude Code)\n"), "2.1.197 (Claude Code)");
  EXPECT_EQ(FirstVersionLine("\n  \r\n  codex-cli 0.169.0  \r\nmore\n"), "codex-cli 0.169.0");
  EXPECT_EQ(FirstVersionLine("1.18.33"), "1.18.33");
  EXPECT_EQ(FirstVersionLine(""), "");
  EXPECT_EQ(FirstVersionLine(" \n\t\n"), "");
  EXPECT_EQ(FirstVersionLine(std::string(300, 'v')), std::string(100, 'v'));
  // Cut on a character boundary, and only valid UTF-8 comes out.
  const std::string wide = std::string(99, 'v') + "é";
  EXPECT_EQ(FirstVersionLine(wide), std::string(99, 'v'));
  EXPECT_EQ(FirstVersionLine("v\xff"), "v\xEF\xBF\xBD");
}

// A fake CLI named like the provider's, in a bin dir the child PATH starts with.
class ProbeTest : public ::testing::Test {
 protected:
  ProbeTest() {
    fs::create_directories(bin());
    config.provider = harness::Provider::kCodex;
    config.provider_name = "codex";
    config.base_env = {{"PATH", bin().string() + ":/usr/bin:/bin"}, {"LANG", "C.UTF-8"}};
    config.work_root = fs::path(dir.path()) / "work-root";
  }
  fs::path bin() const { return fs::path(dir.path()) / "bin"; }
  void Cli(const std::string& body) {
    const fs::path path = bin() / "codex";
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
  }

  testing_support::TempDir dir;
  WorkerConfig config;
  harness::PosixProcessRunner runner;
};

TEST_F(ProbeTest, RunsTheProvidersCliWithAFreshHomeAndTakesItsFirstLine) {
  const std::string seen = dir.File("seen");
  Cli("echo \"$* HOME=$HOME PWD=$PWD\" > " + seen +
      "\necho 'warming up' >&2\necho\necho 'codex-cli 0.169.0'\necho second\n");
  auto version = ProbeCliVersion(runner, config);
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ(*version, "codex-cli 0.169.0");
  const std::string args = testing_support::ReadFile(seen);
  EXPECT_TRUE(args.starts_with("--version HOME=" + config.work_root.string() + "/cli-version-"))
      << args;
  EXPECT_NE(args.find("/home PWD="), std::string::npos) << args;
  // The home and work dirs it was given are gone.
  EXPECT_TRUE(fs::is_empty(config.work_root));
}

TEST_F(ProbeTest, SaysWhyThereIsNoVersion) {
  auto missing = ProbeCliVersion(runner, config);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("codex"), std::string::npos) << missing.error().message;

  Cli("echo 'unknown option --version' >&2\nexit 3\n");
  auto failed = ProbeCliVersion(runner, config);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message,
            "codex --version exited with 3; stderr: unknown option --version");

  Cli("exit 0\n");
  EXPECT_EQ(ProbeCliVersion(runner, config).error().message, "codex --version printed nothing");

  // A CLI that prints its version on stderr (pi does).
  Cli("echo '0.73.1' >&2\n");
  EXPECT_EQ(ProbeCliVersion(runner, config).value_or("?"), "0.73.1");

  Cli("sleep 20\n");
  auto slow = ProbeCliVersion(runner, config, milliseconds(300));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().message, "codex --version did not finish within 300 ms");
  EXPECT_TRUE(fs::is_empty(config.work_root));
}

TEST_F(ProbeTest, AStopCancelsIt) {
  // A CLI that prints its version on stderr (pi does).
  Cli("echo '0.73.1' >&2\n");
  EXPECT_EQ(ProbeCliVersion(runner, config).value_or("?"), "0.73.1");

  Cli("sleep 20\n");
  std::atomic<bool> cancel{true};
  const auto start = std::chrono::steady_clock::now();
  auto stopped = ProbeCliVersion(runner, config, milliseconds(15'000), &cancel);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().message, "codex --version: cancelled (stopping)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace swarm::worker

namespace swarm::worker {
namespace {

// As npm installs a CLI: node_modules/.bin/<cli> links into the package, whose package.json
// says its version.
class NpmVersionTest : public ::testing::Test {
 protected:
  fs::path Package(const std::string& manifest) {
    const fs::path package = fs::path(dir.path()) / "node_modules" / "@openai" / "codex";
    fs::create_directories(package / "bin");
    std::ofstream(package / "package.json") << manifest;
    const fs::path script = package / "bin" / "codex.js";
    std::ofstream(script) << "#!/bin/sh\ntouch " << dir.File("ran") << "\necho from-the-cli\n";
    ::chmod(script.c_str(), 0755);
    const fs::path bin = fs::path(dir.path()) / "node_modules" / ".bin";
    fs::create_directories(bin);
    fs::create_symlink("../@openai/codex/bin/codex.js", bin / "codex");
    return bin;
  }

  // A codex worker whose child PATH starts with `bin`.
  WorkerConfig CodexConfig(const fs::path& bin) const {
    WorkerConfig config;
    config.provider = harness::Provider::kCodex;
    config.provider_name = "codex";
    config.base_env = {{"PATH", bin.string() + ":/usr/bin:/bin"}};
    config.work_root = fs::path(dir.path()) / "work-root";
    return config;
  }

  testing_support::TempDir dir;
};

TEST_F(NpmVersionTest, ReadsThePackagesVersionWithoutStartingTheCli) {
  const fs::path bin = Package(R"({"name":"@openai/codex","version":"0.169.0"})");
  EXPECT_EQ(NpmPackageVersion(bin / "codex"), "0.169.0");

  harness::PosixProcessRunner runner;
  const WorkerConfig config = CodexConfig(bin);
  EXPECT_EQ(ProbeCliVersion(runner, config).value_or("?"), "0.169.0");
  EXPECT_FALSE(fs::exists(dir.File("ran")));
}

TEST_F(NpmVersionTest, NoUsablePackageJsonMeansNone) {
  const fs::path bin = Package(R"({"name":"@openai/codex"})");
  EXPECT_FALSE(NpmPackageVersion(bin / "codex"));  // the nearest package.json decides
  std::ofstream(fs::path(dir.path()) / "node_modules/@openai/codex/package.json") << "{not json";
  EXPECT_FALSE(NpmPackageVersion(bin / "codex"));
  std::ofstream(fs::path(dir.path()) / "node_modules/@openai/codex/package.json")
      << R"({"version":")" << std::string(2 << 20, '1') << R"("})";
  EXPECT_FALSE(NpmPackageVersion(bin / "codex"));  // over the size bound
  EXPECT_FALSE(NpmPackageVersion(fs::path(dir.path()) / "missing"));
}

TEST_F(NpmVersionTest, AnUnpackagedCliIsAskedForItsVersion) {
  const fs::path bin = fs::path(dir.path()) / "plain";
  fs::create_directories(bin);
  std::ofstream(bin / "codex") << "#!/bin/sh\necho 'codex-cli 9.9.9'\n";
  ::chmod((bin / "codex").c_str(), 0755);
  harness::PosixProcessRunner runner;
  const WorkerConfig config = CodexConfig(bin);
  EXPECT_EQ(ProbeCliVersion(runner, config).value_or("?"), "codex-cli 9.9.9");
}

}  // namespace
}  // namespace swarm::worker
