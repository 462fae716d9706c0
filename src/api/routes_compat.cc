// The routes upstream agent-swarm's worker calls beyond the core contract (issue 9): its
// credential report, the hand-back of a task (supersede, and the legacy pause/resume), active
// sessions, and the boot-time config read. Kept apart from routes.cc so the core table stays
// readable; the handlers are as thin as the others.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/compat_requests.h"
#include "api/error_mapping.h"
#include "api/json_codec.h"
#include "api/route_support.h"
#include "api/routes.h"
#include "core/field_reader.h"
#include "http/query.h"

namespace swarm {
namespace {

using namespace api_routes;  // NOLINT: the shared reply helpers
using http::Access;
using http::HttpRequest;
using http::HttpResponse;
using http::PathParams;
using nlohmann::json;

// A worker pauses at most its own concurrent tasks; the bound keeps one answer small.
constexpr int kMaxPausedTasksListed = 100;

HttpResponse SessionsUnavailable() {
  return http::JsonError(503, "active sessions are not available in this process");
}

const char* KindName(SupersedeKind kind) {
  switch (kind) {
    case SupersedeKind::kResumed:
      return "resumed";
    case SupersedeKind::kAlreadyFinished:
      return "alreadyFinished";
    case SupersedeKind::kFailed:
      return "failed";
  }
  return "resumed";
}

}  // namespace

void ApiRoutes::AddCompatRoutes() {
  AddSync("PUT", "/api/agents/{id}/credential-status", Access::kAuthenticated,
          &ApiRoutes::ReportCredentials);
  AddSync("GET", "/api/agents/{id}/credential-status", Access::kAuthenticated,
          &ApiRoutes::GetCredentials);
  AddSync("PUT", "/api/agents/{id}/activity", Access::kAuthenticated, &ApiRoutes::AgentActivity);
  AddSync("GET", "/api/config/resolved", Access::kAuthenticated, &ApiRoutes::ResolvedConfig);
  AddSync("POST", "/api/tasks/{id}/supersede", Access::kAuthenticated, &ApiRoutes::SupersedeTask);
  AddSync("POST", "/api/tasks/{id}/pause", Access::kAuthenticated, &ApiRoutes::PauseTask);
  AddSync("POST", "/api/tasks/{id}/resume", Access::kAuthenticated, &ApiRoutes::ResumeTask);
  AddSync("GET", "/api/paused-tasks", Access::kAuthenticated, &ApiRoutes::ListPausedTasks);
  AddSync("GET", "/me", Access::kAuthenticated, &ApiRoutes::Me);
  AddSync("POST", "/api/active-sessions", Access::kAuthenticated, &ApiRoutes::OpenSession);
  AddSync("GET", "/api/active-sessions", Access::kAuthenticated, &ApiRoutes::ListSessions);
  AddSync("PUT", "/api/active-sessions/heartbeat/{taskId}", Access::kAuthenticated,
          &ApiRoutes::SessionHeartbeat);
  AddSync("DELETE", "/api/active-sessions/by-task/{taskId}", Access::kAuthenticated,
          &ApiRoutes::EndSession);
  AddSync("POST", "/api/active-sessions/cleanup", Access::kAuthenticated,
          &ApiRoutes::CleanupSessions);
  AddSync("POST", "/api/active-sessions/recover-orphaned-tasks", Access::kAuthenticated,
          &ApiRoutes::RecoverOrphans);
}

HttpResponse ApiRoutes::ReportCredentials(const HttpRequest& request, const PathParams& params) {
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto report = ParseCredentialReport(*body, params.Get("id"));
  if (!report) return ErrorResponse(report.error());
  auto agent = agents_.ReportCredentials(*report);
  if (!agent) return ErrorResponse(agent.error());
  JsonWriter w;
  WriteAgent(w, *agent);
  return Written(200, w);
}

HttpResponse ApiRoutes::GetCredentials(const HttpRequest&, const PathParams& params) {
  auto agent = agents_.Get(params.Get("id"));
  if (!agent) return ErrorResponse(agent.error());
  // Upstream's single-agent credential-status entry.
  JsonWriter w;
  w.BeginObject()
      .Field("agentId", agent->id)
      .Field("name", agent->name)
      .Field("status", AgentStatusName(agent->status));
  w.Key("missing").BeginArray();
  for (const auto& name : agent->credential_missing.value_or(std::vector<std::string>{})) {
    w.String(name);
  }
  w.EndArray();
  w.Field("provider", agent->provider).Field("harnessProvider", agent->harness_provider);
  // The agent's own rendering carries credStatus (merged with latestModel): reuse it.
  JsonWriter full;
  WriteAgent(full, *agent);
  const json rendered = json::parse(full.Take(), nullptr, /*allow_exceptions=*/false);
  w.Key("credStatus");
  if (rendered.is_object() && rendered.contains("credStatus")) {
    w.Raw(rendered["credStatus"].dump());
  } else {
    w.Null();
  }
  w.Field("lastCheckedAt", agent->last_updated_at).EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::AgentActivity(const HttpRequest&, const PathParams& params) {
  const std::string id = params.Get("id");
  auto agent = agents_.Get(id);
  if (!agent) return ErrorResponse(agent.error());
  agents_.Heartbeat(id);
  return NoContent();
}

HttpResponse ApiRoutes::ResolvedConfig(const HttpRequest&, const PathParams&) {
  // This API keeps no swarm_config: upstream's worker overlays nothing and keeps its env.
  JsonWriter w;
  w.BeginObject().Key("configs").BeginArray().EndArray().EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::SupersedeTask(const HttpRequest& request, const PathParams& params) {
  auto agent = OptionalAgentId(request);
  if (!agent) return http::JsonError(400, "Missing X-Agent-ID header");
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto reason = ParseSupersedeReason(*body);
  if (!reason) return ErrorResponse(reason.error());
  auto result = tasks_.Supersede(params.Get("id"), *agent, *reason);
  if (!result) return ErrorResponse(result.error());
  JsonWriter w;
  w.BeginObject().Field("success", true).Field("kind", KindName(result->kind)).Key("task");
  WriteTask(w, result->task);
  if (result->resume) {
    w.Field("resumeTaskId", result->resume->id)
        .Field("resumeTaskStatus", TaskStatusName(result->resume->status));
  } else {
    w.Key("resumeTaskId").Null();
  }
  w.EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::PauseTask(const HttpRequest& request, const PathParams& params) {
  if (auto body = OptionalBody(request); !body) return ErrorResponse(body.error());
  auto task = tasks_.Pause(params.Get("id"), OptionalAgentId(request));
  if (!task) return ErrorResponse(task.error());
  return TaskEnvelope(*task);
}

HttpResponse ApiRoutes::ResumeTask(const HttpRequest& request, const PathParams& params) {
  if (auto body = OptionalBody(request); !body) return ErrorResponse(body.error());
  auto task = tasks_.Resume(params.Get("id"), OptionalAgentId(request));
  if (!task) return ErrorResponse(task.error());
  return TaskEnvelope(*task);
}

HttpResponse ApiRoutes::ListPausedTasks(const HttpRequest& request, const PathParams&) {
  // Upstream's worker asks at boot for the tasks it paused before (the hand-back used when
  // supersede is refused) and resumes each; without this list they would stay paused forever.
  auto agent = OptionalAgentId(request);
  if (!agent) return http::JsonError(400, "Missing X-Agent-ID header");
  TaskFilter filter;
  filter.statuses = {TaskStatus::kPaused};
  filter.agent_id = *agent;
  filter.limit = kMaxPausedTasksListed;
  auto page = tasks_.List(filter);
  if (!page) return ErrorResponse(page.error());
  // Oldest first, as upstream resumes them.
  std::reverse(page->tasks.begin(), page->tasks.end());
  JsonWriter w;
  w.BeginObject().Key("tasks");
  WriteArray(w, page->tasks, WriteTask);
  w.EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::Me(const HttpRequest& request, const PathParams&) {
  // Upstream's worker reads its own profile here at boot and its hooks ask whether to stop
  // polling; this API keeps no poll budget, so polling is never blocked.
  auto id = OptionalAgentId(request);
  if (!id) return http::JsonError(400, "Missing X-Agent-ID header");
  auto agent = agents_.Get(*id);
  if (!agent) return ErrorResponse(agent.error());
  JsonWriter rendered;
  WriteAgent(rendered, *agent);
  json me = json::parse(rendered.Take(), nullptr, /*allow_exceptions=*/false);
  if (!me.is_object()) return http::JsonError(500, "could not render the agent");
  me["shouldBlockPolling"] = false;
  JsonWriter w;
  w.Raw(me.dump());
  return Written(200, w);
}

HttpResponse ApiRoutes::OpenSession(const HttpRequest& request, const PathParams&) {
  if (!sessions_) return SessionsUnavailable();
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto session = ParseNewActiveSession(*body);
  if (!session) return ErrorResponse(session.error());
  auto opened = sessions_->Open(std::move(*session));
  if (!opened) return ErrorResponse(opened.error());
  JsonWriter w;
  w.BeginObject().Key("session");
  WriteActiveSession(w, *opened);
  w.EndObject();
  return Written(201, w);
}

HttpResponse ApiRoutes::ListSessions(const HttpRequest& request, const PathParams&) {
  if (!sessions_) return SessionsUnavailable();
  auto agent = http::QueryParams::Parse(request.query).Get("agentId");
  if (agent && agent->empty()) agent.reset();
  auto sessions = sessions_->List(agent);
  if (!sessions) return ErrorResponse(sessions.error());
  JsonWriter w;
  w.BeginObject().Key("sessions");
  WriteArray(w, *sessions, WriteActiveSession);
  w.EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::SessionHeartbeat(const HttpRequest&, const PathParams& params) {
  if (!sessions_) return SessionsUnavailable();
  auto updated = sessions_->Heartbeat(params.Get("taskId"));
  if (!updated) return ErrorResponse(updated.error());
  JsonWriter w;
  w.BeginObject().Field("updated", *updated).EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::EndSession(const HttpRequest&, const PathParams& params) {
  if (!sessions_) return SessionsUnavailable();
  auto deleted = sessions_->EndByTask(params.Get("taskId"));
  if (!deleted) return ErrorResponse(deleted.error());
  JsonWriter w;
  w.BeginObject().Field("deleted", *deleted).EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::CleanupSessions(const HttpRequest& request, const PathParams&) {
  if (!sessions_) return SessionsUnavailable();
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto agent = ParseSessionsCleanup(*body);
  if (!agent) return ErrorResponse(agent.error());
  auto cleaned = sessions_->Cleanup(*agent);
  if (!cleaned) return ErrorResponse(cleaned.error());
  JsonWriter w;
  w.BeginObject().Field("cleaned", int64_t{*cleaned}).EndObject();
  return Written(200, w);
}

HttpResponse ApiRoutes::RecoverOrphans(const HttpRequest& request, const PathParams&) {
  if (!sessions_) return SessionsUnavailable();
  auto body = ParseJsonObject(request.body);
  if (!body) return ErrorResponse(body.error());
  auto parsed = ParseOrphanRecovery(*body);
  if (!parsed) return ErrorResponse(parsed.error());
  if (OptionalAgentId(request) != parsed->agent_id) {
    return http::JsonError(403, "Can only recover orphaned tasks for the calling agent");
  }
  auto tasks = sessions_->RecoverOrphans(*parsed);
  if (!tasks) return ErrorResponse(tasks.error());
  JsonWriter w;
  w.BeginObject().Field("recovered", static_cast<int64_t>(tasks->size())).Key("tasks");
  WriteArray(w, *tasks, WriteTask);
  w.EndObject();
  return Written(200, w);
}

}  // namespace swarm
