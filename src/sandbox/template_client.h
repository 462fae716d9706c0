// Templates: what a sandbox starts from. TemplateService is the seam (the `e2b` commands use
// it; their tests may fake it); E2bTemplateService speaks E2B's build API v2 (e2b-wire.md §3):
//   POST /v3/templates {name, cpuCount, memoryMB}               -> {templateID, buildID}
//   per COPY step: GET /templates/{id}/files/{filesHash}        -> {present, url}
//                  PUT <url> a tar.gz of the step's file          (when not present)
//   POST /v2/templates/{id}/builds/{buildID} {fromImage, startCmd, readyCmd, steps}
//   GET  /templates/{id}/builds/{buildID}/status?logsOffset=N   every 200 ms until ready/error
// A COPY step's args are [src, dest, user, mode]: its archive holds one file named `src` (the
// file's base name), to be placed at `dest` with `mode` (4 octal digits). filesHash is the
// SHA-256 hex of "COPY\0<src>\0<dest>\0<mode>\0<content>", so the same file at the same place
// is uploaded once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.h"
#include "sandbox/e2b_api.h"
#include "sandbox/e2b_config.h"
#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

inline constexpr std::string_view kDefaultBaseImage = "e2bdev/base";  // the SDK's default

struct TemplateFile {
  std::string local_path;              // read from disk unless `content` is set
  std::optional<std::string> content;  // the file's bytes, given directly
  std::string dest_path;               // absolute path inside the template
  int mode = 0644;
};

struct TemplateSpec {
  std::string name;  // may carry a tag: "name:tag"
  std::string from_image = std::string(kDefaultBaseImage);
  std::string start_cmd;  // started in the background when a sandbox starts
  std::string ready_cmd;  // retried until it exits 0; empty: E2B's default
  std::optional<int> cpu_count;
  std::optional<int> memory_mb;
  StringMap env;
  std::string workdir;
  std::vector<TemplateFile> files;
  bool force = false;  // rebuild every step, ignoring E2B's layer cache (--no-cache)
};

struct BuildLogEntry {
  std::string timestamp;  // RFC 3339
  std::string level;      // debug | info | warn | error
  std::string message;
  std::string step;
};
using BuildLogCallback = std::function<void(const BuildLogEntry&)>;

struct TemplateBuild {
  std::string template_id;
  std::string build_id;
  std::vector<std::string> names;
};

class TemplateService {
 public:
  virtual ~TemplateService() = default;
  // Builds `spec` and waits for the build to finish, streaming its log to `on_log` (may be
  // null). A failed build is an error carrying the builder's reason.
  virtual Result<TemplateBuild> Build(const TemplateSpec& spec, const BuildLogCallback& on_log) = 0;
  // Makes a template usable by every team (publish) or only its own (unpublish).
  virtual Result<void> SetPublic(std::string_view name, bool is_public) = 0;
  // True when deleted now, false when there was no such template.
  virtual Result<bool> Delete(std::string_view name) = 0;
};

struct TemplateClientOptions {
  e2b::ApiOptions api;
  std::chrono::milliseconds poll_interval{200};  // as the SDK
  std::chrono::milliseconds build_timeout{std::chrono::minutes(30)};
  std::chrono::milliseconds upload_timeout{std::chrono::minutes(5)};
  std::size_t max_file_bytes = 256 << 20;  // one COPY file
};

class E2bTemplateService final : public TemplateService {
 public:
  E2bTemplateService(E2bConfig config, http::HttpClient& http, TemplateClientOptions options = {});
  // Owning its HTTP client (the CLI's case).
  E2bTemplateService(E2bConfig config, std::unique_ptr<http::HttpClient> http,
                     TemplateClientOptions options = {});

  Result<TemplateBuild> Build(const TemplateSpec& spec, const BuildLogCallback& on_log) override;
  Result<void> SetPublic(std::string_view name, bool is_public) override;
  Result<bool> Delete(std::string_view name) override;

 private:
  Result<nlohmann::json> CopyStep(const std::string& template_id, const TemplateFile& file);
  Result<void> Upload(const std::string& url, const nlohmann::json& headers,
                      const std::string& archive);
  Result<void> WaitForBuild(const std::string& template_id, const std::string& build_id,
                            const BuildLogCallback& on_log);

  std::unique_ptr<http::HttpClient> owned_http_;  // set by the owning constructor
  e2b::E2bApi api_;
  TemplateClientOptions options_;
};

// Template names go into URL paths; refuse empty, overlong or control characters.
Result<void> CheckTemplateName(std::string_view name);

}  // namespace swarm::sandbox
