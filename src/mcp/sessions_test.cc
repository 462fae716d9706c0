#include "mcp/sessions.h"

#include <gtest/gtest.h>

namespace swarm::mcp {
namespace {

using std::chrono::minutes;

MonotonicTime At(int minute) { return MonotonicTime{} + minutes(minute); }

Session Make(std::string id, std::string agent, int minute = 0) {
  Session session;
  session.id = std::move(id);
  session.agent_id = std::move(agent);
  session.last_used = At(minute);
  return session;
}

TEST(SessionTableTest, AddsFindsAndRemoves) {
  SessionTable table(10, 3);
  EXPECT_TRUE(table.Add(Make("s1", "a")).empty());
  EXPECT_TRUE(table.Add(Make("s2", "b")).empty());
  ASSERT_NE(table.Find("s1"), nullptr);
  EXPECT_EQ(table.Find("s1")->agent_id, "a");
  EXPECT_EQ(table.Find("nope"), nullptr);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.CountFor("a"), 1u);
  EXPECT_TRUE(table.Remove("s1"));
  EXPECT_FALSE(table.Remove("s1"));
  EXPECT_EQ(table.Find("s1"), nullptr);
  EXPECT_EQ(table.CountFor("a"), 0u);
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.CountFor("b"), 0u);
}

TEST(SessionTableTest, AnAgentAtItsCapLosesItsLeastRecentlyUsedSession) {
  SessionTable table(10, 2);
  table.Add(Make("a1", "a", 0));
  table.Add(Make("b1", "b", 1));
  table.Add(Make("a2", "a", 2));
  table.Touch("a1", At(3));  // a2 is now the agent's least recently used
  const auto evicted = table.Add(Make("a3", "a", 4));
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0].agent_id, "a");
  EXPECT_STREQ(evicted[0].reason, "per-agent cap");
  EXPECT_EQ(table.Find("a2"), nullptr);
  EXPECT_NE(table.Find("a1"), nullptr);
  EXPECT_NE(table.Find("a3"), nullptr);
  EXPECT_NE(table.Find("b1"), nullptr);  // another agent's session is never the price
  EXPECT_EQ(table.CountFor("a"), 2u);
}

TEST(SessionTableTest, AFullTableLosesTheLeastRecentlyUsedSessionOfAll) {
  SessionTable table(3, 3);
  table.Add(Make("a1", "a", 0));
  table.Add(Make("b1", "b", 1));
  table.Add(Make("a2", "a", 2));
  table.Touch("a1", At(3));
  const auto evicted = table.Add(Make("c1", "c", 4));
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0].agent_id, "b");
  EXPECT_STREQ(evicted[0].reason, "total cap");
  EXPECT_EQ(table.Find("b1"), nullptr);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.CountFor("b"), 0u);
}

TEST(SessionTableTest, RemovesOnlyTheSessionsIdleSinceTheCutoff) {
  SessionTable table(10, 10);
  table.Add(Make("s1", "a", 0));
  table.Add(Make("s2", "a", 1));
  table.Add(Make("s3", "b", 2));
  table.Touch("s1", At(5));
  EXPECT_EQ(table.RemoveUsedBefore(At(2)), 1u);  // s2; s3 was used exactly at the cutoff
  EXPECT_EQ(table.Find("s2"), nullptr);
  EXPECT_NE(table.Find("s3"), nullptr);
  EXPECT_EQ(table.RemoveUsedBefore(At(6)), 2u);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.RemoveUsedBefore(At(100)), 0u);
}

TEST(SessionTableTest, TouchOfAnUnknownSessionChangesNothing) {
  SessionTable table(2, 2);
  table.Add(Make("s1", "a", 0));
  table.Touch("nope", At(9));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.Find("s1")->last_used, At(0));
}

}  // namespace
}  // namespace swarm::mcp
