#include "core/mcp_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace swarm {
namespace {

constexpr std::string_view kDomain = "agent-swarm mcp v1\n";
constexpr std::size_t kMacBytes = 32;  // SHA-256
constexpr std::size_t kMaxTaskIdBytes = 256;

std::string Hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

std::string MacHex(std::string_view key, std::string_view agent_id, std::string_view task_id) {
  std::string message;
  message.reserve(kDomain.size() + agent_id.size() + 1 + task_id.size());
  message.append(kDomain).append(agent_id).append("\n").append(task_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(),
       &mac_len);
  return Hex(mac.data(), mac_len);
}

}  // namespace

std::string MintMcpTaskToken(std::string_view key, std::string_view agent_id,
                             std::string_view task_id) {
  std::string token(kMcpTokenPrefix);
  token.append(task_id).append(".").append(MacHex(key, agent_id, task_id));
  return token;
}

std::optional<std::string> VerifyMcpTaskToken(std::string_view key, std::string_view agent_id,
                                              std::string_view token) {
  if (key.empty() || !token.starts_with(kMcpTokenPrefix)) return std::nullopt;
  token.remove_prefix(kMcpTokenPrefix.size());
  const std::size_t dot = token.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot > kMaxTaskIdBytes) return std::nullopt;
  const std::string_view task_id = token.substr(0, dot);
  const std::string_view mac = token.substr(dot + 1);
  if (mac.size() != kMacBytes * 2 || task_id.find('.') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string expected = MacHex(key, agent_id, task_id);
  if (CRYPTO_memcmp(expected.data(), mac.data(), expected.size()) != 0) return std::nullopt;
  return std::string(task_id);
}

}  // namespace swarm
