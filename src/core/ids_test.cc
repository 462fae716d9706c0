#include "core/ids.h"

#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(NewUuid, IsACanonicalVersion4Uuid) {
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(NewUuid(), v4));
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
