#include "worker/env_values.h"

#include <gtest/gtest.h>

namespace swarm::worker {
namespace {

using std::chrono::milliseconds;

TEST(EnvValue, TrimsAndTreatsBlankAsUnset) {
  EnvMap env = {{"A", "  x  "}, {"B", "   "}, {"C", ""}};
  EXPECT_EQ(EnvValue(env, "A"), "x");
  EXPECT_EQ(EnvValue(env, "B"), std::nullopt);
  EXPECT_EQ(EnvValue(env, "C"), std::nullopt);
  EXPECT_EQ(EnvValue(env, "D"), std::nullopt);
}

TEST(ParseBoolVar, AcceptsTheUsualSpellings) {
  for (const char* yes : {"true", "TRUE", "1", "yes", "On"}) {
    EXPECT_EQ(ParseBoolVar({{"X", yes}}, "X", false), true) << yes;
  }
  for (const char* no : {"false", "False", "0", "no", "OFF"}) {
    EXPECT_EQ(ParseBoolVar({{"X", no}}, "X", true), false) << no;
  }
  EXPECT_EQ(ParseBoolVar({}, "X", true), true);
}

TEST(ParseBoolVar, RejectsOthersNamingTheVariable) {
  auto r = ParseBoolVar({{"WORKER_YOLO", "maybe"}}, "WORKER_YOLO", false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("WORKER_YOLO"), std::string::npos);
  EXPECT_NE(r.error().message.find("maybe"), std::string::npos);
}

TEST(ParseIntVar, ChecksRangeAndSyntax) {
  EXPECT_EQ(ParseIntVar({{"N", "7"}}, "N", 1, 100, 1), 7);
  EXPECT_EQ(ParseIntVar({}, "N", 1, 100, 3), 3);
  for (const char* bad : {"0", "101", "-1", "2x", "1.5", "abc"}) {
    auto r = ParseIntVar({{"N", bad}}, "N", 1, 100, 1);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("N must be an integer from 1 to 100"), std::string::npos);
  }
}

TEST(ParseDurationVar, ScalesFractionsByTheUnit) {
  EXPECT_EQ(ParseDurationVar({{"T", "1.5"}}, "T", milliseconds(1000), 0, 10, milliseconds(9)),
            milliseconds(1500));
  EXPECT_EQ(ParseDurationVar({{"T", "250"}}, "T", milliseconds(1), 0, 1000, milliseconds(9)),
            milliseconds(250));
  EXPECT_EQ(ParseDurationVar({}, "T", milliseconds(1000), 0, 10, milliseconds(9)), milliseconds(9));
  for (const char* bad : {"-1", "11", "nan", "inf", "1s", ""}) {
    if (std::string(bad).empty()) continue;  // blank is unset
    EXPECT_FALSE(ParseDurationVar({{"T", bad}}, "T", milliseconds(1000), 0, 10, milliseconds(9)))
        << bad;
  }
}

TEST(NormalizeBaseUrl, StripsTrailingSlashesAndRequiresHttp) {
  EXPECT_EQ(NormalizeBaseUrl("U", "http://127.0.0.1:3013/"), "http://127.0.0.1:3013");
  EXPECT_EQ(NormalizeBaseUrl("U", " https://api.example.com/v1// "), "https://api.example.com/v1");
  for (const char* bad : {"127.0.0.1:3013", "ftp://x", "http://", "http:/x"}) {
    auto r = NormalizeBaseUrl("MCP_BASE_URL", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("MCP_BASE_URL"), std::string::npos);
  }
}

}  // namespace
}  // namespace swarm::worker
