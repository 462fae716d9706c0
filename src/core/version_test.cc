#include "core/version.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(BuildVersion, IsTheReleaseWithoutAStamp) { EXPECT_EQ(BuildVersion(""), SWARM_VERSION); }

TEST(BuildVersion, CarriesTheImageCommit) {
  EXPECT_EQ(BuildVersion("abc1234"), std::string(SWARM_VERSION) + "+abc1234");
}

TEST(BuildVersion, IgnoresAStampThatIsNoCommit) {
  EXPECT_EQ(BuildVersion("a b"), SWARM_VERSION);
  EXPECT_EQ(BuildVersion("x\"y"), SWARM_VERSION);
  EXPECT_EQ(BuildVersion(std::string(65, 'a')), SWARM_VERSION);
}

}  // namespace
}  // namespace swarm
