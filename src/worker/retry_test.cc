#include "worker/retry.h"

#include <set>

#include <gtest/gtest.h>

namespace swarm::worker {
namespace {

using std::chrono::milliseconds;

constexpr RetryPolicy kFast{4, milliseconds(1), milliseconds(4)};

TEST(CallWithRetry, RetriesTransientFailuresUntilSuccess) {
  int calls = 0;
  auto reply = CallWithRetry(
      [&]() -> Result<ApiReply> {
        if (++calls < 3) return Unavailable("connection refused");
        return ApiReply{200, nullptr};
      },
      kFast, "test");
  ASSERT_TRUE(reply);
  EXPECT_EQ(calls, 3);
}

TEST(CallWithRetry, GivesUpAfterTheLastAttempt) {
  int calls = 0;
  auto reply = CallWithRetry(
      [&]() -> Result<ApiReply> {
        ++calls;
        return Internal("HTTP 500: boom");
      },
      kFast, "test");
  ASSERT_FALSE(reply);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(reply.error().message, "HTTP 500: boom");
}

TEST(CallWithRetry, DoesNotRetryClientErrors) {
  for (ErrorCode code : {ErrorCode::kUnauthorized, ErrorCode::kBadRequest, ErrorCode::kConflict,
                         ErrorCode::kNotFound, ErrorCode::kForbidden}) {
    int calls = 0;
    auto reply = CallWithRetry(
        [&]() -> Result<ApiReply> {
          ++calls;
          return MakeError(code, "no");
        },
        kFast, "test");
    EXPECT_FALSE(reply);
    EXPECT_EQ(calls, 1) << ErrorCodeName(code);
  }
}

TEST(CallWithRetry, AbortEndsTheWaitingEarly) {
  std::atomic<bool> abort{true};
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  auto reply = CallWithRetry(
      [&]() -> Result<ApiReply> {
        ++calls;
        return Unavailable("down");
      },
      RetryPolicy{10, milliseconds(5'000), milliseconds(5'000)}, "test", &abort);
  EXPECT_FALSE(reply);
  EXPECT_EQ(calls, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1'000));
}

TEST(SleepUnlessAborted, SleepsTheWholeDurationOtherwise) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(SleepUnlessAborted(milliseconds(120), nullptr));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(120));
}

TEST(Backoff, StartsAtTheFloorDoublesToTheCeilingWithUpwardJitter) {
  Backoff backoff(milliseconds(100), milliseconds(350));
  const milliseconds expected[] = {milliseconds(100), milliseconds(200), milliseconds(350),
                                   milliseconds(350)};
  for (milliseconds base : expected) {
    const milliseconds got = backoff.Next();
    EXPECT_GE(got, base);
    EXPECT_LE(got, base + base / 4);
  }
  backoff.Reset();
  EXPECT_LE(backoff.Next(), milliseconds(125));
}

TEST(Jittered, SpreadsDelays) {
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(Jittered(milliseconds(1'000)).count());
  EXPECT_GT(seen.size(), 5u);  // workers restarted together do not retry in lockstep
  EXPECT_EQ(Jittered(milliseconds(0)), milliseconds(0));
}

TEST(CallUntil, KeepsRetryingPastAnyAttemptCountUntilTheDeadline) {
  int calls = 0;
  const auto deadline = Steady::now() + milliseconds(300);
  auto reply = CallUntil(
      [&]() -> Result<ApiReply> {
        if (++calls < 30) return Unavailable("connection refused");
        return ApiReply{200, nullptr};
      },
      Backoff(milliseconds(1), milliseconds(2)), [&] { return deadline; }, "test");
  ASSERT_TRUE(reply);
  EXPECT_EQ(calls, 30);
}

TEST(CallUntil, GivesUpAtTheDeadlineWithALastAttempt) {
  int calls = 0;
  const auto start = Steady::now();
  auto reply = CallUntil(
      [&]() -> Result<ApiReply> {
        ++calls;
        return Internal("HTTP 500: boom");
      },
      Backoff(milliseconds(50), milliseconds(50)), [&] { return start + milliseconds(200); },
      "test");
  const auto took = Steady::now() - start;
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().message, "HTTP 500: boom");
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(600));
  EXPECT_GE(calls, 3);
  EXPECT_LE(calls, 6);
}

TEST(CallUntil, ADeadlineThatMovesCloserEndsItSooner) {
  int calls = 0;
  const auto start = Steady::now();
  auto reply = CallUntil(
      [&]() -> Result<ApiReply> {
        ++calls;
        return Unavailable("down");
      },
      Backoff(milliseconds(20), milliseconds(20)),
      [&] { return calls < 3 ? start + milliseconds(60'000) : start; }, "test");
  EXPECT_FALSE(reply);
  EXPECT_EQ(calls, 3);
  EXPECT_LT(Steady::now() - start, milliseconds(2'000));
}

TEST(CallUntil, DoesNotRetryClientErrors) {
  int calls = 0;
  auto reply = CallUntil(
      [&]() -> Result<ApiReply> {
        ++calls;
        return MakeError(ErrorCode::kConflict, "already finished");
      },
      Backoff(milliseconds(1), milliseconds(1)),
      [&] { return Steady::now() + milliseconds(10'000); }, "test");
  EXPECT_FALSE(reply);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace swarm::worker
