#include "cli/e2b_backends.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "core/log.h"
#include "http/client.h"
#include "sandbox/e2b_client.h"
#include "sandbox/e2b_config.h"
#include "sandbox/template_client.h"

namespace swarm {
namespace {

// The command's view of E2B's template build API over the client's TemplateService.
class TemplateServiceOps final : public TemplateOps {
 public:
  explicit TemplateServiceOps(std::unique_ptr<sandbox::TemplateService> service)
      : service_(std::move(service)) {}

  Result<void> Build(const TemplateBuildRequest& request,
                     const std::function<void(std::string_view)>& log) override {
    sandbox::TemplateSpec spec;
    spec.name = request.name;
    spec.from_image = request.image;
    spec.start_cmd = request.start_cmd;
    spec.ready_cmd = request.ready_cmd;
    spec.cpu_count = request.cpu_count;
    spec.memory_mb = request.memory_mb;
    spec.force = request.no_cache;
    spec.env = request.env;
    for (const auto& file : request.files) {
      sandbox::TemplateFile copy;
      copy.local_path = file.local_path;
      copy.dest_path = file.dest_path;
      copy.mode = file.mode;
      spec.files.push_back(std::move(copy));
    }
    auto built = service_->Build(spec, [&](const sandbox::BuildLogEntry& entry) {
      if (log) log(entry.message);
    });
    if (!built) return tl::unexpected(built.error());
    return {};
  }
  Result<void> SetPublic(std::string_view name, bool is_public) override {
    return service_->SetPublic(name, is_public);
  }
  Result<bool> Delete(std::string_view name) override { return service_->Delete(name); }

 private:
  std::unique_ptr<sandbox::TemplateService> service_;
};

}  // namespace

std::shared_ptr<E2bEnvironment> ProcessE2bEnvironment() {
  auto env = std::make_shared<E2bEnvironment>();
  env->process_env = sandbox::ProcessEnvironment();
  std::error_code ec;
  env->cwd = std::filesystem::current_path(ec).string();
  env->out = &std::cout;
  env->err = &std::cerr;
  env->stdin_is_terminal = [] { return ::isatty(STDIN_FILENO) == 1; };
  env->init_logging = [](bool verbose) {
    log::Init();
    spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);
  };
  env->make_provider = [](const sandbox::StringMap& controller)
      -> Result<std::unique_ptr<sandbox::SandboxProvider>> {
    return std::make_unique<sandbox::E2bSandboxProvider>(sandbox::E2bConfig::FromEnv(controller),
                                                         std::make_unique<http::CurlHttpClient>());
  };
  env->make_templates =
      [](const sandbox::StringMap& controller) -> Result<std::unique_ptr<TemplateOps>> {
    return std::make_unique<TemplateServiceOps>(std::make_unique<sandbox::E2bTemplateService>(
        sandbox::E2bConfig::FromEnv(controller), std::make_unique<http::CurlHttpClient>()));
  };
  env->make_probe = [] {
    static http::CurlHttpClient http;
    return sandbox::HttpRegistrationProbe(http);
  };
  return env;
}

}  // namespace swarm
