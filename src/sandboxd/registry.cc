#include "sandboxd/registry.h"

#include <sys/random.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/bounded_json.h"
#include "core/clock.h"
#include "core/log.h"

namespace swarm::sandboxd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string RandomBytes(std::size_t n) {
  std::string bytes(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(bytes.data() + got, n - got, 0);
    if (r > 0) got += static_cast<std::size_t>(r);
  }
  return bytes;
}

std::string SandboxesDir(const std::string& root) { return root + "/sandboxes"; }

}  // namespace

std::string NewSandboxId() {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "i";
  for (unsigned char b : RandomBytes(20)) id.push_back(kAlphabet[b % kAlphabet.size()]);
  return id;
}

std::string NewAccessToken() {
  std::string token;
  for (unsigned char b : RandomBytes(32)) token += fmt::format("{:02x}", b);
  return token;
}

SystemTime SandboxEntry::end_at() const {
  std::lock_guard lock(mu_);
  return end_at_;
}

SandboxRegistry::SandboxRegistry(RegistryOptions options, TemplateStore* templates)
    : options_(std::move(options)), templates_(templates) {}

SandboxRegistry::~SandboxRegistry() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (ttl_thread_.joinable()) ttl_thread_.join();
  KillAll();
}

std::size_t SandboxRegistry::Recover() {
  std::size_t found = 0;
  std::error_code ec;
  fs::create_directories(SandboxesDir(options_.root), ec);
  for (const auto& dir : fs::directory_iterator(SandboxesDir(options_.root), ec)) {
    ++found;
    const std::string id = dir.path().filename().string();
    std::ifstream file(dir.path() / "record.json");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    sandbox::SandboxTrace trace;
    trace.id = id;
    if (auto record = ParseBoundedJson(text); record && record->is_object()) {
      trace.pid_ns_inode = record->value("pidNsInode", 0UL);
      trace.sessions = record->value("sessions", std::vector<pid_t>{});
    }
    const std::size_t killed = sandbox::KillLeftovers(trace);
    // Killed processes leave their groups a moment later (the host's init reaps them).
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (!sandbox::SandboxCgroup::RemoveLeftover("agent-swarm-" + id) &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
    fs::remove_all(dir.path(), ec);
    log::Info("sandbox gone after restart", {{"sandboxID", id}, {"killedProcesses", killed}});
  }
  ttl_thread_ = std::thread([this] { TtlLoop(); });
  return found;
}

Result<std::shared_ptr<SandboxEntry>> SandboxRegistry::Create(const CreateRequest& request) {
  std::optional<TemplateRuntime> runtime;
  if (templates_) {
    runtime = templates_->Resolve(request.template_id);
  } else if (request.template_id == "base" || request.template_id == "base:default") {
    runtime = TemplateRuntime{.template_id = "base"};
  }
  if (!runtime) return NotFound(fmt::format("template '{}' not found", request.template_id));
  if (request.timeout.count() <= 0 || request.timeout > options_.max_timeout) {
    return BadRequest(
        fmt::format("timeout must be between 1 and {} seconds", options_.max_timeout.count()));
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("sandboxd is shutting down");
    if (sandboxes_.size() + creating_ >= options_.max_sandboxes) {
      return Unavailable(
          fmt::format("sandboxd already runs {} sandboxes, its limit", options_.max_sandboxes));
    }
    ++creating_;
  }
  auto entry = std::make_shared<SandboxEntry>();
  entry->id = NewSandboxId();
  entry->template_id = runtime->template_id;
  entry->metadata = request.metadata;
  entry->access_token = request.secure ? NewAccessToken() : "";
  entry->started_at = std::chrono::system_clock::now();
  entry->end_at_ = entry->started_at + request.timeout;
  entry->cpu_count = request.cpu_count.value_or(runtime->cpu_count);
  entry->memory_mb = request.memory_mb.value_or(runtime->memory_mb);

  sandbox::LocalSandboxSpec spec;
  spec.id = entry->id;
  spec.dir = SandboxesDir(options_.root) + "/" + entry->id;
  spec.hide_dir = options_.root;
  spec.env_vars = runtime->env;
  for (const auto& [k, v] : request.env_vars) spec.env_vars[k] = v;
  spec.ro_binds = runtime->ro_binds;
  spec.default_cwd = runtime->workdir;
  spec.cpu_count = entry->cpu_count;
  spec.memory_mb = entry->memory_mb;
  spec.max_processes = options_.max_processes;
  spec.max_output_bytes = options_.max_output_bytes;
  auto made = sandbox::LocalSandbox::Create(options_.isolation, std::move(spec));
  std::unique_lock lock(mu_);
  --creating_;
  if (!made) return tl::unexpected(made.error());
  entry->sandbox = std::move(*made);
  if (!entry->sandbox->skipped_limits().empty()) {
    log::Info("sandbox runs without some cgroup limits",
              {{"sandboxID", entry->id}, {"why", entry->sandbox->skipped_limits()}});
  }
  sandboxes_[entry->id] = entry;
  lock.unlock();
  SaveRecord(*entry);
  if (auto started = RunStartCommands(*entry, *runtime); !started) {
    Remove(entry, "its template's start failed");
    return tl::unexpected(started.error());
  }
  cv_.notify_all();
  log::Info("sandbox created", {{"sandboxID", entry->id},
                                {"templateID", entry->template_id},
                                {"timeoutSec", request.timeout.count()}});
  return entry;
}

Result<void> SandboxRegistry::RunStartCommands(SandboxEntry& entry,
                                               const TemplateRuntime& runtime) {
  auto bash = [](const std::string& command) {
    sandbox::StartSpec start;
    start.config.cmd = "/bin/bash";
    start.config.args = {"-l", "-c", command};
    return start;
  };
  if (!runtime.start_cmd.empty()) {
    auto start = bash(runtime.start_cmd);
    start.tag = "start-cmd";
    auto process = entry.sandbox->Start(start);
    if (!process) return tl::unexpected(process.error());
    SaveRecord(entry);
  }
  if (runtime.ready_cmd.empty()) return {};
  // E2B retries the ready command until it succeeds; here within a bound, every 200 ms.
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    auto check = bash(runtime.ready_cmd);
    check.timeout = 10s;
    auto process = entry.sandbox->Start(check);
    if (!process) return tl::unexpected(process.error());
    (*process)->WaitEnded(11s);
    const auto events = (*process)->output().ReadFrom(0).events;
    if (!events.empty() && events.back().kind == sandbox::ProcessEvent::Kind::kEnd &&
        events.back().exited && events.back().exit_code == 0) {
      return {};
    }
    std::this_thread::sleep_for(200ms);
  }
  return Unavailable("the template's ready command did not succeed within 60 s");
}

