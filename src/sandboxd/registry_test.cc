#include "sandboxd/registry.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace swarm::sandboxd {
namespace {

using namespace std::chrono_literals;

RegistryOptions Options(const std::string& root) {
  return RegistryOptions{.root = root, .isolation = sandbox::Isolation::kProcessGroup};
}

TEST(RegistryTest, IdsAndTokensLookLikeE2bs) {
  EXPECT_TRUE(std::regex_match(NewSandboxId(), std::regex("i[a-z0-9]{20}")));
  EXPECT_NE(NewSandboxId(), NewSandboxId());
  EXPECT_EQ(NewAccessToken().size(), 64u);
}

TEST(RegistryTest, UnknownTemplateAndBadTimeoutAreRefused) {
  testing_support::TempDir dir;
  SandboxRegistry registry(Options(dir.path()));
  CreateRequest request;
  request.template_id = "nope";
  EXPECT_EQ(registry.Create(request).error().code, ErrorCode::kNotFound);
  request.template_id = "base";
  request.timeout = 0s;
  EXPECT_EQ(registry.Create(request).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(RegistryTest, ExpiredSandboxesAreKilledAndGone) {
  testing_support::TempDir dir;
  SandboxRegistry registry(Options(dir.path()));
  CreateRequest request;
  request.timeout = 1s;
  auto entry = registry.Create(request);
  ASSERT_TRUE(entry) << entry.error().message;
  const std::string id = (*entry)->id;
  EXPECT_TRUE(registry.Get(id));
  std::this_thread::sleep_for(1100ms);
  registry.ExpireDue();
  EXPECT_FALSE(registry.Get(id));
  EXPECT_FALSE(registry.Kill(id));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/sandboxes/" + id));
}

TEST(RegistryTest, RecoverRemovesWhatAnEarlierRunLeft) {
  testing_support::TempDir dir;
  const std::string left = dir.path() + "/sandboxes/ileftover000000000000";
  std::filesystem::create_directories(left + "/tmp");
  std::ofstream(left + "/record.json") << R"({"sandboxID":"ileftover000000000000","sessions":[]})";
  SandboxRegistry registry(Options(dir.path()));
  EXPECT_EQ(registry.Recover(), 1u);
  EXPECT_FALSE(std::filesystem::exists(left));
  EXPECT_FALSE(registry.Get("ileftover000000000000"));
}

TEST(RegistryTest, ListFiltersOnEveryPairAndKillAllEmpties) {
  testing_support::TempDir dir;
  SandboxRegistry registry(Options(dir.path()));
  CreateRequest a;
  a.metadata = {{"app", "x"}, {"role", "worker"}};
  CreateRequest b;
  b.metadata = {{"app", "x"}};
  ASSERT_TRUE(registry.Create(a));
  ASSERT_TRUE(registry.Create(b));
  EXPECT_EQ(registry.List({{"app", "x"}}).size(), 2u);
  EXPECT_EQ(registry.List({{"app", "x"}, {"role", "worker"}}).size(), 1u);
  EXPECT_EQ(registry.List({{"app", "y"}}).size(), 0u);
  registry.KillAll();
  EXPECT_EQ(registry.size(), 0u);
}

}  // namespace
}  // namespace swarm::sandboxd
