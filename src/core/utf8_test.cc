#include "core/utf8.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(Utf8SequenceLength, ValidSequences) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x9C\x93", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80", 0), 4u);
}

TEST(Utf8SequenceLength, InvalidSequences) {
  EXPECT_EQ(Utf8SequenceLength("\xFF", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("\x80", 0), 0u);              // stray continuation
  EXPECT_EQ(Utf8SequenceLength("\xE2\x9C", 0), 0u);          // cut
  EXPECT_EQ(Utf8SequenceLength("\xC0\xAF", 0), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80", 0), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80", 0), 0u);  // past U+10FFFF
}

TEST(SanitizeUtf8, ReplacesEachBadByte) {
  EXPECT_EQ(SanitizeUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xE2\x9C"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8Prefix, CutsOnACharacterBoundary) {
  EXPECT_EQ(Utf8Prefix("abc", 5), "abc");
  EXPECT_EQ(Utf8Prefix("abc", 2), "ab");
  const std::string wide =
      "a\xC3\xA9"
      "b";                              // a é b
  EXPECT_EQ(Utf8Prefix(wide, 2), "a");  // not half of é
  EXPECT_EQ(Utf8Prefix(wide, 3), "a\xC3\xA9");
  EXPECT_EQ(Utf8Prefix("\xE2\x82\xAC", 2), "");  // € cut inside: nothing
  EXPECT_EQ(Utf8Prefix("abc", 0), "");
}

TEST(Utf8PrefixChars, CountsCharactersNotBytes) {
  EXPECT_EQ(Utf8PrefixChars("héllo", 2), "hé");
  EXPECT_EQ(Utf8PrefixChars("日本語", 2), "日本");
  EXPECT_EQ(Utf8PrefixChars("日本語", 3), "日本語");
  EXPECT_EQ(Utf8PrefixChars("日本語", 10), "日本語");
  EXPECT_EQ(Utf8PrefixChars("abc", 0), "");
  EXPECT_EQ(Utf8PrefixChars("", 5), "");
}

}  // namespace
}  // namespace swarm