void SandboxRegistry::SaveRecord(const SandboxEntry& entry) {
  if (!entry.sandbox) return;
  const auto trace = entry.sandbox->trace();
  // No env values and no token: the record only finds and describes the sandbox.
  nlohmann::json record = {{"sandboxID", entry.id},
                           {"templateID", entry.template_id},
                           {"startedAt", FormatIsoTime(entry.started_at)},
                           {"bwrapPid", trace.bwrap_pid},
                           {"initPid", trace.init_pid},
                           {"pidNsInode", trace.pid_ns_inode},
                           {"sessions", trace.sessions}};
  const std::string path = entry.sandbox->dir() + "/record.json";
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << record.dump();
    if (!out) return;
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
}

std::shared_ptr<SandboxEntry> SandboxRegistry::Get(const std::string& id) {
  std::shared_ptr<SandboxEntry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = sandboxes_.find(id);
    if (it == sandboxes_.end()) return nullptr;
    entry = it->second;
  }
  if (entry->end_at() <= std::chrono::system_clock::now()) {
    Remove(entry, "timeout");
    return nullptr;
  }
  if (!entry->sandbox->alive()) {
    Remove(entry, "its init died");
    return nullptr;
  }
  return entry;
}

std::vector<std::shared_ptr<SandboxEntry>> SandboxRegistry::List(const StringMap& filter) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : sandboxes_) ids.push_back(id);
  }
  std::vector<std::shared_ptr<SandboxEntry>> found;
  for (const auto& id : ids) {
    auto entry = Get(id);
    if (!entry) continue;
    bool match = std::all_of(filter.begin(), filter.end(), [&](const auto& pair) {
      auto it = entry->metadata.find(pair.first);
      return it != entry->metadata.end() && it->second == pair.second;
    });
    if (match) found.push_back(std::move(entry));
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a->started_at < b->started_at; });
  return found;
}

