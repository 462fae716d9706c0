#include "worker/log_batcher.h"

#include <thread>

#include <gtest/gtest.h>

namespace swarm::worker {
namespace {

using std::chrono::milliseconds;

struct Collected {
  std::mutex mu;
  std::vector<std::vector<std::string>> batches;
  LogBatcher::Sink Sink() {
    return [this](const std::vector<std::string>& lines) {
      std::lock_guard lock(mu);
      batches.push_back(lines);
      return true;
    };
  }
};

TEST(LogBatcher, SendsEveryFiftyLines) {
  Collected got;
  LogBatcher batcher(got.Sink(), {});
  const auto t0 = LogBatcher::Clock::now();
  for (int i = 0; i < 120; ++i) batcher.Add("line " + std::to_string(i), t0);
  EXPECT_TRUE(got.batches.empty());  // Add never sends: the CLI's reader never waits on HTTP
  batcher.FlushIfDue(t0);
  ASSERT_EQ(got.batches.size(), 2u);
  EXPECT_EQ(got.batches[0].size(), 50u);
  EXPECT_EQ(got.batches[0][0], "line 0");
  EXPECT_EQ(got.batches[1][49], "line 99");
  batcher.Flush();
  ASSERT_EQ(got.batches.size(), 3u);
  EXPECT_EQ(got.batches[2].size(), 20u);
  EXPECT_EQ(batcher.lines_added(), 120u);
  batcher.Flush();  // nothing buffered: nothing sent
  EXPECT_EQ(got.batches.size(), 3u);
}

TEST(LogBatcher, SendsWhenTheOldestLineIsDue) {
  Collected got;
  LogBatcher::Limits limits;
  limits.max_age = milliseconds(1000);
  LogBatcher batcher(got.Sink(), limits);
  const auto t0 = LogBatcher::Clock::now();
  batcher.Add("a", t0);
  batcher.Add("b", t0 + milliseconds(600));
  batcher.FlushIfDue(t0 + milliseconds(999));
  EXPECT_TRUE(got.batches.empty());
  batcher.FlushIfDue(t0 + milliseconds(1000));
  ASSERT_EQ(got.batches.size(), 1u);
  EXPECT_EQ(got.batches[0], (std::vector<std::string>{"a", "b"}));
  // The age restarts with the next line.
  batcher.Add("c", t0 + milliseconds(1500));
  batcher.FlushIfDue(t0 + milliseconds(2000));
  EXPECT_EQ(got.batches.size(), 1u);
}

TEST(LogBatcher, BoundsBatchBytesAndCutsHugeLines) {
  Collected got;
  LogBatcher::Limits limits;
  limits.max_bytes = 100;
  limits.max_line_bytes = 40;
  LogBatcher batcher(got.Sink(), limits);
  const auto t0 = LogBatcher::Clock::now();
  batcher.Add(std::string(1000, 'x'), t0);
  batcher.Add(std::string(30, 'y'), t0);
  batcher.Add(std::string(30, 'z'), t0);  // 40 + cut marker + 30 + 30 > 100
  batcher.FlushIfDue(t0);
  ASSERT_EQ(got.batches.size(), 1u);
  ASSERT_EQ(got.batches[0].size(), 2u);
  EXPECT_EQ(got.batches[0][0].substr(0, 40), std::string(40, 'x'));
  EXPECT_NE(got.batches[0][0].find("cut 960 bytes"), std::string::npos);
  EXPECT_EQ(got.batches[0][1], std::string(30, 'y'));
  batcher.Flush();
  ASSERT_EQ(got.batches.size(), 2u);
  EXPECT_EQ(got.batches[1], std::vector<std::string>{std::string(30, 'z')});
}

TEST(LogBatcher, DropsLinesPastTheBufferLimitAndSaysSo) {
  Collected got;
  LogBatcher::Limits limits;
  limits.max_buffered_lines = 3;
  LogBatcher batcher(got.Sink(), limits);
  for (int i = 0; i < 5; ++i) batcher.Add(std::to_string(i));
  batcher.Flush();
  batcher.Add("after");
  batcher.Flush();
  ASSERT_EQ(got.batches.size(), 2u);
  EXPECT_EQ(got.batches[0], (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(got.batches[1],
            (std::vector<std::string>{"[agent-swarm worker: 2 lines dropped, the API fell behind]",
                                      "after"}));
  EXPECT_EQ(batcher.lines_added(), 6u);
}

TEST(LogBatcher, BatchesStayInOrderUnderConcurrentFlushes) {
  std::mutex mu;
  std::vector<std::string> sent;
  LogBatcher::Limits limits;
  limits.max_lines = 7;
  limits.max_age = milliseconds(0);
  LogBatcher batcher(
      [&](const std::vector<std::string>& lines) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));  // a slow POST
        std::lock_guard lock(mu);
        sent.insert(sent.end(), lines.begin(), lines.end());
        return true;
      },
      limits);
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done) batcher.FlushIfDue(LogBatcher::Clock::now());
  });
  for (int i = 0; i < 2000; ++i) batcher.Add(std::to_string(i));
  done = true;
  flusher.join();
  batcher.Flush();
  ASSERT_EQ(sent.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(sent[i], std::to_string(i));
}

TEST(LogBatcher, ABatchTheSinkCouldNotSendIsKeptInOrder) {
  bool api_up = false;
  std::vector<std::string> sent;
  int attempts = 0;
  LogBatcher::Limits limits;
  limits.max_lines = 2;
  LogBatcher batcher(
      [&](const std::vector<std::string>& lines) {
        ++attempts;
        if (!api_up) return false;
        sent.insert(sent.end(), lines.begin(), lines.end());
        return true;
      },
      limits);
  const auto t0 = LogBatcher::Clock::now();
  for (int i = 0; i < 5; ++i) batcher.Add("l" + std::to_string(i), t0);
  batcher.FlushIfDue(t0);
  EXPECT_EQ(attempts, 1);  // stops at the first failure instead of trying every batch
  EXPECT_FALSE(batcher.Flush());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(batcher.buffered(), 5u);
  batcher.Add("l5", t0);
  api_up = true;
  EXPECT_TRUE(batcher.Flush());
  EXPECT_EQ(sent, (std::vector<std::string>{"l0", "l1", "l2", "l3", "l4", "l5"}));
  EXPECT_EQ(batcher.buffered(), 0u);
}

}  // namespace
}  // namespace swarm::worker
