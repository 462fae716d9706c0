#include "worker/retry.h"

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

}  // namespace
}  // namespace swarm::worker
