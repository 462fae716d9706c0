#include "sandboxd/templates.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/bounded_json.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "sandboxd/archive_extract.h"
#include "sandboxd/build_request.h"
#include "sandboxd/registry.h"

namespace swarm::sandboxd {
namespace fs = std::filesystem;

struct TemplateStore::Build {
  std::string id;
  std::string status = "waiting";  // waiting | building | ready | error
  std::string reason;
  std::vector<BuildLogEntry> logs;
  std::string created_at;
  std::string updated_at;
};

struct TemplateStore::Template {
  std::string id;
  std::string name;
  std::vector<std::string> tags;
  int cpu_count = 2;
  int memory_mb = 1024;
  bool is_public = false;
  std::string created_at;
  std::string updated_at;
  std::vector<std::shared_ptr<Build>> builds;  // oldest first
  std::optional<TemplateRuntime> runtime;      // of the last ready build
  std::string ready_build_id;
};

namespace {

constexpr std::size_t kMaxLogEntries = 2000;
constexpr std::size_t kMaxTemplates = 256;

std::string Now() { return FormatIsoTime(std::chrono::system_clock::now()); }

std::string NewTemplateId() { return NewSandboxId().substr(1); }

// "team/name:tag" -> ("team/name", "tag"); no tag: "default".
std::pair<std::string, std::string> SplitTag(const std::string& name) {
  const auto colon = name.rfind(':');
  if (colon == std::string::npos || name.find('/', colon) != std::string::npos) {
    return {name, "default"};
  }
  return {name.substr(0, colon), name.substr(colon + 1)};
}

nlohmann::json LogJson(const BuildLogEntry& e) {
  return {{"timestamp", e.timestamp}, {"level", e.level}, {"message", e.message}};
}

}  // namespace

TemplateStore::TemplateStore(std::string root, std::size_t max_upload_bytes)
    : root_(std::move(root)), max_upload_bytes_(max_upload_bytes) {}

TemplateStore::~TemplateStore() { WaitForBuilds(); }

void TemplateStore::WaitForBuilds() {
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> running;
  {
    std::lock_guard lock(mu_);
    running.swap(builders_);
  }
  for (auto& [thread, done] : running) thread.join();
}

std::string TemplateStore::Dir(const std::string& template_id) const {
  return root_ + "/templates/" + template_id;
}

void TemplateStore::SaveLocked(const Template& tpl) {
  nlohmann::json builds = nlohmann::json::array();
  for (const auto& b : tpl.builds) {
    nlohmann::json logs = nlohmann::json::array();
    for (const auto& e : b->logs) logs.push_back(LogJson(e));
    builds.push_back({{"buildID", b->id},
                      {"status", b->status},
                      {"reason", b->reason},
                      {"createdAt", b->created_at},
                      {"updatedAt", b->updated_at},
                      {"logs", logs}});
  }
  nlohmann::json record = {{"templateID", tpl.id},
                           {"name", tpl.name},
                           {"tags", tpl.tags},
                           {"cpuCount", tpl.cpu_count},
                           {"memoryMB", tpl.memory_mb},
                           {"public", tpl.is_public},
                           {"createdAt", tpl.created_at},
                           {"updatedAt", tpl.updated_at},
                           {"builds", builds},
                           {"readyBuildID", tpl.ready_build_id}};
  if (tpl.runtime) {
    nlohmann::json binds = nlohmann::json::array();
    for (const auto& [source, dest] : tpl.runtime->ro_binds) binds.push_back({source, dest});
    record["runtime"] = {{"binds", binds},
                         {"env", tpl.runtime->env},
                         {"workdir", tpl.runtime->workdir},
                         {"startCmd", tpl.runtime->start_cmd},
                         {"readyCmd", tpl.runtime->ready_cmd}};
  }
  std::error_code ec;
  fs::create_directories(Dir(tpl.id), ec);
  const std::string path = Dir(tpl.id) + "/template.json";
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << record.dump();
  }
  fs::rename(path + ".tmp", path, ec);
}

