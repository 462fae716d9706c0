// sandboxd's HTTP surface, both planes on one port: E2B's control plane (X-API-Key) and each
// sandbox's envd (routed by the E2b-Sandbox-Id header, X-Access-Token for secure sandboxes).
// Handlers are thin: the registry and the local runtime do the work.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "http/message.h"
#include "http/router.h"
#include "sandbox/local_process.h"
#include "sandboxd/registry.h"
#include "sandboxd/templates.h"

namespace swarm::sandboxd {

struct RoutesOptions {
  std::string api_key;  // secret
  std::size_t max_json_bytes = 1 << 20;
  std::size_t max_file_bytes = 64 << 20;
  std::chrono::seconds default_keepalive{90};  // envd's, when the client asks for none
};

class SandboxdRoutes {
 public:
  // `templates`: the build API (null: only "base", no build routes).
  SandboxdRoutes(SandboxRegistry& registry, TemplateStore* templates, RoutesOptions options);

  boost::asio::awaitable<http::HttpResponse> Dispatch(http::HttpRequest request);
  // The server's head hook: refuses a control-plane request without the key before its body
  // is read.
  std::optional<http::HttpResponse> Admit(const http::HttpRequest& head) const;

  // Whether a request is for envd rather than the control plane.
  static bool IsEnvdRequest(const http::HttpRequest& request);

 private:
  using Sync = http::HttpResponse (SandboxdRoutes::*)(const http::HttpRequest&,
                                                      const http::PathParams&);
  void Add(const char* method, const char* pattern, http::Access access, Sync handler);
  bool KeyMatches(const http::HttpRequest& request) const;

  // Control plane.
  http::HttpResponse CreateV1(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse CreateV2(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse Create(const http::HttpRequest& r, bool v2);
  http::HttpResponse List(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse GetOne(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse KillOne(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse Timeout(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse Refresh(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse Connect(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse Health(const http::HttpRequest& r, const http::PathParams& p);

  // Templates (build API).
  http::HttpResponse TemplateRequestBuild(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateFiles(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateUpload(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateStartBuild(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateBuildStatus(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplatePublishV2(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplatePublishV1(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateDelete(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateList(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateGet(const http::HttpRequest& r, const http::PathParams& p);
  http::HttpResponse TemplateAlias(const http::HttpRequest& r, const http::PathParams& p);

  // envd.
  http::HttpResponse Envd(const http::HttpRequest& request);
  http::HttpResponse ProcessStart(const http::HttpRequest& r, SandboxEntry& sandbox);
  http::HttpResponse ProcessConnect(const http::HttpRequest& r, SandboxEntry& sandbox);
  http::HttpResponse ProcessUnary(const http::HttpRequest& r, SandboxEntry& sandbox,
                                  std::string_view method);
  http::HttpResponse FilesystemUnary(const http::HttpRequest& r, SandboxEntry& sandbox,
                                     std::string_view method);
  http::HttpResponse FilesGet(const http::HttpRequest& r, SandboxEntry& sandbox);
  http::HttpResponse FilesPost(const http::HttpRequest& r, SandboxEntry& sandbox);
  http::HttpResponse StreamOf(std::shared_ptr<sandbox::LocalProcess> process,
                              const http::HttpRequest& request, bool replay_output);

  SandboxRegistry& registry_;
  TemplateStore* templates_;
  const RoutesOptions options_;
  http::Router router_;
};

// Streams a process's events as Connect envelopes until its end (then the end-of-stream
// envelope), the client hanging up, or a write failing; a keepalive event after each
// `keepalive` of silence. Never ends the process. The start event always comes first; then
// output from the beginning (`replay_output`, Start) or only what comes from now on (Connect,
// as envd does).
boost::asio::awaitable<void> StreamProcess(std::shared_ptr<sandbox::LocalProcess> process,
                                           std::chrono::milliseconds keepalive, bool replay_output,
                                           http::BodyStream& out);

}  // namespace swarm::sandboxd
