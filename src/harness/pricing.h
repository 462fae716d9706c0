// A small price table, for CLIs that report tokens but no cost (codex), and to give opencode
// and pi the per-model prices they compute their own cost from. Prices are USD per million
// tokens as published by the vendors; a model not listed is unpriced rather than guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace swarm::harness {

struct ModelPrice {
  std::string_view model;  // the canonical name the entry is for
  double input_per_mtok = 0;
  double output_per_mtok = 0;
};

// The price for `model`: matched case-insensitively after dropping a routing prefix
// ("openai/gpt-5" → "gpt-5") and a bracketed suffix ("claude-opus-4-5[1m]"), either exactly or
// as a dated/variant name ("gpt-5-2025-08-07" is "gpt-5"); the longest match wins.
std::optional<ModelPrice> FindModelPrice(std::string_view model);

// Input tokens × input price + output tokens × output price, if the model is in the table.
// Cache tokens are not priced separately: OpenAI counts cached tokens inside input_tokens, so
// adding them would count them twice.
std::optional<double> PriceTokens(std::string_view model, int64_t input_tokens,
                                  int64_t output_tokens);

}  // namespace swarm::harness
