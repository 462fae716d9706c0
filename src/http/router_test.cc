#include "http/router.h"

#include <gtest/gtest.h>

namespace swarm::http {
namespace {

boost::asio::awaitable<HttpResponse> Ok(HttpRequest, PathParams) { co_return HttpResponse{}; }

Router MakeRouter() {
  Router router;
  router.Add("GET", "/health", Access::kPublic, Ok);
  router.Add("GET", "/api/tasks/{id}", Access::kAuthenticated, Ok);
  router.Add("POST", "/api/tasks/{id}/finish", Access::kAuthenticated, Ok);
  router.Add("GET", "/api/tasks", Access::kAuthenticated, Ok);
  return router;
}

TEST(Router, MatchesLiteralRoutes) {
  auto router = MakeRouter();
  auto m = router.Find("GET", "/health");
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(m.route->pattern, "/health");
  EXPECT_EQ(m.route->access, Access::kPublic);
}

TEST(Router, BindsParameters) {
  auto router = MakeRouter();
  auto m = router.Find("POST", "/api/tasks/abc-123/finish");
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(m.params.Get("id"), "abc-123");
  EXPECT_EQ(m.params.Get("missing"), "");
}

TEST(Router, DistinguishesWrongMethodFromUnknownPath) {
  auto router = MakeRouter();
  EXPECT_EQ(router.Find("DELETE", "/api/tasks/x").kind, Router::MatchKind::kMethodNotAllowed);
  EXPECT_EQ(router.Find("GET", "/api/nothing").kind, Router::MatchKind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/api/tasks/x/y").kind, Router::MatchKind::kNotFound);
}

TEST(Router, EmptySegmentNeverBindsAParameter) {
  auto router = MakeRouter();
  EXPECT_EQ(router.Find("POST", "/api/tasks//finish").kind, Router::MatchKind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/api/tasks/").kind, Router::MatchKind::kNotFound);
}

}  // namespace
}  // namespace swarm::http
