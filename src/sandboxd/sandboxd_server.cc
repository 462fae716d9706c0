#include "sandboxd/sandboxd_server.h"

#include <cstdlib>
#include <filesystem>

#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "core/redact.h"
#include "http/access_log.h"
#include "http/server.h"
#include "sandbox/local_runtime.h"
#include "sandboxd/registry.h"
#include "sandboxd/routes.h"
#include "sandboxd/templates.h"

namespace swarm::sandboxd {
namespace {

namespace asio = boost::asio;

// Uploads through POST /files arrive whole in memory; this bounds one.
constexpr std::size_t kBodyLimit = 64 << 20;

asio::awaitable<http::HttpResponse> Serve(SandboxdRoutes* routes, http::HttpRequest request) {
  co_return co_await routes->Dispatch(std::move(request));
}

std::string DefaultRoot() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/agent-swarm-sandboxd";
}

}  // namespace

int RunSandboxd(SandboxdOptions options) {
  if (options.api_key.empty()) {
    log::Error("no API key: set SANDBOXD_API_KEY (or E2B_API_KEY) for sandboxd to accept");
    return 2;
  }
  RegisterSecret(options.api_key);
  std::error_code ec;
  const std::string root =
      std::filesystem::absolute(options.root.empty() ? DefaultRoot() : options.root, ec)
          .lexically_normal()
          .string();
  std::filesystem::create_directories(root, ec);
  if (ec) {
    log::Error("cannot create the state directory", {{"root", root}, {"error", ec.message()}});
    return 1;
  }

  std::string why;
  const auto isolation = sandbox::ProbeIsolation(&why);
  if (isolation == sandbox::Isolation::kProcessGroup) {
    log::Warn("sandboxes are NOT isolated: each runs as a plain process group on this host",
              {{"why", why}});
  }
  RegistryOptions registry_options;
  registry_options.root = root;
  registry_options.isolation = isolation;
  registry_options.max_sandboxes = options.max_sandboxes;
  TemplateStore templates(root);
  templates.Load();
  SandboxRegistry registry(registry_options, &templates);
  if (const auto found = registry.Recover(); found > 0) {
    log::Info("cleaned up after an earlier run", {{"sandboxes", found}});
  }
  SandboxdRoutes routes(registry, &templates, RoutesOptions{.api_key = options.api_key});

  const int threads = std::max(2, options.threads);
  asio::io_context io(threads);
  http::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.body_limit = kBodyLimit;
  server_options.head_hook = [&routes](const http::HttpRequest& head) {
    return routes.Admit(head);
  };
  http::HttpServer server(
      io, server_options,
      [&routes](http::HttpRequest request) { return Serve(&routes, std::move(request)); },
      options.access_log ? http::AccessLogger(http::WriteAccessLog) : nullptr);
  http::StopSignals stop_signals(io);  // before "listening": see StopSignals
  auto port = server.Listen();
  if (!port) {
    log::Error("cannot listen",
               {{"host", options.host}, {"port", options.port}, {"error", port.error().message}});
    return 1;
  }
  log::Info("listening",
            {{"host", options.host},
             {"port", *port},
             {"root", root},
             {"isolation",
              isolation == sandbox::Isolation::kBubblewrap ? "bubblewrap" : "process-group"}});
  // Killing the sandboxes first ends their open Start streams, so the drain is quick.
  http::RunUntilStopped(io, server, stop_signals, threads, options.shutdown_grace,
                        [&registry] { registry.KillAll(); });
  registry.KillAll();
  log::Info("stopped");
  return 0;
}

}  // namespace swarm::sandboxd