void TemplateStore::Load() {
  std::lock_guard lock(mu_);
  std::error_code ec;
  for (const auto& dir : fs::directory_iterator(root_ + "/templates", ec)) {
    std::ifstream file(dir.path() / "template.json");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto record = ParseBoundedJson(text, JsonLimits{.max_bytes = 64 << 20});
    if (!record || !record->is_object()) continue;
    auto tpl = std::make_shared<Template>();
    try {
      tpl->id = record->at("templateID").get<std::string>();
      tpl->name = record->value("name", "");
      tpl->tags = record->value("tags", std::vector<std::string>{});
      // Within what a build accepts; value() with an int fallback would cast a float like
      // 1e300 with undefined behaviour.
      tpl->cpu_count =
          static_cast<int>(std::clamp<int64_t>(Int64Field(*record, "cpuCount").value_or(2), 1, 64));
      tpl->memory_mb = static_cast<int>(
          std::clamp<int64_t>(Int64Field(*record, "memoryMB").value_or(1024), 128, 1 << 20));
      tpl->is_public = record->value("public", false);
      tpl->created_at = record->value("createdAt", "");
      tpl->updated_at = record->value("updatedAt", "");
      tpl->ready_build_id = record->value("readyBuildID", "");
      for (const auto& b : record->value("builds", nlohmann::json::array())) {
        auto build = std::make_shared<Build>();
        build->id = b.value("buildID", "");
        build->status = b.value("status", "error");
        build->reason = b.value("reason", "");
        build->created_at = b.value("createdAt", "");
        build->updated_at = b.value("updatedAt", "");
        for (const auto& e : b.value("logs", nlohmann::json::array())) {
          build->logs.push_back(
              {e.value("timestamp", ""), e.value("level", "info"), e.value("message", "")});
        }
        if (build->status == "waiting" || build->status == "building") {
          build->status = "error";
          build->reason = "sandboxd restarted during the build";
        }
        tpl->builds.push_back(build);
      }
      if (record->contains("runtime")) {
        const auto& rt = (*record)["runtime"];
        TemplateRuntime runtime;
        runtime.template_id = tpl->id;
        for (const auto& bind : rt.value("binds", nlohmann::json::array())) {
          runtime.ro_binds.emplace_back(bind.at(0).get<std::string>(),
                                        bind.at(1).get<std::string>());
        }
        runtime.env = rt.value("env", std::map<std::string, std::string>{});
        runtime.workdir = rt.value("workdir", "");
        runtime.start_cmd = rt.value("startCmd", "");
        runtime.ready_cmd = rt.value("readyCmd", "");
        runtime.cpu_count = tpl->cpu_count;
        runtime.memory_mb = tpl->memory_mb;
        tpl->runtime = std::move(runtime);
      }
    } catch (const nlohmann::json::exception& e) {
      log::Warn("skipping a damaged template record",
                {{"dir", dir.path().string()}, {"error", e.what()}});
      continue;
    }
    templates_[tpl->id] = tpl;
  }
}

std::shared_ptr<TemplateStore::Template> TemplateStore::FindLocked(const std::string& name_or_id) {
  if (auto it = templates_.find(name_or_id); it != templates_.end()) return it->second;
  const auto [name, tag] = SplitTag(name_or_id);
  for (const auto& [id, tpl] : templates_) {
    if (tpl->name != name) continue;
    if (tag == "default" || std::find(tpl->tags.begin(), tpl->tags.end(), tag) != tpl->tags.end()) {
      return tpl;
    }
  }
  return nullptr;
}

