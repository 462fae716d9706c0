#include "core/strings.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(SplitCsv, TrimsAndDropsEmptyItems) {
  EXPECT_EQ(SplitCsv("a, b,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(SplitCsv(""), std::vector<std::string>{});
  EXPECT_EQ(SplitCsv("pending"), std::vector<std::string>{"pending"});
}

}  // namespace
}  // namespace swarm
