#include "sandbox/env_redaction.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "core/redact.h"

namespace swarm::sandbox {
namespace {

constexpr std::array<std::string_view, 22> kSensitiveKeys = {"API_KEY",
                                                             "AGENT_SWARM_API_KEY",
                                                             "SECRETS_ENCRYPTION_KEY",
                                                             "ANTHROPIC_API_KEY",
                                                             "CLAUDE_CODE_OAUTH_TOKEN",
                                                             "OPENAI_API_KEY",
                                                             "OPENROUTER_API_KEY",
                                                             "GITHUB_TOKEN",
                                                             "GITLAB_TOKEN",
                                                             "LINEAR_API_KEY",
                                                             "SLACK_BOT_TOKEN",
                                                             "SLACK_SIGNING_SECRET",
                                                             "SLACK_APP_TOKEN",
                                                             "BUSINESS_USE_API_KEY",
                                                             "SENTRY_AUTH_TOKEN",
                                                             "OTEL_EXPORTER_OTLP_HEADERS",
                                                             "SIGNOZ_INGESTION_KEY",
                                                             "DEVIN_API_KEY",
                                                             "MANAGED_GITHUB_TOKEN",
                                                             "E2B_API_KEY",
                                                             "E2B_ACCESS_TOKEN",
                                                             "SANDBOXD_API_KEY"};

constexpr std::array<std::string_view, 5> kSensitiveSuffixes = {"_API_KEY", "_TOKEN", "_SECRET",
                                                                "_PASSWORD", "_PRIVATE_KEY"};

constexpr std::array<std::string_view, 4> kNeverSensitive = {"MCP_BASE_URL", "APP_URL", "API_URL",
                                                             "TEMPLATE_REGISTRY_URL"};

// Prefixes of the credentials most likely to show up in a worker's log; the word that follows
// must be long enough to be a token, not prose ("sk-learn").
constexpr std::array<std::string_view, 12> kTokenPrefixes = {
    "sk-ant-", "sk-or-",      "sk-proj-", "sk-",   "ghp_",  "gho_",
    "ghs_",    "github_pat_", "glpat-",   "xoxb-", "xoxp-", "e2b_"};
constexpr std::size_t kMinTokenBody = 16;

bool IsTokenChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; }

std::string ScrubTokenShapes(std::string text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const bool word_start = i == 0 || !IsTokenChar(static_cast<unsigned char>(text[i - 1]));
    bool replaced = false;
    if (word_start) {
      for (std::string_view prefix : kTokenPrefixes) {
        if (std::string_view(text).substr(i, prefix.size()) != prefix) continue;
        std::size_t end = i + prefix.size();
        while (end < text.size() && IsTokenChar(static_cast<unsigned char>(text[end]))) ++end;
        if (end - i - prefix.size() >= kMinTokenBody) {
          out += kRedacted;
          i = end;
          replaced = true;
        }
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

void ReplaceAll(std::string& text, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + with.size())) {
    text.replace(pos, needle.size(), with);
  }
}

// "envdAccessToken" -> "ENVD_ACCESS_TOKEN"; names already in UPPER_SNAKE stay as they are.
std::string ToUpperSnake(std::string_view key) {
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (std::isupper(c) && i > 0 && std::islower(static_cast<unsigned char>(key[i - 1]))) {
      out += '_';
    }
    out += static_cast<char>(std::toupper(c));
  }
  return out;
}

bool IsSensitiveObjectKey(std::string_view key) {
  const std::string upper = ToUpperSnake(key);
  if (IsSensitiveKey(upper)) return true;
  for (std::string_view word : {"TOKEN", "SECRET", "PASSWORD", "PRIVATE_KEY"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

bool IsSensitiveKey(std::string_view key) {
  if (std::find(kNeverSensitive.begin(), kNeverSensitive.end(), key) != kNeverSensitive.end()) {
    return false;
  }
  if (std::find(kSensitiveKeys.begin(), kSensitiveKeys.end(), key) != kSensitiveKeys.end()) {
    return true;
  }
  for (std::string_view suffix : kSensitiveSuffixes) {
    if (key.ends_with(suffix)) return true;
  }
  if (key == "codex_oauth") return true;
  if (key.starts_with("codex_oauth_")) {
    const std::string_view n = key.substr(12);
    return !n.empty() &&
           std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  return false;
}

std::string RedactWithEnv(std::string text, const StringMap& env, const StringMap& controller_env) {
  std::vector<std::pair<std::string_view, std::string_view>> secrets;  // value, key
  for (const auto& [key, value] : env) {
    if (value.size() >= 8 && IsSensitiveKey(key)) secrets.emplace_back(value, key);
  }
  std::stable_sort(secrets.begin(), secrets.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [value, key] : secrets) {
    ReplaceAll(text, value, "[REDACTED:" + std::string(key) + "]");
  }
  text = ScrubTokenShapes(std::move(text));
  std::vector<std::string_view> own;
  for (const auto& [key, value] : controller_env) {
    if (value.size() >= 12 && IsSensitiveKey(key)) own.push_back(value);
  }
  std::sort(own.begin(), own.end(), [](auto a, auto b) { return a.size() > b.size(); });
  for (std::string_view value : own) ReplaceAll(text, value, kRedacted);
  return Redact(std::move(text));
}

nlohmann::json RedactObjectWithEnv(const nlohmann::json& value) {
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(RedactObjectWithEnv(item));
    return out;
  }
  if (!value.is_object()) return value;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, item] : value.items()) {
    if (key == "envdAccessToken" || key == "trafficAccessToken") continue;
    if (IsSensitiveObjectKey(key)) {
      out[key] = "[REDACTED:" + key + "]";
    } else {
      out[key] = RedactObjectWithEnv(item);
    }
  }
  return out;
}

nlohmann::json RedactedEnvJson(const StringMap& env) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : env) {
    out[key] = IsSensitiveObjectKey(key) ? "[REDACTED:" + key + "]" : value;
  }
  return out;
}

}  // namespace swarm::sandbox
