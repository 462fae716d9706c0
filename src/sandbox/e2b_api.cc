#include "sandbox/e2b_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>
#include <utility>

#include "core/bounded_json.h"
#include "core/redact.h"

namespace swarm::sandbox::e2b {
namespace {

// E2B's error bodies are small; a longer text (an HTML error page) is cut for the message.
constexpr std::size_t kMaxMessageChars = 300;
// Secrets shorter than this are not scrubbed: upstream redacts values of 8 characters or more,
// and a short one ("x") would cut up every word that holds it.
constexpr std::size_t kMinSecretBytes = 8;

bool IsUriComponentSafe(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' ||
         c == '*' || c == '\'' || c == '(' || c == ')';
}

// application/x-www-form-urlencoded as URLSearchParams serializes it.
bool IsFormSafe(unsigned char c) {
  return std::isalnum(c) != 0 || c == '*' || c == '-' || c == '.' || c == '_';
}

template <typename Safe>
std::string PercentEncode(std::string_view text, Safe safe, bool space_as_plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (safe(c)) {
      out.push_back(ch);
    } else if (space_as_plus && c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::optional<int> RetryAfterSeconds(std::string_view value) {
  int seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return seconds;
}

}  // namespace

std::string_view ApiReply::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

bool ApiReply::BodyCodeIs(int code) const {
  return body.is_object() && body.contains("code") && body["code"].is_number_integer() &&
         body["code"].get<long long>() == code;
}

E2bApi::E2bApi(E2bConfig config, http::HttpClient& http, ApiOptions options)
    : config_(std::move(config)), http_(http), options_(std::move(options)) {
  // Anything that logs later (the CLI, sandboxd's callers) redacts the key too.
  RegisterSecret(config_.api_key);
}

void E2bApi::AddSecret(std::string_view secret) {
  if (secret.size() < kMinSecretBytes) return;
  std::lock_guard lock(secrets_mu_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  RegisterSecret(secret);
}

std::string E2bApi::Scrub(std::string text) const {
  auto replace_all = [&text](std::string_view secret) {
    if (secret.size() < kMinSecretBytes) return;
    for (auto at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  };
  replace_all(config_.api_key);
  {
    std::lock_guard lock(secrets_mu_);
    for (const auto& secret : secrets_) replace_all(secret);
  }
  return Redact(std::move(text));
}

void E2bApi::Sleep(std::chrono::milliseconds duration) const {
  if (options_.sleep) {
    options_.sleep(duration);
  } else {
    std::this_thread::sleep_for(duration);
  }
}

Result<ApiReply> E2bApi::CallRaw(std::string_view method, std::string_view path_and_query,
                                 const nlohmann::json* body) {
  // As the SDKs: no call without a key (E2B and sandboxd would only answer 401).
  if (config_.api_key.empty()) {
    return MakeError(ErrorCode::kUnauthorized,
                     "no E2B API key: set E2B_API_KEY (for sandboxd: its SANDBOXD_API_KEY)");
  }
  http::ClientRequest request;
  request.method = std::string(method);
  request.url = config_.api_url + std::string(path_and_query);
  request.timeout = options_.request_timeout;
  request.headers = {
      {"X-API-Key", config_.api_key}, {"User-Agent", UserAgent()}, {"Accept", "application/json"}};
  if (body != nullptr) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  for (int attempt = 0;; ++attempt) {
    auto response = SendBounded(http_, request, kMaxReplyBytes);
    if (!response) {
      return MakeError(response.error().code, Scrub("E2B API: " + response.error().message));
    }
    ApiReply reply;
    reply.status = response->status;
    reply.raw_body = std::move(response->body);
    reply.headers = std::move(response->headers);
    if (!reply.raw_body.empty()) {
      auto parsed = ParseBoundedJson(reply.raw_body);
      if (parsed) reply.body = std::move(*parsed);
    }
    if (reply.status == 429 && attempt < options_.max_rate_limit_retries) {
      // Like the SDK: only a 429 that says when to come back is retried.
      if (auto seconds = RetryAfterSeconds(reply.Header("retry-after"))) {
        Sleep(std::min<std::chrono::milliseconds>(std::chrono::seconds(*seconds),
                                                  options_.max_retry_after));
        continue;
      }
    }
    return reply;
  }
}

Result<ApiReply> E2bApi::Call(std::string_view method, std::string_view path_and_query,
                              const nlohmann::json* body) {
  auto reply = CallRaw(method, path_and_query, body);
  if (!reply) return reply;
  if (reply->status < 200 || reply->status > 299) return tl::unexpected(ErrorFor(*reply));
  return reply;
}

Error E2bApi::ErrorFor(const ApiReply& reply) const {
  std::string message;
  if (reply.body.is_object()) message = StringField(reply.body, "message");
  if (message.empty()) {
    message = reply.raw_body.substr(0, kMaxMessageChars);
    if (reply.raw_body.size() > kMaxMessageChars) message += "…";
  }
  if (message.empty()) message = "no error message";
  if (reply.status == 401) message += " (check E2B_API_KEY)";
  return Error{ErrorCodeForStatus(reply.status),
               Scrub("E2B " + std::to_string(reply.status) + ": " + message)};
}

Result<http::ClientResponse> SendBounded(http::HttpClient& http, const http::ClientRequest& request,
                                         std::size_t max_bytes) {
  std::string body;
  bool too_large = false;
  http::BodySink sink = [&](std::string_view bytes) {
    if (body.size() + bytes.size() > max_bytes) {
      too_large = true;
      return false;
    }
    body.append(bytes);
    return true;
  };
  auto response = http.SendStreaming(request, sink);
  if (too_large) {
    return MakeError(ErrorCode::kPayloadTooLarge,
                     request.method + " " + request.url.substr(0, request.url.find('?')) +
                         ": the reply is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (response && response->status >= 200 && response->status <= 299) {
    response->body = std::move(body);
  }
  return response;
}

ErrorCode ErrorCodeForStatus(int status) {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode::kBadRequest;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 413:
      return ErrorCode::kPayloadTooLarge;
    case 429:
      return ErrorCode::kUnavailable;
    default:
      return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  }
}

std::string EncodeUriComponent(std::string_view text) {
  return PercentEncode(text, IsUriComponentSafe, false);
}

std::string EncodeMetadataQuery(const StringMap& metadata) {
  std::string form;
  for (const auto& [key, value] : metadata) {
    if (!form.empty()) form.push_back('&');
    form += PercentEncode(EncodeUriComponent(key), IsFormSafe, true);
    form.push_back('=');
    form += PercentEncode(EncodeUriComponent(value), IsFormSafe, true);
  }
  return EncodeUriComponent(form);
}

Result<void> CheckSandboxId(std::string_view sandbox_id) {
  const bool ok = !sandbox_id.empty() && sandbox_id.size() <= 128 &&
                  std::all_of(sandbox_id.begin(), sandbox_id.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
                  });
  if (!ok) return BadRequest("not a sandbox id: '" + std::string(sandbox_id.substr(0, 64)) + "'");
  return {};
}

std::string StringField(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

long long IntField(const nlohmann::json& object, std::string_view name, long long fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(name);
  if (it == object.end()) return fallback;
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_number_float()) {
    // Casting a double outside long long's range is undefined; such a value is garbage.
    const double value = it->get<double>();
    if (!(value > -9.2e18 && value < 9.2e18)) return fallback;
    return static_cast<long long>(value);
  }
  if (it->is_string()) {  // protojson writes int64 as a string
    long long value = 0;
    const auto& s = it->get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc() && end == s.data() + s.size()) return value;
  }
  return fallback;
}

std::string UserAgent() { return std::string("agent-swarm/") + SWARM_VERSION; }

}  // namespace swarm::sandbox::e2b
