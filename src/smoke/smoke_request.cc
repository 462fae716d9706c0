#include "smoke/smoke_request.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <boost/url/parse.hpp>

#include "core/field_reader.h"
#include "sandbox/template_client.h"

namespace swarm::smoke {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxUrlBytes = 2048;
constexpr std::size_t kMaxApiKeyBytes = 4096;
constexpr std::size_t kMaxShaBytes = 40;
constexpr std::size_t kMaxSecretsPerProvider = 32;
constexpr std::size_t kMaxSecretNameBytes = 128;
constexpr std::size_t kMaxSecretValueBytes = 8 * 1024;
constexpr int64_t kMinTimeoutMs = 1'000;
constexpr int64_t kMaxTimeoutMs = 3'600'000;
constexpr int64_t kMinSandboxTimeoutSec = 60;
constexpr int64_t kMaxSandboxTimeoutSec = 86'400;

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool IsKnownProvider(std::string_view name) {
  return std::find(std::begin(kSmokeProviders), std::end(kSmokeProviders), name) !=
         std::end(kSmokeProviders);
}

std::string ProviderList() {
  std::string out;
  for (std::string_view p : kSmokeProviders) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

// An environment variable name as the worker's shell and the sandbox API accept it, upper
// case by convention of every credential the CLIs read.
bool IsSecretName(std::string_view name) {
  if (name.empty() || name.size() > kMaxSecretNameBytes) return false;
  if (!(name[0] == '_' || (name[0] >= 'A' && name[0] <= 'Z'))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

bool IsShaCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// A string field (FieldReader's rules: a string, valid UTF-8) of at most `max_bytes`.
std::optional<std::string> BoundedString(FieldReader& r, const char* name, std::size_t max_bytes) {
  auto value = r.OptionalString(name);
  if (value && value->size() > max_bytes) {
    r.Fail(fmt::format("{} must be at most {} bytes", name, max_bytes));
    return std::nullopt;
  }
  return value;
}

// An absolute http(s) URL with a host and no user information (it is stored and shown).
std::optional<std::string> CheckHttpUrl(std::string_view name, std::string url) {
  if (url.empty()) return fmt::format("{} must not be empty", name);
  if (HasControlCharacter(url)) return fmt::format("{} must not hold control characters", name);
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return fmt::format("{} must be an absolute http:// or https:// URL", name);
  if (parsed->scheme_id() != boost::urls::scheme::http &&
      parsed->scheme_id() != boost::urls::scheme::https) {
    return fmt::format("{} must be an http:// or https:// URL", name);
  }
  if (parsed->encoded_host().empty()) return fmt::format("{} must name a host", name);
  if (parsed->has_userinfo()) {
    return fmt::format("{} must not carry credentials (pass the key as apiKey)", name);
  }
  return std::nullopt;
}

std::string WithoutTrailingSlash(std::string url) {
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

std::vector<std::string> ReadProviders(FieldReader& r, const json* v) {
  std::vector<std::string> out;
  if (!v) {
    r.Fail(fmt::format("providers is required: a non-empty array of {}", ProviderList()));
    return out;
  }
  if (!v->is_array()) {
    r.Fail("providers must be an array of strings");
    return out;
  }
  if (v->empty()) {
    r.Fail(fmt::format("providers must not be empty: name at least one of {}", ProviderList()));
    return out;
  }
  if (v->size() > std::size(kSmokeProviders)) {
    r.Fail(fmt::format("providers must have at most {} items", std::size(kSmokeProviders)));
    return out;
  }
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    if (!item.is_string()) {
      r.Fail(fmt::format("providers[{}] must be a string", i));
      return {};
    }
    const auto& name = item.get_ref<const std::string&>();
    if (!IsKnownProvider(name)) {
      // Not echoed: it may be anything, of any size.
      r.Fail(fmt::format("providers[{}] is not a known provider (one of {})", i, ProviderList()));
      return {};
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      r.Fail(fmt::format("providers[{}] repeats {}", i, name));
      return {};
    }
    out.push_back(name);
  }
  return out;
}

std::map<std::string, std::map<std::string, std::string>> ReadSecrets(FieldReader& r,
                                                                      const json* v) {
  std::map<std::string, std::map<std::string, std::string>> out;
  if (!v) return out;
  if (!v->is_object()) {
    r.Fail("secrets must be an object: {provider: {VARIABLE: value}}");
    return out;
  }
  if (v->size() > std::size(kSmokeProviders)) {
    r.Fail(fmt::format("secrets must have at most {} providers", std::size(kSmokeProviders)));
    return out;
  }
  for (const auto& [provider, vars] : v->items()) {
    if (!IsKnownProvider(provider)) {
      r.Fail(fmt::format("secrets has a key that is not a known provider (one of {})",
                         ProviderList()));
      return {};
    }
    const std::string field = "secrets." + provider;
    if (!vars.is_object()) {
      r.Fail(fmt::format("{} must be an object of VARIABLE: value", field));
      return {};
    }
    if (vars.size() > kMaxSecretsPerProvider) {
      r.Fail(fmt::format("{} must have at most {} variables", field, kMaxSecretsPerProvider));
      return {};
    }
    auto& into = out[provider];
    for (const auto& [name, value] : vars.items()) {
      if (!IsSecretName(name)) {
        // The name is not echoed either: a misplaced value would be.
        r.Fail(fmt::format("{} has a variable name that is not [A-Z_][A-Z0-9_]* (at most {} bytes)",
                           field, kMaxSecretNameBytes));
        return {};
      }
      const std::string var_field = field + "." + name;
      if (!value.is_string()) {
        r.Fail(fmt::format("{} must be a string", var_field));
        return {};
      }
      const auto& text = value.get_ref<const std::string&>();
      if (text.size() > kMaxSecretValueBytes) {
        r.Fail(fmt::format("{} must be at most {} bytes", var_field, kMaxSecretValueBytes));
        return {};
      }
      if (!IsValidUtf8(text) || text.find('\0') != std::string::npos) {
        r.Fail(fmt::format("{} must be valid UTF-8 without NUL bytes", var_field));
        return {};
      }
      into[name] = text;
    }
  }
  return out;
}

}  // namespace

Result<SmokeRequest> ParseSmokeRequest(const json& body, const SmokeRequestDefaults& defaults) {
  if (!body.is_object()) return BadRequest("the smoke request must be a JSON object");
  FieldReader r(body);
  SmokeRequest req;
  req.providers = ReadProviders(r, r.OptionalValue("providers"));

  req.template_id = BoundedString(r, "template", 256).value_or(defaults.template_id);
  if (r.ok()) {
    if (auto bad = sandbox::CheckTemplateName(req.template_id); !bad) {
      r.Fail("template: " + bad.error().message);
    }
  }

  req.api_url = BoundedString(r, "apiUrl", kMaxUrlBytes).value_or(defaults.api_url);
  if (r.ok()) {
    if (req.api_url.empty()) {
      r.Fail("apiUrl is required: the swarm API's URL as the workers reach it");
    } else if (auto bad = CheckHttpUrl("apiUrl", req.api_url)) {
      r.Fail(*bad);
    }
    req.api_url = WithoutTrailingSlash(std::move(req.api_url));
  }

  req.api_key = BoundedString(r, "apiKey", kMaxApiKeyBytes).value_or(defaults.api_key);
  if (r.ok()) {
    if (req.api_key.empty()) {
      r.Fail("apiKey is required: the swarm key the workers present");
    } else if (HasControlCharacter(req.api_key)) {
      r.Fail("apiKey must not hold control characters");
    }
  }

  req.deployment_sha = BoundedString(r, "deploymentSha", 1024).value_or(defaults.deployment_sha);
  if (r.ok()) {
    const auto& sha = req.deployment_sha;
    if (sha.empty() || sha.size() > kMaxShaBytes ||
        !std::all_of(sha.begin(), sha.end(), IsShaCharacter)) {
      r.Fail(
          fmt::format("deploymentSha must be 1 to {} characters of [A-Za-z0-9._-]", kMaxShaBytes));
    }
  }

  req.timeout_ms =
      r.OptionalInt("timeoutMs", kMinTimeoutMs, kMaxTimeoutMs).value_or(defaults.timeout_ms);
  req.sandbox_timeout_sec =
      r.OptionalInt("sandboxTimeoutSec", kMinSandboxTimeoutSec, kMaxSandboxTimeoutSec)
          .value_or(defaults.sandbox_timeout_sec);

  if (auto url = BoundedString(r, "modelBaseUrl", kMaxUrlBytes)) {
    req.model_base_url = std::move(url);
  } else {
    req.model_base_url = defaults.model_base_url;
  }
  if (r.ok() && req.model_base_url) {
    if (auto bad = CheckHttpUrl("modelBaseUrl", *req.model_base_url)) r.Fail(*bad);
  }

  req.secrets = ReadSecrets(r, r.OptionalValue("secrets"));
  req.allow_version_skew = r.OptionalBool("allowVersionSkew").value_or(false);
  if (!r.ok()) return tl::unexpected(r.error());
  return req;
}

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
