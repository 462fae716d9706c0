#include "api/smoke_backend.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "core/log.h"
#include "core/role_process.h"
#include "sandbox/deferred_provider.h"
#include "sandbox/dotenv.h"
#include "sandbox/e2b_client.h"
#include "sandbox/e2b_config.h"
#include "sandbox/env_redaction.h"
#include "sandbox/template_client.h"
#include "sandbox/worker_entrypoint.h"
#include "smoke/smoke_request.h"

namespace swarm {
namespace {

constexpr std::array<const char*, 3> kBaseUrlVars = {"ANTHROPIC_BASE_URL", "OPENAI_BASE_URL",
                                                     "OPENROUTER_BASE_URL"};
constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

std::string EnvValue(const sandbox::StringMap& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

// 32 random bytes as hex: the embedded sandboxd's key, known only to this process and it.
Result<std::string> RandomKey() {
  std::array<unsigned char, 32> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(fmt::format("cannot read random bytes: {}", std::strerror(errno)));
    }
    got += static_cast<std::size_t>(n);
  }
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

// Bounds the worker template's build in a fresh sandboxd (a copy of a few files: ~200 ms).
constexpr std::chrono::milliseconds kTemplateBuildLimit{60'000};

// Starts `<self> sandboxd` with a fresh random key and builds the worker template in it.
Result<sandbox::OpenedSandboxes> StartEmbeddedSandboxd(RoleProcessSpec spec, http::HttpClient& http,
                                                       const std::string& template_id) {
  auto key = RandomKey();
  if (!key) return tl::unexpected(key.error());
  spec.env["SANDBOXD_API_KEY"] = *key;
  // The log of the one before (a sandboxd that died, or the last API's) is kept one generation.
  std::error_code ignored;
  if (std::filesystem::exists(spec.log_path, ignored)) {
    std::filesystem::rename(spec.log_path, spec.log_path + ".1", ignored);
  }
  auto started = RoleProcess::Start(spec);
  if (!started) {
    return MakeError(started.error().code,
                     "cannot start the embedded sandboxd: " + started.error().message);
  }
  std::shared_ptr<RoleProcess> child = std::move(*started);
  sandbox::E2bConfig local;
  local.api_key = *key;
  local.api_url = fmt::format("http://127.0.0.1:{}", child->port());
  local.sandbox_url = local.api_url;
  local.domain = std::string(sandbox::kDefaultE2bDomain);
  sandbox::E2bTemplateService templates(local, http);
  auto built = templates.Build(sandbox::LocalWorkerTemplate(template_id), nullptr);
  if (!built) {
    child->Stop();
    return MakeError(built.error().code,
                     fmt::format("cannot build the worker template {} in the embedded sandboxd: {}",
                                 template_id, built.error().message));
  }
  log::Info("embedded sandboxd started",
            {{"sandboxes", local.api_url}, {"pid", child->pid()}, {"template", template_id}});
  sandbox::OpenedSandboxes opened;
  opened.provider = std::make_shared<sandbox::E2bSandboxProvider>(local, http);
  opened.alive = [child] {
    if (child->Running()) return true;
    log::Warn("embedded sandboxd died; the next smoke run starts it again",
              {{"pid", child->pid()}, {"log", child->log_path()}});
    return false;
  };
  opened.stop = [child] { child->Stop(); };
  return opened;
}

}  // namespace

std::optional<SmokeBackendKind> ParseSmokeBackendKind(std::string_view name) {
  if (name == "auto") return SmokeBackendKind::kAuto;
  if (name == "e2b") return SmokeBackendKind::kE2b;
  if (name == "local") return SmokeBackendKind::kLocal;
  if (name == "off") return SmokeBackendKind::kOff;
  return std::nullopt;
}

const char* SmokeBackendKindName(SmokeBackendKind kind) {
  switch (kind) {
    case SmokeBackendKind::kAuto:
      return "auto";
    case SmokeBackendKind::kE2b:
      return "e2b";
    case SmokeBackendKind::kLocal:
      return "local";
    case SmokeBackendKind::kOff:
      return "off";
  }
  return "auto";
}

SmokeBackendKind ResolveSmokeBackendKind(SmokeBackendKind requested,
                                         const sandbox::StringMap& env) {
  if (requested != SmokeBackendKind::kAuto) return requested;
  const bool e2b = !EnvValue(env, "E2B_API_KEY").empty() || !EnvValue(env, "E2B_API_URL").empty();
  return e2b ? SmokeBackendKind::kE2b : SmokeBackendKind::kLocal;
}

Result<sandbox::StringMap> ReadSmokeSecretsFile(const std::string& path) {
  // One descriptor for the check and the read: the file checked is the file read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return BadRequest(
        fmt::format("cannot open --smoke-secrets {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return BadRequest(fmt::format("cannot stat --smoke-secrets {}: {}", path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return BadRequest(fmt::format("--smoke-secrets {} is not a regular file", path));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    return BadRequest(fmt::format(
        "--smoke-secrets {} is open to group or others (mode {:04o}): it holds credentials; "
        "chmod 600 {}",
        path, st.st_mode & 07777, path));
  }
  std::string text;
  std::array<char, 8192> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return BadRequest(
          fmt::format("cannot read --smoke-secrets {}: {}", path, std::strerror(err)));
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > sandbox::kMaxDotenvBytes) {
      ::close(fd);
      return BadRequest(fmt::format("--smoke-secrets {} is larger than {} bytes", path,
                                    sandbox::kMaxDotenvBytes));
    }
  }
  ::close(fd);
  return sandbox::ParseDotenv(text);
}

