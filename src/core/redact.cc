#include "core/redact.h"

#include <cctype>
#include <memory>
#include <mutex>
#include <vector>

#include "core/json_writer.h"

namespace swarm {
namespace {

// Copy-on-write list: readers take a snapshot without holding the lock while scanning.
std::mutex g_mu;
std::shared_ptr<const std::vector<std::string>> g_secrets =
    std::make_shared<const std::vector<std::string>>();

std::shared_ptr<const std::vector<std::string>> Snapshot() {
  std::lock_guard lock(g_mu);
  return g_secrets;
}

void AddLocked(std::vector<std::string>& list, std::string value) {
  for (const auto& s : list) {
    if (s == value) return;
  }
  list.push_back(std::move(value));
}

// unreserved / pct-encoded / sub-delims / ":" (RFC 3986 §3.2.1).
bool IsUserInfoChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '%':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
      return true;
    default:
      return false;
  }
}

}  // namespace

void RegisterSecret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::string escaped;
  AppendJsonString(escaped, secret);
  escaped = escaped.substr(1, escaped.size() - 2);  // without the quotes
  std::lock_guard lock(g_mu);
  auto next = std::make_shared<std::vector<std::string>>(*g_secrets);
  // The longer form first: once `a\"b` is replaced, `a"b` cannot match inside it.
  if (escaped != secret) AddLocked(*next, escaped);
  AddLocked(*next, std::string(secret));
  g_secrets = std::move(next);
}

std::string RedactUrlCredentials(std::string_view text) {
  constexpr std::string_view kSchemeEnd = "://";
  std::string out;
  std::size_t copied = 0;
  for (auto pos = text.find(kSchemeEnd); pos != std::string_view::npos;
       pos = text.find(kSchemeEnd, pos + kSchemeEnd.size())) {
    const std::size_t start = pos + kSchemeEnd.size();
    std::size_t end = start;
    while (end < text.size() && IsUserInfoChar(static_cast<unsigned char>(text[end]))) ++end;
    if (end == start || end >= text.size() || text[end] != '@') continue;
    out.append(text.substr(copied, start - copied));
    out.append(kRedacted);
    copied = end;
  }
  out.append(text.substr(copied));
  return out;
}

std::string Redact(std::string text) {
  auto secrets = Snapshot();
  for (const auto& secret : *secrets) {
    for (auto pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + kRedacted.size())) {
      text.replace(pos, secret.size(), kRedacted);
    }
  }
  if (text.find("://") == std::string::npos) return text;
  return RedactUrlCredentials(text);
}

void ClearSecretsForTest() {
  std::lock_guard lock(g_mu);
  g_secrets = std::make_shared<const std::vector<std::string>>();
}

}  // namespace swarm
