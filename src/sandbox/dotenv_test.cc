#include "sandbox/dotenv.h"

#include <fstream>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace swarm::sandbox {
namespace {

TEST(DotenvTest, ParsesPlainExportedAndCommentedLines) {
  const StringMap env = ParseDotenv(
      "# a comment\n"
      "\n"
      "PLAIN=value\n"
      "export EXPORTED=yes\n"
      "  SPACED  =  around  \n"
      "WITH_COMMENT=abc #trailing\n"
      "HASH_INSIDE=a#b\n"
      "EMPTY=\n"
      "CRLF=line\r\n");
  EXPECT_EQ(env.at("PLAIN"), "value");
  EXPECT_EQ(env.at("EXPORTED"), "yes");
  EXPECT_EQ(env.at("SPACED"), "around");
  EXPECT_EQ(env.at("WITH_COMMENT"), "abc");
  EXPECT_EQ(env.at("HASH_INSIDE"), "a#b");
  EXPECT_EQ(env.at("EMPTY"), "");
  EXPECT_EQ(env.at("CRLF"), "line");
  EXPECT_EQ(env.size(), 7u);
}

TEST(DotenvTest, DoubleQuotesTakeEscapesSingleQuotesAreLiteral) {
  const StringMap env = ParseDotenv(R"(DQ="a\nb\tc\"d\\e\x # not a comment" # comment)"
                                    "\n"
                                    R"(SQ='raw\n # kept')"
                                    "\n");
  EXPECT_EQ(env.at("DQ"), "a\nb\tc\"d\\e\\x # not a comment");
  EXPECT_EQ(env.at("SQ"), "raw\\n # kept");
}

TEST(DotenvTest, SkipsInvalidKeysAndLinesWithoutEquals) {
  const StringMap env = ParseDotenv("1BAD=x\nBAD-KEY=y\nno equals here\n=novalue\nGOOD_1=z\n");
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env.at("GOOD_1"), "z");
}

TEST(DotenvTest, LaterLinesWin) { EXPECT_EQ(ParseDotenv("K=1\nK=2\n").at("K"), "2"); }

TEST(DotenvTest, ValidKeys) {
  EXPECT_TRUE(IsValidEnvKey("_A1"));
  EXPECT_TRUE(IsValidEnvKey("lower_case"));
  EXPECT_FALSE(IsValidEnvKey(""));
  EXPECT_FALSE(IsValidEnvKey("9A"));
  EXPECT_FALSE(IsValidEnvKey("A B"));
}

TEST(DotenvTest, ReadsFilesAndNamesTheMissingOne) {
  testing_support::TempDir dir;
  const std::string path = dir.path() + "/x.env";
  std::ofstream(path) << "A=1\n";
  auto env = ReadDotenvFile(path);
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->at("A"), "1");
  auto missing = ReadDotenvFile(dir.path() + "/nope.env");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.env"), std::string::npos);
}

TEST(DotenvTest, RefusesAnOversizedFile) {
  testing_support::TempDir dir;
  const std::string path = dir.path() + "/big.env";
  std::ofstream(path) << std::string(kMaxDotenvBytes + 1, 'x');
  EXPECT_FALSE(ReadDotenvFile(path));
}

}  // namespace
}  // namespace swarm::sandbox