sandbox::StringMap SmokeCredentials(const sandbox::StringMap& env,
                                    const sandbox::StringMap& secrets_file) {
  sandbox::StringMap out;
  for (std::string_view provider : kSmokeProviders) {
    for (const auto& var : smoke::ProviderCredentialVars(std::string(provider))) {
      if (auto value = EnvValue(env, var); !value.empty()) out[var] = value;
    }
  }
  for (const char* var : kBaseUrlVars) {
    if (auto value = EnvValue(env, var); !value.empty()) out[var] = value;
  }
  for (const auto& [key, value] : secrets_file) out[key] = value;
  return out;
}

std::vector<std::string> SmokeSecretValues(const sandbox::StringMap& credentials) {
  std::vector<std::string> out;
  constexpr std::size_t kLongEnough = 8;
  for (const auto& [key, value] : credentials) {
    if (key.ends_with("_BASE_URL") || value.empty()) continue;
    if (sandbox::IsSensitiveKey(key) || value.size() >= kLongEnough) out.push_back(value);
  }
  return out;
}

Result<sandbox::StringMap> ParseWorkerEnv(const std::vector<std::string>& entries) {
  sandbox::StringMap out;
  for (const auto& entry : entries) {
    const auto eq = entry.find('=');
    const std::string key = entry.substr(0, eq);
    if (eq == std::string::npos || !sandbox::IsValidEnvKey(key)) {
      return BadRequest(fmt::format(
          "--smoke-worker-env takes KEY=VALUE with KEY of [A-Za-z_][A-Za-z0-9_]*; got '{}'",
          eq == std::string::npos ? std::string("no '='") : key));
    }
    out[key] = entry.substr(eq + 1);
  }
  return out;
}

sandbox::StringMap LocalWorkerEnv(const sandbox::StringMap& env, const std::string& self_exe) {
  sandbox::StringMap out;
  out["AGENT_SWARM_BIN"] = self_exe;
  const std::string path = EnvValue(env, "PATH");
  out["PATH"] = path.empty() ? kDefaultPath : path;
  if (auto dir = EnvValue(env, "HARNESS_BIN_DIR"); !dir.empty()) out["HARNESS_BIN_DIR"] = dir;
  return out;
}

std::string DefaultPublicUrl(const std::string& host, uint16_t port) {
  const bool loopback_or_any = host.empty() || host == "0.0.0.0" || host == "::" ||
                               host == "localhost" || host.starts_with("127.");
  if (loopback_or_any) return fmt::format("http://127.0.0.1:{}", port);
  if (host == "::1") return fmt::format("http://[::1]:{}", port);
  if (host.find(':') != std::string::npos) return fmt::format("http://[{}]:{}", host, port);
  return fmt::format("http://{}:{}", host, port);
}

Result<std::shared_ptr<SmokeBackend>> SmokeBackend::Open(const SmokeBackendConfig& config,
                                                         const sandbox::StringMap& env,
                                                         const std::string& self_exe) {
  std::shared_ptr<SmokeBackend> backend(new SmokeBackend());
  backend->http_ = std::make_unique<http::CurlHttpClient>();
  if (config.kind == SmokeBackendKind::kE2b) {
    sandbox::E2bConfig e2b = sandbox::E2bConfig::FromEnv(env);
    if (e2b.api_key.empty()) {
      return BadRequest(
          "smoke runs on E2B need E2B_API_KEY (or --smoke-backend local for the embedded "
          "sandboxd, or off)");
    }
    backend->kind_ = SmokeBackendKind::kE2b;
    backend->endpoint_ = e2b.api_url;
    backend->sandboxes_ = std::make_unique<sandbox::E2bSandboxProvider>(e2b, *backend->http_);
    return backend;
  }
  if (config.kind != SmokeBackendKind::kLocal) {
    return Internal("SmokeBackend::Open needs a resolved backend (e2b or local)");
  }

  // The embedded sandboxd starts with the first smoke run, not with the API (see
  // sandbox/deferred_provider.h), and again after it died.
  backend->kind_ = SmokeBackendKind::kLocal;
  backend->endpoint_ = "embedded sandboxd (started by the first run)";
  RoleProcessSpec spec;
  spec.executable = self_exe;
  spec.args = {"sandboxd", "--port", "0", "--root", config.db_path + ".sandboxd"};
  // Its whole environment: the key (added per start), and what any process needs; none of the
  // API's secrets.
  spec.env["PATH"] = EnvValue(env, "PATH").empty() ? kDefaultPath : EnvValue(env, "PATH");
  for (const char* var : {"HOME", "TMPDIR", "LANG", "TZ"}) {
    if (auto value = EnvValue(env, var); !value.empty()) spec.env[var] = value;
  }
  spec.log_path = config.db_path + ".sandboxd.log";
  spec.start_timeout = config.start_timeout;
  http::HttpClient* http = backend->http_.get();
  auto deferred = std::make_unique<sandbox::DeferredSandboxProvider>(
      [spec, http, template_id = config.template_id] {
        return StartEmbeddedSandboxd(spec, *http, template_id);
      },
      config.start_timeout + kTemplateBuildLimit);
  backend->deferred_ = deferred.get();
  backend->sandboxes_ = std::move(deferred);
  return backend;
}

SmokeBackend::~SmokeBackend() { Stop(); }

void SmokeBackend::Stop() {
  if (deferred_) deferred_->Stop();
}

}  // namespace swarm
