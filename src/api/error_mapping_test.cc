#include "api/error_mapping.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(ErrorMapping, EachCodeHasItsStatus) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kForbidden), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
}

TEST(ErrorMapping, ClientErrorsKeepTheirMessage) {
  auto r = ErrorResponse({ErrorCode::kNotFound, "task x not found"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"task x not found"})");
}

TEST(ErrorMapping, InternalDetailStaysOutOfTheBody) {
  auto r = ErrorResponse({ErrorCode::kInternal, "sqlite: disk image is malformed at /secret"});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(ErrorMapping, UnavailableSaysWhenToRetry) {
  auto r = ErrorResponse({ErrorCode::kUnavailable, "too many task creations are waiting"});
  EXPECT_EQ(r.status, 503);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "1");
  EXPECT_TRUE(ErrorResponse({ErrorCode::kNotFound, "x"}).headers.empty());
}

}  // namespace
}  // namespace swarm
