#include "harness/pricing.h"

#include <gtest/gtest.h>

namespace swarm::harness {
namespace {

TEST(FindModelPrice, MatchesExactAndDatedNames) {
  ASSERT_TRUE(FindModelPrice("gpt-5").has_value());
  EXPECT_EQ(FindModelPrice("gpt-5")->model, "gpt-5");
  EXPECT_EQ(FindModelPrice("gpt-5-2025-08-07")->model, "gpt-5");
  EXPECT_EQ(FindModelPrice("claude-sonnet-4-5-20250929")->model, "claude-sonnet-4");
  EXPECT_DOUBLE_EQ(FindModelPrice("claude-sonnet-4-5")->input_per_mtok, 3.0);
}

TEST(FindModelPrice, PrefersTheLongestMatch) {
  EXPECT_EQ(FindModelPrice("gpt-5-mini")->model, "gpt-5-mini");
  EXPECT_EQ(FindModelPrice("gpt-4o-mini-2024-07-18")->model, "gpt-4o-mini");
  EXPECT_DOUBLE_EQ(FindModelPrice("claude-opus-4-5")->output_per_mtok, 25.0);
  EXPECT_DOUBLE_EQ(FindModelPrice("claude-opus-4-1")->output_per_mtok, 75.0);
}

TEST(FindModelPrice, NormalisesRoutingPrefixesSuffixesAndCase) {
  EXPECT_EQ(FindModelPrice("openai/gpt-4o")->model, "gpt-4o");
  EXPECT_EQ(FindModelPrice("swarm/anthropic/claude-haiku-4-5")->model, "claude-haiku-4-5");
  EXPECT_EQ(FindModelPrice("claude-opus-4-5[1m]")->model, "claude-opus-4-5");
  EXPECT_EQ(FindModelPrice("GPT-4.1")->model, "gpt-4.1");
}

TEST(FindModelPrice, DoesNotGuess) {
  EXPECT_EQ(FindModelPrice("gpt-5.5"), std::nullopt);  // not a variant of gpt-5
  EXPECT_EQ(FindModelPrice("gpt-50"), std::nullopt);
  EXPECT_EQ(FindModelPrice("claude-opus-4-8"), std::nullopt);
  EXPECT_EQ(FindModelPrice("fake-model"), std::nullopt);
  EXPECT_EQ(FindModelPrice(""), std::nullopt);
}

TEST(PriceTokens, ChargesInputAndOutputPerMillion) {
  EXPECT_DOUBLE_EQ(PriceTokens("gpt-5", 1'000'000, 1'000'000).value_or(-1), 11.25);
  EXPECT_DOUBLE_EQ(PriceTokens("gpt-4o-mini", 1000, 500).value_or(-1),
                   (1000 * 0.15 + 500 * 0.6) / 1e6);
  EXPECT_EQ(PriceTokens("fake-model", 1000, 500), std::nullopt);
}

}  // namespace
}  // namespace swarm::harness
