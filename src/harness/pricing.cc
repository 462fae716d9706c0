#include "harness/pricing.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace swarm::harness {
namespace {

// Keep each family's specific variants listed: matching is by prefix at a '-' boundary, so
// "gpt-5-mini" must be its own entry or it would be priced as "gpt-5". Opus 4 and 4.1 cost
// three times what Opus 4.5 does, so there is no bare "claude-opus-4" entry.
constexpr ModelPrice kPrices[] = {
    {"claude-opus-4-5", 5.0, 25.0},  {"claude-opus-4-1", 15.0, 75.0},
    {"claude-opus-4-0", 15.0, 75.0}, {"claude-opus-4-20250514", 15.0, 75.0},
    {"claude-sonnet-4", 3.0, 15.0},  {"claude-3-7-sonnet", 3.0, 15.0},
    {"claude-haiku-4-5", 1.0, 5.0},  {"claude-3-5-haiku", 0.8, 4.0},
    {"gpt-5", 1.25, 10.0},           {"gpt-5-mini", 0.25, 2.0},
    {"gpt-5-nano", 0.05, 0.4},       {"gpt-5-pro", 15.0, 120.0},
    {"gpt-4.1", 2.0, 8.0},           {"gpt-4.1-mini", 0.4, 1.6},
    {"gpt-4.1-nano", 0.1, 0.4},      {"gpt-4o", 2.5, 10.0},
    {"gpt-4o-mini", 0.15, 0.6},      {"o3", 2.0, 8.0},
    {"o4-mini", 1.1, 4.4},
};

std::string Normalize(std::string_view model) {
  if (const size_t slash = model.rfind('/'); slash != std::string_view::npos) {
    model.remove_prefix(slash + 1);
  }
  if (const size_t bracket = model.find('['); bracket != std::string_view::npos) {
    model = model.substr(0, bracket);
  }
  std::string out(model);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool Matches(std::string_view name, std::string_view entry) {
  if (name.size() < entry.size() || name.substr(0, entry.size()) != entry) return false;
  return name.size() == entry.size() || name[entry.size()] == '-';
}

}  // namespace

std::optional<ModelPrice> FindModelPrice(std::string_view model) {
  const std::string name = Normalize(model);
  const ModelPrice* best = nullptr;
  for (const auto& entry : kPrices) {
    if (Matches(name, entry.model) &&
        (best == nullptr || entry.model.size() > best->model.size())) {
      best = &entry;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::optional<double> PriceTokens(std::string_view model, int64_t input_tokens,
                                  int64_t output_tokens) {
  const auto price = FindModelPrice(model);
  if (!price) return std::nullopt;
  return (static_cast<double>(input_tokens) * price->input_per_mtok +
          static_cast<double>(output_tokens) * price->output_per_mtok) /
         1e6;
}

}  // namespace swarm::harness
