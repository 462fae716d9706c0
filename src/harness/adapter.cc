#include "harness/adapter.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "harness/claude_adapter.h"
#include "harness/codex_adapter.h"
#include "harness/opencode_adapter.h"
#include "harness/pi_adapter.h"

namespace swarm::harness {

const char* ProviderName(Provider provider) {
  switch (provider) {
    case Provider::kClaude:
      return "claude";
    case Provider::kCodex:
      return "codex";
    case Provider::kOpencode:
      return "opencode";
    case Provider::kPi:
      return "pi";
  }
  return "unknown";
}

std::optional<Provider> ParseProvider(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (Provider provider :
       {Provider::kClaude, Provider::kCodex, Provider::kOpencode, Provider::kPi}) {
    if (lower == ProviderName(provider)) return provider;
  }
  return std::nullopt;
}

const char* McpStatusName(McpStatus status) {
  switch (status) {
    case McpStatus::kOff:
      return "off";
    case McpStatus::kUnknown:
      return "unknown";
    case McpStatus::kConnected:
      return "connected";
    case McpStatus::kPending:
      return "pending";
    case McpStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

bool FinishedThroughMcp(const RunResult& result) {
  return std::any_of(result.mcp_calls.begin(), result.mcp_calls.end(), [](const McpToolCall& c) {
    return c.tool == "store-progress" && c.status_argument && c.is_error == false;
  });
}

std::unique_ptr<Adapter> MakeAdapter(Provider provider) {
  switch (provider) {
    case Provider::kClaude:
      return std::make_unique<ClaudeAdapter>();
    case Provider::kCodex:
      return std::make_unique<CodexAdapter>();
    case Provider::kOpencode:
      return std::make_unique<OpencodeAdapter>();
    case Provider::kPi:
      return std::make_unique<PiAdapter>();
  }
  return nullptr;
}

}  // namespace swarm::harness
