#include "api/routes.h"

#include <atomic>
#include <memory>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "api/error_mapping.h"
#include "api/json_codec.h"
#include "api/requests.h"
#include "api/route_support.h"
#include "core/bounded_json.h"
#include "core/field_reader.h"
#include "core/ids.h"
#include "core/mcp_token.h"
#include "core/version.h"
#include "http/query.h"

namespace swarm {
namespace {

namespace asio = boost::asio;
using namespace api_routes;  // NOLINT: the shared reply helpers
using http::Access;
using http::HttpRequest;
using http::HttpResponse;
using http::PathParams;
using nlohmann::json;

bool IsPublic(const http::Router::Match& match) {
  return match.kind == http::Router::MatchKind::kFound && match.route->access == Access::kPublic;
}

Result<std::string> RequireAgentId(const HttpRequest& request) {
  std::string_view id = request.Header("x-agent-id");
  if (id.empty()) return BadRequest("Missing X-Agent-ID header");
  return std::string(id);
}

// Compares in time that depends only on the length of `expected`, not on where the first
// difference is.
bool ConstantTimeEquals(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

// A single record as the whole body.
template <typename T>
HttpResponse Record(int status, const T& record, void (*write)(JsonWriter&, const T&)) {
  JsonWriter w;
  write(w, record);
  return Written(status, w);
}

HttpResponse SmokeUnavailable() {
  return http::JsonError(503, "smoke runs are not available in this process");
}

// {"<key>": [records…]}
template <typename T>
HttpResponse RecordList(std::string_view key, const std::vector<T>& items,
                        void (*write)(JsonWriter&, const T&)) {
  JsonWriter w;
  w.BeginObject().Key(key);
  WriteArray(w, items, write);
  w.EndObject();
  return Written(200, w);
}

// What a /mcp request does once it reaches the store executors.
struct McpOutcome {
  mcp::McpResponse response;
  std::optional<std::string> stream_session;  // GET: the stream to keep open
};

HttpResponse FromMcp(mcp::McpResponse r) {
  HttpResponse response;
  response.status = r.status;
  response.content_type = std::move(r.content_type);
  response.body = std::move(r.body);
  response.headers = std::move(r.headers);
  return response;
}

// Takes the body: a tool call's output may be large.
mcp::McpRequest ToMcp(HttpRequest& request) {
  mcp::McpRequest m;
  m.method = request.method;
  m.body = std::move(request.body);
  m.accept = request.Header("accept");
  m.content_type = request.Header("content-type");
  m.session_id = request.Header("mcp-session-id");
  m.protocol_version = request.Header("mcp-protocol-version");
  m.agent_id = request.Header("x-agent-id");
  if (auto task = request.Header("x-source-task-id"); !task.empty()) {
    m.source_task_id = std::string(task);
  }
  return m;
}

// Keeps a GET /mcp stream open: SSE comments every `keepalive`, checking at least every second
// that the session still wants it (DELETE, idle expiry and shutdown end it) and that the client
// is still there. The server sends nothing else on it: tools answer on the POST.
asio::awaitable<void> McpStream(mcp::Endpoint* endpoint, std::string session_id,
                                std::chrono::milliseconds keepalive, http::BodyStream& out) {
  constexpr auto kCheckEvery = std::chrono::seconds(1);
  bool open = co_await out.Write(": connected\n\n");
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto last_write = std::chrono::steady_clock::now();
  while (open && endpoint->StreamAlive(session_id) && !out.peer().gone()) {
    const auto until_keepalive = last_write + keepalive - std::chrono::steady_clock::now();
    timer.expires_after(
        std::min<std::chrono::steady_clock::duration>(kCheckEvery, until_keepalive));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!endpoint->StreamAlive(session_id) || out.peer().gone()) break;
    if (std::chrono::steady_clock::now() - last_write >= keepalive) {
      open = co_await out.Write(": keepalive\n\n");
      last_write = std::chrono::steady_clock::now();
    }
  }
  endpoint->CloseStream(session_id);
}

// Tools that only read the store.
bool ReadOnlyTool(std::string_view name) {
  return name == "get-task-details" || name == "get-tasks" || name == "my-agent-info" ||
         name == "get-swarm";
}

}  // namespace

bool McpPostOnlyReads(const Result<nlohmann::json>& message) {
  if (!message) return true;  // the endpoint refuses it without the store
  if (!message->is_object()) return false;
  auto method = message->find("method");
  if (method == message->end()) return true;  // a response from the client: nothing to run
  if (!method->is_string()) return true;
  const auto& name = method->get_ref<const std::string&>();
  if (name != "tools/call") return true;  // ping, tools/list, initialize, notifications
  auto params = message->find("params");
  if (params == message->end() || !params->is_object()) return true;
  auto tool = params->find("name");
  return tool != params->end() && tool->is_string() &&
         ReadOnlyTool(tool->get_ref<const std::string&>());
}

ApiRoutes::ApiRoutes(RoutesOptions options, AgentService& agents, TaskService& tasks, PollHub& hub,
                     StoreExecutors& executors, SmokeService* smoke, ActiveSessionService* sessions,
                     mcp::Endpoint* mcp)
    : options_(std::move(options)),
      agents_(agents),
      tasks_(tasks),
      hub_(hub),
      executors_(executors),
      smoke_(smoke),
      sessions_(sessions),
      mcp_(mcp) {
  // No store behind it: answered on the I/O thread, so it stays fast whatever the store does.
  router_.Add("GET", "/health", Access::kPublic, [this](HttpRequest request, PathParams params) {
    return Inline(this, &ApiRoutes::Health, std::move(request), std::move(params));
  });
  AddSync("POST", "/api/agents", Access::kAuthenticated, &ApiRoutes::RegisterAgent);
  AddSync("GET", "/api/agents", Access::kAuthenticated, &ApiRoutes::ListAgents);
  AddSync("GET", "/api/agents/{id}", Access::kAuthenticated, &ApiRoutes::GetAgent);
  AddSync("POST", "/ping", Access::kAuthenticated, &ApiRoutes::Ping);
  AddSync("POST", "/close", Access::kAuthenticated, &ApiRoutes::Close);
  router_.Add("POST", "/api/tasks", Access::kAuthenticated,
              [this](HttpRequest request, PathParams params) {
                return CreateTask(std::move(request), std::move(params));
              });
  AddSync("GET", "/api/tasks", Access::kAuthenticated, &ApiRoutes::ListTasks);
  AddSync("GET", "/api/tasks/{id}", Access::kAuthenticated, &ApiRoutes::GetTask);
  AddSync("POST", "/api/tasks/{id}/cancel", Access::kAuthenticated, &ApiRoutes::CancelTask);
  AddSync("PUT", "/api/tasks/{id}/session", Access::kAuthenticated, &ApiRoutes::SetSession);
  AddSync("POST", "/api/tasks/{id}/progress", Access::kAuthenticated, &ApiRoutes::SetProgress);
  AddSync("POST", "/api/tasks/{id}/finish", Access::kAuthenticated, &ApiRoutes::FinishTask);
  AddSync("GET", "/api/tasks/{id}/session-logs", Access::kAuthenticated,
          &ApiRoutes::ListSessionLogs);
  AddSync("GET", "/cancelled-tasks", Access::kAuthenticated, &ApiRoutes::CancelledTasks);
  AddSync("POST", "/api/session-logs", Access::kAuthenticated, &ApiRoutes::AddSessionLogs);
  AddSync("POST", "/api/session-costs", Access::kAuthenticated, &ApiRoutes::AddSessionCost);
  AddSync("GET", "/api/session-costs", Access::kAuthenticated, &ApiRoutes::ListSessionCosts);
  router_.Add("GET", "/api/poll", Access::kAuthenticated,
              [this](HttpRequest request, PathParams params) {
                return Poll(std::move(request), std::move(params));
              });
  AddSync("POST", "/api/smoke-runs", Access::kAuthenticated, &ApiRoutes::StartSmokeRun);
  AddSync("GET", "/api/smoke-runs", Access::kAuthenticated, &ApiRoutes::ListSmokeRuns);
  AddSync("GET", "/api/smoke-runs/{id}", Access::kAuthenticated, &ApiRoutes::GetSmokeRun);
  AddCompatRoutes();
  if (mcp_) {
    for (const char* method : {"POST", "GET", "DELETE"}) {
      router_.Add(method, "/mcp", Access::kAuthenticated,
                  [this](HttpRequest request, PathParams params) {
                    return Mcp(std::move(request), std::move(params));
                  });
    }
  }
}

void ApiRoutes::AddSync(const char* method, const char* pattern, Access access, SyncHandler fn) {
  // Reads may run beside each other; writes queue for the store's one writer.
  const StoreExecutors::Executor pool =
      std::string_view(method) == "GET" ? executors_.reads() : executors_.writes();
  // Not a coroutine lambda: it only forwards to the named coroutine RunSync (GCC 12 mishandles
  // coroutine lambdas with captures).
  router_.Add(method, pattern, access, [this, fn, pool](HttpRequest request, PathParams params) {
    return RunSync(this, fn, pool, std::move(request), std::move(params));
  });
}

asio::awaitable<HttpResponse> ApiRoutes::RunSync(ApiRoutes* self, SyncHandler fn,
                                                 StoreExecutors::Executor pool, HttpRequest request,
                                                 PathParams params) {
  auto work = [self, fn, request = std::move(request), params = std::move(params)] {
    return (self->*fn)(request, params);
  };
  co_return co_await RunOn(pool, work);
}

asio::awaitable<HttpResponse> ApiRoutes::Inline(ApiRoutes* self, SyncHandler fn,
                                                HttpRequest request, PathParams params) {
  co_return (self->*fn)(request, params);
}

bool ApiRoutes::Authorized(const HttpRequest& request) const {
  std::string_view header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() < kBearer.size() || header.substr(0, kBearer.size()) != kBearer) return false;
  return ConstantTimeEquals(header.substr(kBearer.size()), options_.api_key);
}

