// Small string helpers shared by the layers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace swarm {

// "a, b,,c" → {"a", "b", "c"}: comma-separated items, trimmed, empty ones dropped.
std::vector<std::string> SplitCsv(std::string_view text);

}  // namespace swarm
