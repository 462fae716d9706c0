// The E2B control plane's transport, shared by the sandbox client and the template client:
// X-API-Key, JSON bodies, E2B's {"code","message"} errors surfaced as "E2B <status>: <message>",
// a 429 retried after its Retry-After (bounded), and nothing secret in any error text.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "http/client.h"
#include "sandbox/e2b_config.h"
#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox::e2b {

struct ApiOptions {
  std::chrono::milliseconds request_timeout{60'000};  // the SDK's requestTimeoutMs
  int max_rate_limit_retries = 3;                     // as the SDK: only a 429 with Retry-After
  std::chrono::seconds max_retry_after{30};           // a longer Retry-After is cut to this
  // How to wait before a retry; null: this thread sleeps. Tests record the waits instead.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct ApiReply {
  int status = 0;
  std::string raw_body;
  nlohmann::json body;  // null when the body is empty or not JSON
  http::HeaderList headers;

  // The first header with this lower-case name, or "".
  std::string_view Header(std::string_view lower_name) const;
  // E2B's "not found" test: the body's numeric `code` (the SDKs check it, not the status).
  bool BodyCodeIs(int code) const;
};

class E2bApi {
 public:
  E2bApi(E2bConfig config, http::HttpClient& http, ApiOptions options = {});
  E2bApi(const E2bApi&) = delete;
  E2bApi& operator=(const E2bApi&) = delete;

  // One call to `api_url + path_and_query` with an optional JSON body. Any HTTP status is a
  // reply; only transport failures are errors (after the 429 retries).
  Result<ApiReply> CallRaw(std::string_view method, std::string_view path_and_query,
                           const nlohmann::json* body = nullptr);
  // The same, but a status outside 2xx is the error E2B's body describes.
  Result<ApiReply> Call(std::string_view method, std::string_view path_and_query,
                        const nlohmann::json* body = nullptr);

  // "E2B <status>: <message>" for a failed reply, with an ErrorCode for its status.
  Error ErrorFor(const ApiReply& reply) const;
  // `text` with the API key, the tokens seen so far and registered secrets replaced.
  std::string Scrub(std::string text) const;
  // Remembers an envd access token so Scrub removes it too. Thread-safe.
  void AddSecret(std::string_view secret);

  const E2bConfig& config() const { return config_; }
  const ApiOptions& options() const { return options_; }
  http::HttpClient& http() { return http_; }
  void Sleep(std::chrono::milliseconds duration) const;

 private:
  E2bConfig config_;
  http::HttpClient& http_;
  ApiOptions options_;
  mutable std::mutex secrets_mu_;
  std::vector<std::string> secrets_;  // guarded by secrets_mu_
};

// Send, with a 2xx body collected only up to `max_bytes` (kPayloadTooLarge past it): replies
// from E2B or envd are small JSON documents, and a peer must not make us buffer without end.
Result<http::ClientResponse> SendBounded(http::HttpClient& http, const http::ClientRequest& request,
                                         std::size_t max_bytes);
inline constexpr std::size_t kMaxReplyBytes = 16 << 20;

// The ErrorCode an E2B (or envd REST) HTTP status stands for.
ErrorCode ErrorCodeForStatus(int status);
// JavaScript's encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is %XX.
std::string EncodeUriComponent(std::string_view text);
// The value of the `metadata` query parameter exactly as the JS SDK sends it: encodeURIComponent
// on each key and value, URLSearchParams on the pairs, and openapi-fetch's encodeURIComponent
// of the whole (E2B's server undoes the three layers).
std::string EncodeMetadataQuery(const StringMap& metadata);
// Sandbox ids and template names go into URL paths: refuse what could change the path.
Result<void> CheckSandboxId(std::string_view sandbox_id);
// A JSON string field, or "" when it is absent, null or not a string (protojson omits zeros).
std::string StringField(const nlohmann::json& object, std::string_view name);
// A JSON integer field, or `fallback`.
long long IntField(const nlohmann::json& object, std::string_view name, long long fallback = 0);
// The User-Agent we send.
std::string UserAgent();

}  // namespace swarm::sandbox::e2b
