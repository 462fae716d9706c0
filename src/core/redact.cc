#include "core/redact.h"

#include <memory>
#include <mutex>
#include <vector>

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

}  // namespace

void RegisterSecret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard lock(g_mu);
  auto next = std::make_shared<std::vector<std::string>>(*g_secrets);
  for (const auto& s : *next) {
    if (s == secret) return;
  }
  next->emplace_back(secret);
  g_secrets = std::move(next);
}

std::string Redact(std::string text) {
  auto secrets = Snapshot();
  for (const auto& secret : *secrets) {
    for (auto pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + kRedacted.size())) {
      text.replace(pos, secret.size(), kRedacted);
    }
  }
  return text;
}

void ClearSecretsForTest() {
  std::lock_guard lock(g_mu);
  g_secrets = std::make_shared<const std::vector<std::string>>();
}

}  // namespace swarm
