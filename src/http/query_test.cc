#include "http/query.h"

#include <gtest/gtest.h>

namespace swarm::http {
namespace {

using Items = std::vector<std::pair<std::string, std::string>>;

TEST(QueryParams, SplitsPairsInOrder) {
  auto q = QueryParams::Parse("a=1&b=two&c=");
  EXPECT_EQ(q.items(), (Items{{"a", "1"}, {"b", "two"}, {"c", ""}}));
  EXPECT_EQ(q.Get("b"), "two");
  EXPECT_EQ(q.Get("c"), "");
  EXPECT_EQ(q.Get("missing"), std::nullopt);
}

TEST(QueryParams, EmptyQueryHasNoItems) {
  EXPECT_TRUE(QueryParams::Parse("").items().empty());
  EXPECT_TRUE(QueryParams::Parse("&&").items().empty());
}

TEST(QueryParams, DecodesPercentEscapesAndPlus) {
  auto q = QueryParams::Parse("name=a%20b+c&sym=%26%3D%2B&utf8=%C3%A9t%c3%a9&k%65y=v");
  EXPECT_EQ(q.Get("name"), "a b c");
  EXPECT_EQ(q.Get("sym"), "&=+");
  EXPECT_EQ(q.Get("utf8"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(q.Get("key"), "v");
}

TEST(QueryParams, MalformedEscapesKeepTheRawText) {
  auto q = QueryParams::Parse("a=100%&b=%zz1&c=%4&d=%41");
  EXPECT_EQ(q.Get("a"), "100%");
  EXPECT_EQ(q.Get("b"), "%zz1");
  EXPECT_EQ(q.Get("c"), "%4");
  EXPECT_EQ(q.Get("d"), "A");
}

TEST(QueryParams, KeyWithoutValueAndEmptySegments) {
  auto q = QueryParams::Parse("flag&&x=1&=orphan");
  EXPECT_EQ(q.items(), (Items{{"flag", ""}, {"x", "1"}, {"", "orphan"}}));
}

TEST(QueryParams, OnlyTheFirstEqualsSplits) {
  EXPECT_EQ(QueryParams::Parse("expr=a=b").Get("expr"), "a=b");
}

TEST(QueryParams, GetReturnsTheFirstOfRepeatedKeys) {
  auto q = QueryParams::Parse("tag=x&tag=y");
  EXPECT_EQ(q.Get("tag"), "x");
  EXPECT_EQ(q.items().size(), 2u);
}

}  // namespace
}  // namespace swarm::http
