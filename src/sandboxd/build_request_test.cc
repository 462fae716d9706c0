#include "sandboxd/build_request.h"

#include <gtest/gtest.h>

namespace swarm::sandboxd {
namespace {

using nlohmann::json;

TEST(BuildRequestTest, ReadsTheSdksBuildBody) {
  auto request = ParseBuildRequest(
      {{"fromImage", "ubuntu:24.04"},
       {"startCmd", "sleep 100"},
       {"steps",
        {{{"type", "COPY"}, {"args", {"a", "/a", "", "0755"}}, {"filesHash", "abc123"}},
         {{"type", "ENV"}, {"args", {"A", "1"}}, {"filesHash", nullptr}, {"force", false}}}}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->from_image, "ubuntu:24.04");
  EXPECT_FALSE(request->from_template);
  ASSERT_EQ(request->steps.size(), 2u);
  EXPECT_EQ(request->steps[0].files_hash, "abc123");
  EXPECT_EQ(request->steps[1].args, (std::vector<std::string>{"A", "1"}));
  EXPECT_EQ(request->start_cmd, "sleep 100");
  EXPECT_FALSE(request->ready_cmd);
  EXPECT_EQ(ParseBuildRequest(json::object())->from_image, "e2bdev/base");
}

// Each of these once threw inside the build's thread, which ended sandboxd.
TEST(BuildRequestTest, RefusesMalformedBodiesAsBadRequest) {
  for (const json& body :
       {json::array(), json{{"fromImage", 1}}, json{{"fromImage", "a"}, {"fromTemplate", "b"}},
        json{{"steps", "COPY"}}, json{{"steps", {1}}}, json{{"steps", {{{"type", 5}}}}},
        json{{"steps", {{{"args", {"x"}}}}}}, json{{"steps", {{{"type", "RUN"}, {"args", "x"}}}}},
        json{{"steps", {{{"type", "RUN"}, {"args", {1}}}}}},
        json{{"steps", {{{"type", "COPY"}, {"args", {"a", "/a"}}, {"filesHash", "../up"}}}}},
        json{{"startCmd", {"a"}}}, json{{"readyCmd", false}}}) {
    auto request = ParseBuildRequest(body);
    ASSERT_FALSE(request) << body.dump();
    EXPECT_EQ(request.error().code, ErrorCode::kBadRequest) << body.dump();
  }
}

TEST(TemplateRequestTest, ReadsNameTagsAndResources) {
  auto request = ParseTemplateRequest(
      {{"name", "team/worker:v1"}, {"tags", {"latest"}}, {"cpuCount", 4}, {"memoryMB", 2048}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->full_name, "team/worker:v1");
  EXPECT_EQ(request->tags, std::vector<std::string>{"latest"});
  EXPECT_EQ(request->cpu_count, 4);
  EXPECT_EQ(request->memory_mb, 2048);
  EXPECT_EQ(ParseTemplateRequest({{"alias", "w"}})->full_name, "w");
}

TEST(TemplateRequestTest, RefusesMalformedBodiesAsBadRequest) {
  for (const json& body :
       {json::object(), json{{"name", 7}}, json{{"name", "bad name!"}},
        json{{"name", std::string(200, 'a')}}, json{{"name", "w"}, {"cpuCount", "2"}},
        json{{"name", "w"}, {"cpuCount", 1e30}}, json{{"name", "w"}, {"memoryMB", 1ull << 63}},
        json{{"name", "w"}, {"memoryMB", 64}}, json{{"name", "w"}, {"tags", {"a b"}}}}) {
    auto request = ParseTemplateRequest(body);
    ASSERT_FALSE(request) << body.dump();
    EXPECT_EQ(request.error().code, ErrorCode::kBadRequest) << body.dump();
  }
}

}  // namespace
}  // namespace swarm::sandboxd