Result<nlohmann::json> TemplateStore::RequestBuild(const nlohmann::json& body) {
  auto request = ParseTemplateRequest(body);
  if (!request) return tl::unexpected(request.error());
  auto [name, tag] = SplitTag(request->full_name);
  if (name == "base") return BadRequest("the name 'base' is taken by the default template");
  std::vector<std::string> tags = {tag};
  tags.insert(tags.end(), request->tags.begin(), request->tags.end());
  const int cpu = request->cpu_count;
  const int memory = request->memory_mb;

  std::lock_guard lock(mu_);
  auto tpl = FindLocked(name);
  if (!tpl) {
    if (templates_.size() >= kMaxTemplates) return Unavailable("too many templates");
    tpl = std::make_shared<Template>();
    tpl->id = NewTemplateId();
    tpl->name = name;
    tpl->created_at = Now();
    templates_[tpl->id] = tpl;
  }
  for (const auto& t : tags) {
    if (std::find(tpl->tags.begin(), tpl->tags.end(), t) == tpl->tags.end()) {
      tpl->tags.push_back(t);
    }
  }
  tpl->cpu_count = cpu;
  tpl->memory_mb = memory;
  tpl->updated_at = Now();
  auto build = std::make_shared<Build>();
  build->id = NewUuid();
  build->created_at = build->updated_at = Now();
  tpl->builds.push_back(build);
  while (tpl->builds.size() > 20) tpl->builds.erase(tpl->builds.begin());
  SaveLocked(*tpl);
  return nlohmann::json{{"templateID", tpl->id}, {"buildID", build->id}, {"public", tpl->is_public},
                        {"names", {tpl->name}},  {"tags", tags},         {"aliases", {tpl->name}}};
}

Result<nlohmann::json> TemplateStore::FileLink(const std::string& template_id,
                                               const std::string& hash,
                                               const std::string& base_url) {
  if (!IsValidFilesHash(hash)) return BadRequest("invalid files hash");
  std::lock_guard lock(mu_);
  if (!templates_.count(template_id)) {
    return NotFound(fmt::format("template '{}' not found", template_id));
  }
  if (fs::exists(Dir(template_id) + "/uploads/" + hash + ".tar")) {
    return nlohmann::json{{"present", true}};
  }
  const std::string upload_id = NewAccessToken();
  if (uploads_.size() > 1000) uploads_.erase(uploads_.begin());
  uploads_[upload_id] = {template_id, hash};
  return nlohmann::json{{"present", false}, {"url", base_url + "/templates/uploads/" + upload_id}};
}

Result<void> TemplateStore::Upload(const std::string& upload_id, std::string_view archive) {
  std::pair<std::string, std::string> target;
  {
    std::lock_guard lock(mu_);
    auto it = uploads_.find(upload_id);
    if (it == uploads_.end()) return NotFound("no such upload");
    target = it->second;
    uploads_.erase(it);
  }
  if (archive.size() > max_upload_bytes_) {
    return MakeError(ErrorCode::kPayloadTooLarge, "the archive is too large");
  }
  const std::string dir = Dir(target.first) + "/uploads";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string path = dir + "/" + target.second + ".tar";
  {
    std::ofstream out(path + ".tmp", std::ios::binary | std::ios::trunc);
    out.write(archive.data(), static_cast<std::streamsize>(archive.size()));
    if (!out) return Internal("cannot store the archive");
  }
  fs::rename(path + ".tmp", path, ec);
  if (ec) return Internal("cannot store the archive");
  return {};
}

Result<void> TemplateStore::StartBuild(const std::string& template_id, const std::string& build_id,
                                       const nlohmann::json& body) {
  auto request = ParseBuildRequest(body);
  if (!request) return tl::unexpected(request.error());
  std::lock_guard lock(mu_);
  auto it = templates_.find(template_id);
  if (it == templates_.end()) return NotFound(fmt::format("template '{}' not found", template_id));
  auto tpl = it->second;
  std::shared_ptr<Build> build;
  for (const auto& b : tpl->builds) {
    if (b->id == build_id) build = b;
  }
  if (!build) return NotFound(fmt::format("build '{}' not found", build_id));
  if (build->status != "waiting") return Conflict("the build has started already");
  build->status = "building";
  build->updated_at = Now();
  // A finished thread still holds its stack until joined.
  for (auto& [thread, done] : builders_) {
    if (done->load()) thread.join();
  }
  std::erase_if(builders_, [](const auto& b) { return !b.first.joinable(); });
  auto done = std::make_shared<std::atomic<bool>>(false);
  builders_.emplace_back(std::thread([this, tpl, build, request = std::move(*request), done] {
                           RunBuild(tpl, build, request);
                           done->store(true);
                         }),
                         done);
  return {};
}

