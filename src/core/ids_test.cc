#include "core/ids.h"

#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(NewUuid, IsACanonicalVersion7Uuid) {
  const std::regex v7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(NewUuid(), v7));
}

TEST(NewUuid, CarriesTheCurrentMillisecondsUpFront) {
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string id = NewUuid();
  const auto ms = std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
  EXPECT_GE(static_cast<long long>(ms), before);
  EXPECT_LE(static_cast<long long>(ms), before + 1000);
}

TEST(NewUuid, LaterIdsSortLater) {
  const std::string first = NewUuid();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_LT(first, NewUuid());
}

TEST(NewUuid, DoesNotRepeatAcrossThreads) {
  std::vector<std::string> a, b;
  std::thread ta([&] {
    for (int i = 0; i < 5000; ++i) a.push_back(NewUuid());
  });
  std::thread tb([&] {
    for (int i = 0; i < 5000; ++i) b.push_back(NewUuid());
  });
  ta.join();
  tb.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 10000u);
}

}  // namespace
}  // namespace swarm
