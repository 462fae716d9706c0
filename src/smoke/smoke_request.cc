#include "smoke/smoke_request.h"

// TODO(issue 8): a minimal ProviderCredentialVars so the runner builds before the request
// parser (wip-api) lands on main; that branch's smoke_request.cc replaces this file whole.

namespace swarm::smoke {

const std::vector<std::string>& ProviderCredentialVars(const std::string& provider) {
  static const std::vector<std::string> kClaude = {"ANTHROPIC_API_KEY"};
  static const std::vector<std::string> kCodex = {"OPENAI_API_KEY"};
  static const std::vector<std::string> kAny = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY",
                                                "OPENROUTER_API_KEY"};
  static const std::vector<std::string> kNone;
  if (provider == "claude") return kClaude;
  if (provider == "codex") return kCodex;
  if (provider == "pi" || provider == "opencode") return kAny;
  return kNone;
}

}  // namespace swarm::smoke
