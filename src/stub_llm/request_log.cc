#include "stub_llm/request_log.h"

#include <array>
#include <cctype>
#include <mutex>
#include <set>
#include <string>

#include "core/redact.h"

namespace swarm::stub_llm {
namespace {

// Each distinct key costs a pass over every later log line; a handful of CLIs send a handful
// of keys, so this bound is never reached in use and only stops a client that sends a new
// "key" with every request from growing the list without end.
constexpr std::size_t kMaxRegisteredSecrets = 64;

constexpr std::array<std::string_view, 6> kSensitiveParts = {"auth",   "key",      "token",
                                                             "secret", "password", "cookie"};

bool ContainsSensitivePart(std::string_view lower_name) {
  for (std::string_view part : kSensitiveParts) {
    if (lower_name.find(part) != std::string_view::npos) return true;
  }
  return false;
}

void RegisterSeen(std::string_view value) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> seen;
  // "Bearer sk-…": the credential is the part after the scheme.
  for (std::string_view scheme : {"Bearer ", "bearer ", "Basic ", "basic "}) {
    if (value.substr(0, scheme.size()) == scheme) value.remove_prefix(scheme.size());
  }
  std::lock_guard lock(mu);
  if (seen.count(value) == 0) {
    if (seen.size() >= kMaxRegisteredSecrets) return;
    seen.emplace(value);
  }
  RegisterSecret(value);  // idempotent; again each time in case the registry was cleared
}

std::string Placeholder(std::size_t bytes) {
  return std::string(kRedacted) + " (" + std::to_string(bytes) + " bytes)";
}

}  // namespace

bool IsSensitiveHeader(std::string_view lower_name) { return ContainsSensitivePart(lower_name); }

nlohmann::json RedactedHeaders(const http::HeaderList& headers) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : headers) {
    if (IsSensitiveHeader(name)) {
      RegisterSeen(value);
      out[name] = Placeholder(value.size());
    } else {
      out[name] = value;
    }
  }
  return out;
}

std::string RedactedQuery(std::string_view query) {
  std::string out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (!out.empty()) out += '&';
    const std::size_t eq = pair.find('=');
    std::string name(pair.substr(0, eq));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (eq != std::string_view::npos && ContainsSensitivePart(name)) {
      out += pair.substr(0, eq + 1);
      out += kRedacted;
    } else {
      out += pair;
    }
  }
  return out;
}

}  // namespace swarm::stub_llm