void SandboxRegistry::Remove(const std::shared_ptr<SandboxEntry>& entry, const char* reason) {
  {
    std::lock_guard lock(mu_);
    auto it = sandboxes_.find(entry->id);
    if (it == sandboxes_.end() || it->second != entry) return;
    sandboxes_.erase(it);
  }
  entry->sandbox->Kill();
  log::Info("sandbox killed", {{"sandboxID", entry->id}, {"reason", reason}});
}

bool SandboxRegistry::Kill(const std::string& id) {
  std::shared_ptr<SandboxEntry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = sandboxes_.find(id);
    if (it == sandboxes_.end()) return false;
    entry = it->second;
  }
  const bool was_running =
      entry->end_at() > std::chrono::system_clock::now() && entry->sandbox->alive();
  Remove(entry, was_running ? "killed" : "timeout");
  return was_running;
}

Result<void> SandboxRegistry::SetTimeout(const std::string& id, std::chrono::seconds timeout,
                                         bool extend_only) {
  if (timeout.count() < 0 || timeout > options_.max_timeout) {
    return BadRequest(
        fmt::format("timeout must be between 0 and {} seconds", options_.max_timeout.count()));
  }
  auto entry = Get(id);
  if (!entry) return NotFound(fmt::format("sandbox '{}' not found", id));
  {
    std::lock_guard lock(entry->mu_);
    const auto end = std::chrono::system_clock::now() + timeout;
    if (!extend_only || end > entry->end_at_) entry->end_at_ = end;
  }
  cv_.notify_all();
  return {};
}

void SandboxRegistry::KillAll() {
  std::map<std::string, std::shared_ptr<SandboxEntry>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(sandboxes_);
  }
  for (auto& [id, entry] : all) {
    entry->sandbox->Kill();
    log::Info("sandbox killed", {{"sandboxID", id}, {"reason", "sandboxd stopped"}});
  }
}

void SandboxRegistry::ExpireDue() {
  std::vector<std::shared_ptr<SandboxEntry>> due;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::system_clock::now();
    for (const auto& [id, entry] : sandboxes_) {
      if (entry->end_at() <= now) due.push_back(entry);
    }
  }
  for (auto& entry : due) Remove(entry, "timeout");
  // A sandbox whose init died (killed from outside) is over too.
  std::vector<std::shared_ptr<SandboxEntry>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : sandboxes_) all.push_back(entry);
  }
  for (auto& entry : all) {
    if (!entry->sandbox->alive()) Remove(entry, "its init died");
  }
}

std::size_t SandboxRegistry::size() {
  std::lock_guard lock(mu_);
  return sandboxes_.size();
}

void SandboxRegistry::TtlLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Woken by a new sandbox or timeout; otherwise at the next end time, at most every second
    // (to notice a sandbox whose init died).
    auto next = std::chrono::system_clock::now() + 1s;
    for (const auto& [id, entry] : sandboxes_) next = std::min(next, entry->end_at());
    cv_.wait_until(lock, next);
    if (stopping_) break;
    lock.unlock();
    ExpireDue();
    lock.lock();
  }
}

}  // namespace swarm::sandboxd
