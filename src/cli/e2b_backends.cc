#include "cli/e2b_backends.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "http/client.h"

extern char** environ;

namespace swarm {
namespace {

sandbox::StringMap ProcessEnvironment() {
  sandbox::StringMap env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string_view::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

}  // namespace

std::shared_ptr<E2bEnvironment> ProcessE2bEnvironment() {
  auto env = std::make_shared<E2bEnvironment>();
  env->process_env = ProcessEnvironment();
  std::error_code ec;
  env->cwd = std::filesystem::current_path(ec).string();
  env->out = &std::cout;
  env->err = &std::cerr;
  env->stdin_is_terminal = [] { return ::isatty(STDIN_FILENO) == 1; };
  // The E2B clients (E2bSandboxProvider, TemplateService) plug in here; until they are in the
  // build, commands that need E2B say so and exit 1.
  env->make_provider =
      [](const sandbox::StringMap&) -> Result<std::unique_ptr<sandbox::SandboxProvider>> {
    return Unavailable("this build has no E2B client yet");
  };
  env->make_templates = [](const sandbox::StringMap&) -> Result<std::unique_ptr<TemplateOps>> {
    return Unavailable("this build has no E2B template client yet");
  };
  env->make_probe = [] {
    static http::CurlHttpClient http;
    return sandbox::HttpRegistrationProbe(http);
  };
  return env;
}

}  // namespace swarm