void TemplateStore::RunBuild(std::shared_ptr<Template> tpl, std::shared_ptr<Build> build,
                             const BuildRequest& request) {
  auto log_line = [&](const std::string& level, std::string message) {
    std::lock_guard lock(mu_);
    if (build->logs.size() < kMaxLogEntries)
      build->logs.push_back({Now(), level, std::move(message)});
  };
  auto fail = [&](std::string reason) {
    log_line("error", reason);
    std::lock_guard lock(mu_);
    build->status = "error";
    build->reason = std::move(reason);
    build->updated_at = Now();
    SaveLocked(*tpl);
  };

  TemplateRuntime runtime;
  runtime.template_id = tpl->id;
  runtime.cpu_count = tpl->cpu_count;
  runtime.memory_mb = tpl->memory_mb;
  log_line("info",
           fmt::format("Building template {} ({}), build {}", tpl->name, tpl->id, build->id));
  if (request.from_template) {
    const std::string& base = *request.from_template;
    auto resolved = Resolve(base);
    if (!resolved) return fail(fmt::format("base template '{}' not found or not built", base));
    runtime.ro_binds = resolved->ro_binds;
    runtime.env = resolved->env;
    runtime.workdir = resolved->workdir;
    runtime.start_cmd = resolved->start_cmd;
    runtime.ready_cmd = resolved->ready_cmd;
    log_line("info", fmt::format("Base: template {}", base));
  } else {
    const std::string& image = request.from_image;
    // Recorded, not pulled: there is no container runtime here.
    log_line("warn", fmt::format("sandboxd cannot pull image '{}' (no container runtime): "
                                 "sandboxes of this template run over the host's root "
                                 "filesystem, read-only, with the template's files on top",
                                 image));
  }
  std::string workdir = runtime.workdir.empty() ? "/home/user" : runtime.workdir;
  int index = 0;
  for (const auto& step : request.steps) {
    ++index;
    const std::string& type = step.type;
    const std::vector<std::string>& args = step.args;
    const std::string shown =
        fmt::format("Step {}: {} {}", index, type,
                    type == "ENV" ? "(values not shown)" : fmt::format("{}", fmt::join(args, " ")));
    log_line("info", shown);
    if (type == "COPY") {
      if (args.size() < 2)
        return fail(fmt::format("step {}: COPY needs a source and a dest", index));
      const std::string& hash = step.files_hash;
      const std::string archive = Dir(tpl->id) + "/uploads/" + hash + ".tar";
      const std::string extracted = Dir(tpl->id) + "/files/" + hash;
      if (hash.empty() || !fs::exists(archive)) {
        return fail(fmt::format("step {}: the files of COPY {} were not uploaded", index, args[0]));
      }
      if (!fs::exists(extracted)) {
        std::ifstream in(archive, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (auto done = ExtractArchive(bytes, extracted + ".tmp", 1ull << 30); !done) {
          std::error_code ec;
          fs::remove_all(extracted + ".tmp", ec);
          return fail(fmt::format("step {}: {}", index, done.error().message));
        }
        std::error_code ec;
        fs::rename(extracted + ".tmp", extracted, ec);
      }
      std::string src = args[0];
      while (src.rfind("./", 0) == 0) src.erase(0, 2);
      if (!IsSafeRelativePath(src) || src.find_first_of("*?[") != std::string::npos) {
        return fail(
            fmt::format("step {}: COPY source '{}' is not supported (a plain relative "
                        "path is)",
                        index, args[0]));
      }
      const std::string source = extracted + "/" + src;
      std::error_code ec;
      if (!fs::exists(fs::symlink_status(source, ec))) {
        return fail(
            fmt::format("step {}: COPY source '{}' is not in the uploaded files", index, args[0]));
      }
      std::string dest = args[1];
      if (dest.empty()) dest = ".";
      if (dest.back() == '/') dest += fs::path(src).filename().string();
      if (dest.front() != '/') dest = workdir + "/" + dest;
      dest = fs::path(dest).lexically_normal().string();
      if (args.size() >= 4 && !args[3].empty()) {
        try {
          fs::permissions(source, static_cast<fs::perms>(std::stoi(args[3], nullptr, 8)), ec);
        } catch (const std::exception&) {
          return fail(fmt::format("step {}: bad mode '{}'", index, args[3]));
        }
      }
      runtime.ro_binds.emplace_back(source, dest);
    } else if (type == "ENV") {
      for (std::size_t i = 0; i + 1 < args.size(); i += 2) runtime.env[args[i]] = args[i + 1];
    } else if (type == "WORKDIR" && !args.empty() && !args[0].empty()) {
      workdir = args[0].front() == '/' ? args[0] : workdir + "/" + args[0];
      runtime.workdir = workdir;
    } else if (type == "USER") {
      log_line("warn", "USER is not applied: sandboxd runs commands as root without capabilities");
    } else if (type == "RUN") {
      log_line("warn",
               "RUN steps are not run: the host's root is read-only under sandboxd, so "
               "install what the template needs on the host instead");
    } else {
      log_line("warn", fmt::format("step type '{}' is not supported and was skipped", type));
    }
  }
  if (request.start_cmd) runtime.start_cmd = *request.start_cmd;
  if (request.ready_cmd) runtime.ready_cmd = *request.ready_cmd;
  if (!runtime.start_cmd.empty()) {
    log_line("info", "Start command: runs in the background in every new sandboxes of it");
  }
  std::lock_guard lock(mu_);
  build->logs.push_back({Now(), "info", "Template is ready"});
  build->status = "ready";
  build->updated_at = Now();
  tpl->runtime = std::move(runtime);
  tpl->ready_build_id = build->id;
  tpl->updated_at = Now();
  SaveLocked(*tpl);
}

Result<nlohmann::json> TemplateStore::BuildStatus(const std::string& template_id,
                                                  const std::string& build_id,
                                                  std::size_t logs_offset, std::size_t limit) {
  std::lock_guard lock(mu_);
  auto it = templates_.find(template_id);
  if (it == templates_.end()) return NotFound(fmt::format("template '{}' not found", template_id));
  for (const auto& b : it->second->builds) {
    if (b->id != build_id) continue;
    nlohmann::json entries = nlohmann::json::array();
    nlohmann::json lines = nlohmann::json::array();
    for (std::size_t i = logs_offset; i < b->logs.size() && entries.size() < limit; ++i) {
      entries.push_back(LogJson(b->logs[i]));
      lines.push_back(b->logs[i].message);
    }
    nlohmann::json status = {{"templateID", template_id},
                             {"buildID", build_id},
                             {"status", b->status},
                             {"logs", lines},
                             {"logEntries", entries}};
    if (b->status == "error") {
      status["reason"] = {{"message", b->reason}, {"logEntries", nlohmann::json::array()}};
    }
    return status;
  }
  return NotFound(fmt::format("build '{}' not found", build_id));
}

Result<nlohmann::json> TemplateStore::SetPublic(const std::string& template_id, bool is_public) {
  std::lock_guard lock(mu_);
  auto tpl = FindLocked(template_id);  // an id or a name, as E2B takes either
  if (!tpl) return NotFound(fmt::format("template '{}' not found", template_id));
  tpl->is_public = is_public;
  tpl->updated_at = Now();
  SaveLocked(*tpl);
  return nlohmann::json{{"names", {tpl->name}}};
}

Result<bool> TemplateStore::Delete(const std::string& template_id) {
  if (template_id == "base") return BadRequest("the base template cannot be deleted");
  std::lock_guard lock(mu_);
  auto tpl = FindLocked(template_id);  // an id or a name
  if (!tpl) return false;
  for (const auto& b : tpl->builds) {
    if (b->status == "building") return Conflict("the template is being built");
  }
  templates_.erase(tpl->id);
  std::error_code ec;
  // Sandboxes running from it keep their bound files (open mounts) until they end.
  fs::remove_all(Dir(tpl->id), ec);
  return true;
}

nlohmann::json TemplateStore::List() {
  std::lock_guard lock(mu_);
  auto item = [](const std::string& id, const std::string& name, const std::string& build_id,
                 int cpu, int memory, bool is_public, const std::string& created,
                 const std::string& updated, std::size_t builds, const std::string& status) {
    return nlohmann::json{
        {"templateID", id},     {"buildID", build_id},  {"cpuCount", cpu},
        {"memoryMB", memory},   {"diskSizeMB", 0},      {"public", is_public},
        {"aliases", {name}},    {"names", {name}},      {"createdAt", created},
        {"updatedAt", updated}, {"createdBy", nullptr}, {"lastSpawnedAt", nullptr},
        {"spawnCount", 0},      {"buildCount", builds}, {"envdVersion", kEnvdVersion},
        {"buildStatus", status}};
  };
  nlohmann::json list = nlohmann::json::array();
  list.push_back(item("base", "base", "", 2, 1024, true, "", "", 0, "ready"));
  for (const auto& [id, tpl] : templates_) {
    const std::string status = tpl->builds.empty() ? "waiting" : tpl->builds.back()->status;
    list.push_back(item(id, tpl->name, tpl->ready_build_id, tpl->cpu_count, tpl->memory_mb,
                        tpl->is_public, tpl->created_at, tpl->updated_at, tpl->builds.size(),
                        status));
  }
  return list;
}

Result<nlohmann::json> TemplateStore::Get(const std::string& template_id) {
  std::lock_guard lock(mu_);
  auto tpl = FindLocked(template_id);
  if (!tpl) return NotFound(fmt::format("template '{}' not found", template_id));
  nlohmann::json builds = nlohmann::json::array();
  for (const auto& b : tpl->builds) {
    builds.push_back({{"buildID", b->id},
                      {"status", b->status},
                      {"createdAt", b->created_at},
                      {"updatedAt", b->updated_at},
                      {"cpuCount", tpl->cpu_count},
                      {"memoryMB", tpl->memory_mb}});
  }
  return nlohmann::json{{"templateID", tpl->id},
                        {"public", tpl->is_public},
                        {"aliases", {tpl->name}},
                        {"names", {tpl->name}},
                        {"createdAt", tpl->created_at},
                        {"updatedAt", tpl->updated_at},
                        {"lastSpawnedAt", nullptr},
                        {"spawnCount", 0},
                        {"builds", builds}};
}

Result<nlohmann::json> TemplateStore::Alias(const std::string& name) {
  if (name == "base") return nlohmann::json{{"templateID", "base"}, {"public", true}};
  std::lock_guard lock(mu_);
  auto tpl = FindLocked(name);
  if (!tpl) return NotFound(fmt::format("template '{}' not found", name));
  return nlohmann::json{{"templateID", tpl->id}, {"public", tpl->is_public}};
}

std::optional<TemplateRuntime> TemplateStore::Resolve(const std::string& name_or_id) {
  if (name_or_id == "base" || name_or_id == "base:default") {
    TemplateRuntime base;
    base.template_id = "base";
    return base;
  }
  std::lock_guard lock(mu_);
  auto tpl = FindLocked(name_or_id);
  if (!tpl || !tpl->runtime) return std::nullopt;
  return tpl->runtime;
}

}  // namespace swarm::sandboxd