std::optional<std::string> ApiRoutes::McpTokenTask(const HttpRequest& request) const {
  if (!mcp_ || request.path != "/mcp") return std::nullopt;
  std::string_view header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header.starts_with(kBearer)) return std::nullopt;
  const std::string_view agent = request.Header("x-agent-id");
  if (agent.empty()) return std::nullopt;
  return VerifyMcpTaskToken(options_.api_key, agent, header.substr(kBearer.size()));
}

bool ApiRoutes::Admitted(const HttpRequest& request, const http::Router::Match& match) const {
  // Unknown paths fail closed: without the key they are 401 like everything else. A task
  // token opens /mcp only; whether its task still admits it is the handler's check (the store).
  return IsPublic(match) || Authorized(request) || McpTokenTask(request).has_value();
}

std::optional<HttpResponse> ApiRoutes::CheckHead(const HttpRequest& head) const {
  if (Admitted(head, router_.Find(head.method, head.path))) return std::nullopt;
  return http::JsonError(401, "Unauthorized");
}

asio::awaitable<HttpResponse> ApiRoutes::Dispatch(HttpRequest request) {
  auto match = router_.Find(request.method, request.path);
  if (!Admitted(request, match)) co_return http::JsonError(401, "Unauthorized");
  const bool is_public = IsPublic(match);
  if (match.kind == http::Router::MatchKind::kNotFound) {
    co_return http::JsonError(404, fmt::format("no route for {} {}", request.method, request.path));
  }
  if (match.kind == http::Router::MatchKind::kMethodNotAllowed) {
    co_return http::JsonError(
        405, fmt::format("method {} is not allowed on {}", request.method, request.path));
  }
  if (!is_public) {
    if (std::string_view agent = request.Header("x-agent-id"); !agent.empty()) {
      // An id that is not clean text never reaches the store, the logs or a heartbeat.
      auto id = ValidateAgentId(agent);
      if (!id) co_return ErrorResponse(id.error());
      // May write to the store: never on this I/O thread, and the request does not wait.
      asio::post(executors_.writes(), [this, id = std::move(*id)] { agents_.Heartbeat(id); });
    }
  }
  co_return co_await match.route->handler(std::move(request), std::move(match.params));
}

