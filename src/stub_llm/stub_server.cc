#include "stub_llm/stub_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"
#include "http/server.h"
#include "stub_llm/script.h"
#include "stub_llm/stub_service.h"

namespace swarm::stub_llm {
namespace {

namespace asio = boost::asio;

// Claude Code sends its whole conversation and ~64 KB of tool schemas on every turn; a long
// session outgrows the server's 1 MiB default.
constexpr std::size_t kBodyLimit = 64 << 20;

asio::awaitable<http::HttpResponse> Serve(StubService* service, http::HttpRequest request) {
  co_return co_await service->Handle(std::move(request));
}

}  // namespace

int RunStubLlm(const StubServerOptions& options) {
  ScriptSpec spec;
  if (!options.script_path.empty()) {
    auto loaded = LoadScript(options.script_path);
    if (!loaded) {
      log::Error("bad script",
                 {{"script", options.script_path}, {"error", loaded.error().message}});
      return 2;
    }
    spec = std::move(*loaded);
  }
  const std::size_t rules = spec.rules.size();
  Script script(options.reply, std::move(spec));
  StubService service(script);
  const int threads = std::max(1, options.threads);
  asio::io_context io(threads);

  http::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.body_limit = kBodyLimit;
  http::HttpServer server(io, server_options, [&service](http::HttpRequest request) {
    return Serve(&service, std::move(request));
  });
  http::StopSignals stop_signals(io);  // before "listening": see StopSignals
  auto port = server.Listen();
  if (!port) {
    log::Error("cannot listen",
               {{"host", options.host}, {"port", options.port}, {"error", port.error().message}});
    return 1;
  }
  nlohmann::json fields = {{"host", options.host}, {"port", *port}, {"rules", rules}};
  if (!options.script_path.empty()) fields["script"] = options.script_path;
  log::Info("listening", std::move(fields));

  http::RunUntilStopped(io, server, stop_signals, threads, options.shutdown_grace);
  log::Info("stopped");
  return 0;
}

}  // namespace swarm::stub_llm
