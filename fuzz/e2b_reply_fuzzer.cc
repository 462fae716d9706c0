// The E2B client's reading of replies it does not control: control-plane calls (create, get,
// list with its pagination, kill, timeout, connect), envd's unary and streamed process calls,
// file reads, and a template build (file links, upload, build status polled with its log).
// The first byte picks the call; the rest is the server's replies in order, separated by
// "\n@@\n", each a status byte (its low bits pick the status, its high bit adds an
// X-Next-Token header) and the body. Once the replies run out the server answers 599.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sandbox/e2b_client.h"
#include "sandbox/e2b_test_fakes.h"
#include "sandbox/template_client.h"

namespace {

using namespace swarm;
using namespace swarm::sandbox;

constexpr std::string_view kSeparator = "\n@@\n";
constexpr int kStatuses[] = {200, 201, 202, 204, 400, 401, 404, 409,
                             429, 500, 502, 503, 200, 200, 200, 200};

void QueueReplies(test_support::ScriptedHttp& http, std::string_view rest) {
  while (!rest.empty()) {
    const std::size_t end = rest.find(kSeparator);
    std::string_view reply = rest.substr(0, end);
    rest =
        end == std::string_view::npos ? std::string_view() : rest.substr(end + kSeparator.size());
    if (reply.empty()) continue;
    const auto head = static_cast<uint8_t>(reply[0]);
    http::HeaderList headers;
    if (head & 0x80) headers.emplace_back("X-Next-Token", "next");
    if (head & 0x40) headers.emplace_back("Retry-After", "1");
    http.Queue(kStatuses[head % 16], std::string(reply.substr(1)), std::move(headers));
  }
}

E2bConfig Config() {
  E2bConfig config;
  config.api_key = "e2b_fuzz_key";
  config.api_url = "http://127.0.0.1:9";
  config.domain = "e2b.app";
  return config;
}

e2b::ApiOptions Api() {
  e2b::ApiOptions api;
  api.max_rate_limit_retries = 1;
  api.sleep = [](std::chrono::milliseconds) {};  // no real waits
  return api;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  test_support::ScriptedHttp http;
  http.chunk_size = 7;  // streamed bodies arrive split mid-envelope
  QueueReplies(http, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));

  if (data[0] % 12 == 11) {
    TemplateClientOptions options;
    options.api = Api();
    options.poll_interval = std::chrono::milliseconds(0);
    options.build_timeout = std::chrono::milliseconds(2000);
    E2bTemplateService templates(Config(), http, options);
    TemplateSpec spec;
    spec.name = "fuzz:v1";
    spec.start_cmd = "/docker-entrypoint.sh";
    spec.files.push_back(TemplateFile{.content = "#!/bin/sh\n", .dest_path = "/run.sh"});
    (void)templates.Build(spec, [](const BuildLogEntry& entry) { (void)entry.message.size(); });
    return 0;
  }

  E2bClientOptions options;
  options.api = Api();
  options.max_list_pages = 3;
  options.start_timeout = std::chrono::milliseconds(2000);
  E2bSandboxProvider provider(Config(), http, options);
  const SandboxHandle sandbox{"isandbox1", "token", ""};
  switch (data[0] % 12) {
    case 0:
      (void)provider.Create(SandboxSpec{});
      break;
    case 1:
      (void)provider.Get("isandbox1");
      break;
    case 2:
      (void)provider.List({{"app", "swarm"}});
      break;
    case 3:
      (void)provider.Kill("isandbox1");
      break;
    case 4:
      (void)provider.SetTimeout("isandbox1", std::chrono::seconds(60));
      break;
    case 5:
      (void)provider.Connect("isandbox1", std::chrono::seconds(60));
      break;
    case 6:
      (void)provider.Run(sandbox, CommandSpec{.cmd = "true"});
      break;
    case 7:
      (void)provider.StartBackground(sandbox, CommandSpec{.cmd = "sleep 1"});
      break;
    case 8:
      (void)provider.ListProcesses(sandbox);
      break;
    case 9:
      (void)provider.SendSignal(sandbox, 7, Signal::kTerm);
      break;
    default:
      (void)provider.ReadFile(sandbox, "/tmp/x");
      break;
  }
  return 0;
}