HttpResponse ApiRoutes::Health(const HttpRequest&, const PathParams&) {
  // Beyond upstream's {status, version}: where the MCP server is and that it takes task-scoped
  // tokens (core/mcp_token.h), which a worker with MCP_AUTH=auto looks for.
  return Json(200, {{"status", "ok"},
                    {"version", BuildVersion()},
                    {"mcp", {{"path", "/mcp"}, {"taskTokens", true}}}});
}

HttpResponse ApiRoutes::RegisterAgent(const HttpRequest& request, const PathParams&) {
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  std::string id(request.Header("x-agent-id"));
  if (id.empty()) id = NewUuid();
  auto registration = ParseRegisterAgent(*body, std::move(id));
  if (!registration) return ErrorResponse(registration.error());
  auto agent = agents_.Register(*registration);
  if (!agent) return ErrorResponse(agent.error());
  return Record(agent->created ? 201 : 200, agent->agent, WriteAgent);
}

HttpResponse ApiRoutes::ListAgents(const HttpRequest&, const PathParams&) {
  auto agents = agents_.List();
  if (!agents) return ErrorResponse(agents.error());
  return RecordList("agents", *agents, WriteAgent);
}

HttpResponse ApiRoutes::GetAgent(const HttpRequest&, const PathParams& params) {
  auto agent = agents_.Get(params.Get("id"));
  if (!agent) return ErrorResponse(agent.error());
  return Record(200, *agent, WriteAgent);
}

