// The API's HTTP surface: the route table and the dispatch in front of it (auth, heartbeats,
// 404/405). Handlers only translate between HTTP and the services. Every handler that touches
// the store runs on the store executors (GET routes on the read pool, the rest on the write
// pool), never on the I/O thread that serves the connection.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include "api/active_sessions.h"
#include "api/agent_service.h"
#include "api/poll_hub.h"
#include "api/smoke_service.h"
#include "api/store_executors.h"
#include "api/task_service.h"
#include "http/message.h"
#include "http/router.h"
#include "mcp/endpoint.h"
#include "smoke/smoke_request.h"

namespace swarm {

struct RoutesOptions {
  std::string api_key;             // the bearer key every non-public route requires
  double max_poll_wait_s = 300.0;  // upper bound of GET /api/poll?wait=
  // What POST /api/smoke-runs fills in when the request leaves it out (its api_key: the API's).
  smoke::SmokeRequestDefaults smoke_defaults;
  // How often an open GET /mcp stream gets an SSE comment, so proxies and clients see it alive.
  std::chrono::milliseconds mcp_keepalive{15'000};
};

// Whether a POST /mcp message (its body as the endpoint parsed it) only reads (ping,
// tools/list, initialize, a read-only tool, or something the endpoint refuses without the
// store): it then runs on the read pool and never queues behind store writes.
bool McpPostOnlyReads(const Result<nlohmann::json>& message);

class ApiRoutes {
 public:
  // Without `smoke`, the smoke-run routes answer 503; without `sessions`, the active-session
  // routes do. Without `mcp`, there is no /mcp.
  ApiRoutes(RoutesOptions options, AgentService& agents, TaskService& tasks, PollHub& hub,
            StoreExecutors& executors, SmokeService* smoke = nullptr,
            ActiveSessionService* sessions = nullptr, mcp::Endpoint* mcp = nullptr);
  ApiRoutes(const ApiRoutes&) = delete;
  ApiRoutes& operator=(const ApiRoutes&) = delete;

  boost::asio::awaitable<http::HttpResponse> Dispatch(http::HttpRequest request);
  // The server's head hook: the 401 Dispatch would answer, decided on the headers alone so
  // an unauthenticated body is never read (nor 100 Continue sent). Dispatch checks again.
  std::optional<http::HttpResponse> CheckHead(const http::HttpRequest& head) const;
  const http::Router& router() const { return router_; }
  // Once the API's own URL is known (after Listen), before requests are served.
  void SetSmokeDefaults(smoke::SmokeRequestDefaults defaults) {
    options_.smoke_defaults = std::move(defaults);
  }

 private:
  using SyncHandler = http::HttpResponse (ApiRoutes::*)(const http::HttpRequest&,
                                                        const http::PathParams&);
  void AddSync(const char* method, const char* pattern, http::Access access, SyncHandler fn);
  static boost::asio::awaitable<http::HttpResponse> RunSync(ApiRoutes* self, SyncHandler fn,
                                                            StoreExecutors::Executor pool,
                                                            http::HttpRequest request,
                                                            http::PathParams params);
  static boost::asio::awaitable<http::HttpResponse> Inline(ApiRoutes* self, SyncHandler fn,
                                                           http::HttpRequest request,
                                                           http::PathParams params);
  bool Authorized(const http::HttpRequest& request) const;
  // The task a request to /mcp is scoped to when its bearer is a task token minted with our
  // key for its X-Agent-ID; nullopt otherwise.
  std::optional<std::string> McpTokenTask(const http::HttpRequest& request) const;
  // Whether the request may reach `match`: a public route, or the right key.
  bool Admitted(const http::HttpRequest& request, const http::Router::Match& match) const;

  http::HttpResponse Health(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse RegisterAgent(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ListAgents(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse GetAgent(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse Ping(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse Close(const http::HttpRequest&, const http::PathParams&);
  boost::asio::awaitable<http::HttpResponse> CreateTask(http::HttpRequest request,
                                                        http::PathParams params);
  http::HttpResponse ListTasks(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse GetTask(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse CancelTask(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse SetSession(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse SetProgress(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse FinishTask(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse CancelledTasks(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse AddSessionLogs(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ListSessionLogs(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse AddSessionCost(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ListSessionCosts(const http::HttpRequest&, const http::PathParams&);
  boost::asio::awaitable<http::HttpResponse> Poll(http::HttpRequest request,
                                                  http::PathParams params);
  http::HttpResponse StartSmokeRun(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse GetSmokeRun(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ListSmokeRuns(const http::HttpRequest&, const http::PathParams&);
  // POST|GET|DELETE /mcp: the MCP server (Streamable HTTP), see mcp/endpoint.h.
  boost::asio::awaitable<http::HttpResponse> Mcp(http::HttpRequest request,
                                                 http::PathParams params);
  // What upstream's worker calls beyond the core contract (issue 9), in routes_compat.cc.
  void AddCompatRoutes();
  http::HttpResponse ReportCredentials(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse GetCredentials(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse AgentActivity(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ResolvedConfig(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse SupersedeTask(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse PauseTask(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ResumeTask(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ListPausedTasks(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse Me(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse OpenSession(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse ListSessions(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse SessionHeartbeat(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse EndSession(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse CleanupSessions(const http::HttpRequest&, const http::PathParams&);
  http::HttpResponse RecoverOrphans(const http::HttpRequest&, const http::PathParams&);

  RoutesOptions options_;
  AgentService& agents_;
  TaskService& tasks_;
  PollHub& hub_;
  StoreExecutors& executors_;
  SmokeService* smoke_;
  ActiveSessionService* sessions_;
  mcp::Endpoint* mcp_;
  http::Router router_;
};

}  // namespace swarm
