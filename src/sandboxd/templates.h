// sandboxd's templates, built through E2B's build API (e2b-wire.md §3): a build request names
// the template, uploads the files of its COPY steps as tar archives, and starts the build with
// its base, steps, start and ready commands. sandboxd has no container runtime: a template's
// sandboxes run over the host's root (read-only) with the build's files bound read-only at
// their destinations, its ENV, WORKDIR and start/ready commands; a fromImage base is recorded
// and the build log says it was not pulled; RUN steps are logged as not run. `base` always
// exists. Templates persist under <root>/templates.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace swarm::sandboxd {

struct BuildRequest;  // build_request.h

// What a sandbox of a template gets.
struct TemplateRuntime {
  std::string template_id;
  std::vector<std::pair<std::string, std::string>> ro_binds;  // host source, path inside
  std::map<std::string, std::string> env;
  std::string workdir;
  std::string start_cmd;
  std::string ready_cmd;
  int cpu_count = 2;
  int memory_mb = 1024;
};

struct BuildLogEntry {
  std::string timestamp;
  std::string level;  // debug | info | warn | error
  std::string message;
};

class TemplateStore {
 public:
  TemplateStore(std::string root, std::size_t max_upload_bytes = 256 << 20);
  ~TemplateStore();  // waits for running builds
  TemplateStore(const TemplateStore&) = delete;
  TemplateStore& operator=(const TemplateStore&) = delete;

  // Loads the templates an earlier run built (builds that were running are marked failed).
  void Load();

  // POST /v3/templates: a new template (or a new build of the one with that name). 202 body.
  Result<nlohmann::json> RequestBuild(const nlohmann::json& body);
  // GET /templates/{id}/files/{hash}: whether the archive is here; else where to PUT it
  // (`base_url` is this server as the client reached it).
  Result<nlohmann::json> FileLink(const std::string& template_id, const std::string& hash,
                                  const std::string& base_url);
  // PUT of an archive to the link FileLink gave (its secret `upload_id`).
  Result<void> Upload(const std::string& upload_id, std::string_view archive);
  // POST /v2/templates/{id}/builds/{build}: runs the build in the background.
  Result<void> StartBuild(const std::string& template_id, const std::string& build_id,
                          const nlohmann::json& body);
  // GET /templates/{id}/builds/{build}/status.
  Result<nlohmann::json> BuildStatus(const std::string& template_id, const std::string& build_id,
                                     std::size_t logs_offset, std::size_t limit);
  Result<nlohmann::json> SetPublic(const std::string& template_id, bool is_public);
  // False when no such template. `base` cannot be deleted.
  Result<bool> Delete(const std::string& template_id);
  nlohmann::json List();
  Result<nlohmann::json> Get(const std::string& template_id);
  // GET /templates/aliases/{alias}.
  Result<nlohmann::json> Alias(const std::string& name);

  // The runtime of a ready template by id, name or name:tag; nullopt when unknown or not
  // built. "base" gives the plain host root.
  std::optional<TemplateRuntime> Resolve(const std::string& name_or_id);

  // Waits (bounded) for running builds (tests).
  void WaitForBuilds();

 private:
  struct Build;
  struct Template;
  void RunBuild(std::shared_ptr<Template> tpl, std::shared_ptr<Build> build,
                const BuildRequest& request);
  std::shared_ptr<Template> FindLocked(const std::string& name_or_id);
  void SaveLocked(const Template& tpl);
  std::string Dir(const std::string& template_id) const;

  const std::string root_;
  const std::size_t max_upload_bytes_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Template>> templates_;  // by id
  // Secret upload ids -> (template id, files hash).
  std::map<std::string, std::pair<std::string, std::string>> uploads_;
  // Build threads and whether each has finished (finished ones are joined at the next build).
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> builders_;
};

}  // namespace swarm::sandboxd