HttpResponse ApiRoutes::Ping(const HttpRequest& request, const PathParams&) {
  auto id = RequireAgentId(request);
  if (!id) return ErrorResponse(id.error());
  auto agent = agents_.Ping(*id);
  if (!agent) return ErrorResponse(agent.error());
  return NoContent();
}

HttpResponse ApiRoutes::Close(const HttpRequest& request, const PathParams&) {
  auto id = RequireAgentId(request);
  if (!id) return ErrorResponse(id.error());
  auto agent = agents_.Close(*id);
  if (!agent) return ErrorResponse(agent.error());
  return NoContent();
}

asio::awaitable<HttpResponse> ApiRoutes::CreateTask(HttpRequest request, PathParams) {
  auto body = ParseJsonObject(request.body);
  if (!body) co_return ErrorResponse(body.error());
  auto parsed = ParseCreateTask(*body);
  if (!parsed) co_return ErrorResponse(parsed.error());
  auto task = co_await tasks_.Create(std::move(*parsed));
  if (!task) co_return ErrorResponse(task.error());
  co_return Record(201, *task, WriteTask);
}

HttpResponse ApiRoutes::ListTasks(const HttpRequest& request, const PathParams&) {
  auto filter = ParseTaskFilter(http::QueryParams::Parse(request.query));
  if (!filter) return ErrorResponse(filter.error());
  auto page = tasks_.List(*filter);
  if (!page) return ErrorResponse(page.error());
  JsonWriter w;
  w.BeginObject().Key("tasks");
  WriteArray(w, page->tasks, WriteTask);
  w.Field("total", page->total);
  if (page->truncated) {
    // The page hit the response-size cap before `limit`: the client continues from here.
    w.Field("truncated", true)
        .Field("nextOffset", static_cast<int64_t>(filter->offset + page->tasks.size()));
  }
  w.EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::GetTask(const HttpRequest& request, const PathParams& params) {
  auto limit = ParseIntParam(http::QueryParams::Parse(request.query), "logsLimit", 1, 1000, 200);
  if (!limit) return ErrorResponse(limit.error());
  auto found = tasks_.Get(params.Get("id"), *limit);
  if (!found) return ErrorResponse(found.error());
  JsonWriter w;
  w.BeginObject();
  WriteTaskFields(w, found->task);
  w.Key("logs");
  WriteArray(w, found->logs, WriteAgentLog);
  w.EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::CancelTask(const HttpRequest& request, const PathParams& params) {
  auto body = OptionalBody(request);
  if (!body) return ErrorResponse(body.error());
  auto reason = ParseCancel(*body);
  if (!reason) return ErrorResponse(reason.error());
  auto task = tasks_.Cancel(params.Get("id"), *reason);
  if (!task) return ErrorResponse(task.error());
  return TaskEnvelope(*task);
}

HttpResponse ApiRoutes::SetSession(const HttpRequest& request, const PathParams& params) {
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto session = ParseSession(*body);
  if (!session) return ErrorResponse(session.error());
  auto task = tasks_.SetSession(params.Get("id"), *session, OptionalAgentId(request));
  if (!task) return ErrorResponse(task.error());
  return TaskEnvelope(*task);
}

HttpResponse ApiRoutes::SetProgress(const HttpRequest& request, const PathParams& params) {
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto progress = ParseProgress(*body);
  if (!progress) return ErrorResponse(progress.error());
  auto task = tasks_.SetProgress(params.Get("id"), *progress, OptionalAgentId(request));
  if (!task) return ErrorResponse(task.error());
  return Json(200, {{"success", true}});
}

HttpResponse ApiRoutes::FinishTask(const HttpRequest& request, const PathParams& params) {
  auto agent = RequireAgentId(request);
  if (!agent) return ErrorResponse(agent.error());
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto finish = ParseFinish(*body);
  if (!finish) return ErrorResponse(finish.error());
  auto result = tasks_.Finish(params.Get("id"), *agent, *finish);
  if (!result) return ErrorResponse(result.error());
  if (result->outcome == FinishOutcome::kApplied) return TaskEnvelope(result->task);
  // Already terminal: the same result again is a no-op, a different one loses to the first.
  const bool conflict = result->outcome == FinishOutcome::kConflict;
  JsonWriter w;
  w.BeginObject().Field("success", !conflict).Field("alreadyFinished", true);
  if (conflict) {
    w.Field("error", fmt::format("task {} is already {}; the first terminal result stands",
                                 result->task.id, TaskStatusName(result->task.status)));
  } else {
    w.Field("wasNoOp", true);
  }
  w.Key("task");
  WriteTask(w, result->task);
  w.EndObject();
  return Written(conflict ? 409 : 200, w);
}

HttpResponse ApiRoutes::CancelledTasks(const HttpRequest& request, const PathParams&) {
  auto agent = RequireAgentId(request);
  if (!agent) return ErrorResponse(agent.error());
  auto task_id = http::QueryParams::Parse(request.query).Get("taskId");
  if (task_id && task_id->empty()) task_id.reset();
  auto tasks = tasks_.CancelledTasks(*agent, task_id);
  if (!tasks) return ErrorResponse(tasks.error());
  JsonWriter w;
  w.BeginObject().Key("cancelled").BeginArray();
  for (const auto& t : *tasks) {
    w.BeginObject()
        .Field("id", t.id)
        .Field("task", t.task)
        .Field("failureReason", t.failure_reason)
        .EndObject();
  }
  w.EndArray().EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::AddSessionLogs(const HttpRequest& request, const PathParams&) {
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto batch = ParseSessionLogs(*body);
  if (!batch) return ErrorResponse(batch.error());
  auto count = tasks_.AppendSessionLogs(std::move(*batch));
  if (!count) return ErrorResponse(count.error());
  return Json(201, {{"success", true}, {"count", *count}});
}

HttpResponse ApiRoutes::ListSessionLogs(const HttpRequest& request, const PathParams& params) {
  auto limit = ParseIntParam(http::QueryParams::Parse(request.query), "limit", 1, 1000, 1000);
  if (!limit) return ErrorResponse(limit.error());
  auto logs = tasks_.SessionLogs(params.Get("id"), *limit);
  if (!logs) return ErrorResponse(logs.error());
  return RecordList("logs", *logs, WriteSessionLog);
}

HttpResponse ApiRoutes::AddSessionCost(const HttpRequest& request, const PathParams&) {
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto cost = ParseSessionCost(*body);
  if (!cost) return ErrorResponse(cost.error());
  auto stored = tasks_.AddSessionCost(std::move(*cost));
  if (!stored) return ErrorResponse(stored.error());
  JsonWriter w;
  w.BeginObject().Field("success", true).Key("cost");
  WriteSessionCost(w, *stored);
  w.EndObject();
  return Written(201, w);
}

HttpResponse ApiRoutes::ListSessionCosts(const HttpRequest& request, const PathParams&) {
  auto filter = ParseCostFilter(http::QueryParams::Parse(request.query));
  if (!filter) return ErrorResponse(filter.error());
  auto costs = tasks_.SessionCosts(*filter);
  if (!costs) return ErrorResponse(costs.error());
  return RecordList("costs", *costs, WriteSessionCost);
}

asio::awaitable<HttpResponse> ApiRoutes::Poll(HttpRequest request, PathParams) {
  auto agent = RequireAgentId(request);
  if (!agent) co_return ErrorResponse(agent.error());
  auto wait = ParsePollWait(http::QueryParams::Parse(request.query), options_.max_poll_wait_s);
  if (!wait) co_return ErrorResponse(wait.error());
  const auto deadline = std::chrono::steady_clock::now() + *wait;
  // Registered before the first claim attempt, so a task created in between still wakes us.
  auto waiter = hub_.Register(*agent, co_await asio::this_coro::executor);
  // A client that hangs up ends the wait at once (and stops counting as alive).
  if (request.peer) request.peer->OnGone(waiter->Interrupter());
  for (;;) {
    if (request.PeerGone()) co_return Json(200, {{"trigger", nullptr}});  // nobody will read it
    auto claim = [this, id = *agent] { return tasks_.Claim(id); };
    auto attempt = co_await RunOn(executors_.writes(), claim);
    if (!attempt) co_return ErrorResponse(attempt.error());
    if (attempt->task) {
      const Task& task = *attempt->task;
      JsonWriter w;
      w.BeginObject().Key("trigger").BeginObject();
      w.Field("type", "task_assigned").Field("taskId", task.id).Key("task");
      WriteTask(w, task);
      w.EndObject().EndObject();
      HttpResponse response = Written(200, w);
      // A killed worker's open poll must not swallow the task: if this response never
      // reaches the client, the claim is given back.
      response.on_undelivered = [this, task] {
        asio::post(executors_.writes(), [this, task] { tasks_.ReleaseClaim(task); });
      };
      co_return response;
    }
    waiter->SetPoolEligible(attempt->can_take_pool);
    if (hub_.stopping() || std::chrono::steady_clock::now() >= deadline) break;
    co_await waiter->Wait(deadline);
  }
  co_return Json(200, {{"trigger", nullptr}});
}

asio::awaitable<HttpResponse> ApiRoutes::Mcp(HttpRequest request, PathParams) {
  // A POST body is parsed once. A small one here, on the I/O thread: what it asks decides the
  // pool, and the endpoint takes the parsed body (or the parse error, which it answers after
  // its header checks). A large one is a tool call carrying an output, a write: the endpoint
  // parses it on the write pool, off the I/O threads.
  constexpr std::size_t kParseHereUpTo = 64 * 1024;
  std::optional<Result<nlohmann::json>> body;
  if (request.method == "POST" && request.body.size() <= kParseHereUpTo) {
    body = mcp_->ParseBody(request.body);
  }
  const bool reads = request.method != "POST" || (body && McpPostOnlyReads(*body));
  mcp::McpRequest m = ToMcp(request);
  if (!Authorized(request)) m.token_task_id = McpTokenTask(request);
  auto work = [this, m = std::move(m), body = std::move(body)]() mutable -> McpOutcome {
    McpOutcome out;
    if (m.token_task_id) {
      auto accepted = tasks_.AcceptsTaskToken(*m.token_task_id, m.agent_id);
      if (!accepted || !*accepted) {
        // Over (or never this agent's), the token's task makes the token worth nothing.
        HttpResponse refused =
            accepted ? http::JsonError(401, "Unauthorized") : ErrorResponse(accepted.error());
        out.response.status = refused.status;
        out.response.body = std::move(refused.body);
        return out;
      }
    }
    if (m.method == "POST") {
      out.response = body ? mcp_->Post(m, std::move(*body)) : mcp_->Post(m);
    } else if (m.method == "DELETE") {
      out.response = mcp_->Delete(m);
    } else {
      auto opened = mcp_->OpenStream(m);
      if (auto* stream = std::get_if<mcp::Endpoint::OpenedStream>(&opened)) {
        out.stream_session = stream->session_id;
      } else {
        out.response = std::get<mcp::McpResponse>(std::move(opened));
      }
    }
    return out;
  };
  McpOutcome outcome = co_await RunOn(reads ? executors_.reads() : executors_.writes(), work);
  if (!outcome.stream_session) co_return FromMcp(std::move(outcome.response));
  HttpResponse response;
  response.status = 200;
  response.content_type = "text/event-stream";
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("Mcp-Session-Id", *outcome.stream_session);
  // The server runs the producer only if the client is still there once the headers are out;
  // when it does not, the stream is closed here, or the session would refuse every later GET.
  auto started = std::make_shared<std::atomic<bool>>(false);
  response.stream = [endpoint = mcp_, id = *outcome.stream_session,
                     keepalive = options_.mcp_keepalive, started](http::BodyStream& out) {
    started->store(true);
    return McpStream(endpoint, id, keepalive, out);
  };
  response.on_undelivered = [endpoint = mcp_, id = *outcome.stream_session, started] {
    if (!started->load()) endpoint->CloseStream(id);
  };
  co_return response;
}

HttpResponse ApiRoutes::StartSmokeRun(const HttpRequest& request, const PathParams&) {
  if (!smoke_) return SmokeUnavailable();
  // Before the body is judged: no request can succeed here, whatever it holds.
  if (const auto& off = smoke_->disabled_reason()) return http::JsonError(503, *off);
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto parsed = smoke::ParseSmokeRequest(*body, options_.smoke_defaults);
  if (!parsed) return ErrorResponse(parsed.error());
  auto run = smoke_->Start(*parsed);
  if (!run) {
    const SmokeStartError& why = run.error();
    if (!why.refused) return ErrorResponse(why.error);
    // The limit, smoke runs off, a stopping API: the client is told which, and when to retry.
    HttpResponse response = http::JsonError(503, why.error.message);
    if (why.retry_after.count() > 0) {
      response.headers.emplace_back("Retry-After", std::to_string(why.retry_after.count()));
    }
    return response;
  }
  return Json(202, SmokeRunToJson(*run));
}

HttpResponse ApiRoutes::GetSmokeRun(const HttpRequest&, const PathParams& params) {
  if (!smoke_) return SmokeUnavailable();
  auto run = smoke_->Get(params.Get("id"));
  if (!run) return ErrorResponse(run.error());
  return Json(200, SmokeRunToJson(*run));
}

HttpResponse ApiRoutes::ListSmokeRuns(const HttpRequest& request, const PathParams&) {
  if (!smoke_) return SmokeUnavailable();
  const auto query = http::QueryParams::Parse(request.query);
  auto limit = ParseIntParam(query, "limit", 1, 100, 20);
  if (!limit) return ErrorResponse(limit.error());
  auto offset = ParseIntParam(query, "offset", 0, 1'000'000'000, 0);
  if (!offset) return ErrorResponse(offset.error());
  auto page = smoke_->List(*limit, *offset);
  if (!page) return ErrorResponse(page.error());
  json runs = json::array();
  for (const auto& run : page->runs) runs.push_back(SmokeRunToJson(run));
  return Json(200, {{"runs", std::move(runs)}, {"total", page->total}});
}

}  // namespace swarm
