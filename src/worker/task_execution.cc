#include "worker/task_execution.h"

#include <chrono>
#include <exception>

#include "core/ids.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/redact.h"
#include "worker/finish_report.h"
#include "worker/hand_back.h"
#include "worker/retry.h"
#include "worker/task_dirs.h"

namespace swarm::worker {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// The session id is shown live; a few quick tries are enough, the finish carries on anyway.
constexpr RetryPolicy kSessionRetry{3, milliseconds(200), milliseconds(1'000)};
constexpr RetryPolicy kLogsRetry{3, milliseconds(200), milliseconds(1'000)};
constexpr RetryPolicy kCostRetry{5, milliseconds(250), milliseconds(4'000)};
constexpr milliseconds kReportTimeout(15'000);
// Active sessions: short calls, so neither the task's start nor the monitor waits for long on
// an API that hangs; one try plus kSessionRetry's few quick ones (a 4xx is not retried).
constexpr milliseconds kActiveSessionTimeout(5'000);

LogBatcher::Limits BatchLimits(const WorkerConfig& config) {
  LogBatcher::Limits limits;
  limits.max_age = config.log_flush_interval;
  return limits;
}

}  // namespace

TaskExecution::TaskExecution(std::shared_ptr<WorkerContext> context, ClaimedTask task)
    : context_(std::move(context)),
      task_(std::move(task)),
      runner_session_id_(NewUuid()),
      logs_([this](const std::vector<std::string>& lines) { return SendLogs(lines); },
            BatchLimits(context_->config)),
      logs_backoff_(context_->config.log_flush_interval,
                    std::max(context_->config.log_flush_interval, kMonitorBackoffMax)),
      session_renew_backoff_(context_->config.heartbeat_interval,
                             std::max(context_->config.heartbeat_interval, kMonitorBackoffMax)),
      cancel_check_backoff(context_->config.cancel_check_interval,
                           std::max(context_->config.cancel_check_interval, kMonitorBackoffMax)) {}

void TaskExecution::CancelByServer() {
  cancelled_by_server_ = true;
  cancel_ = true;
}

void TaskExecution::CancelForShutdown() {
  cancelled_for_shutdown_ = true;
  cancel_ = true;
}

void TaskExecution::Run() {
  const WorkerConfig& config = context_->config;
  log::Info("task started", {{"taskId", task_.id},
                             {"provider", config.provider_name},
                             {"hasOutputSchema", task_.output_schema.has_value()}});
  OpenActiveSession();
  harness::RunResult result;
  auto dirs = PrepareTaskDirs(config.work_root, task_.id);
  if (!dirs) {
    result.failure_reason = "worker could not prepare the task directory: " + dirs.error().message;
  } else {
    harness::TaskRun run;
    run.task_id = task_.id;
    run.prompt = task_.text;
    run.output_schema = task_.output_schema;
    run.work_dir = dirs->work;
    run.home_dir = dirs->home;
    run.base_env = config.base_env;
    run.base_env["HOME"] = dirs->home.string();
    run.timeout = config.task_timeout;
    run.run_as = config.cli_user;
    run.mcp = McpAccessFor(config, context_->mcp_auth.load(), task_.id);
    result = RunHarness(run);
    LogMcpConnection(result);
    // Kept for debugging, the work stays; the CLI's home (its config and any credentials it
    // wrote) goes either way.
    if (config.keep_task_dirs) {
      RemoveTaskHome(*dirs);
    } else {
      RemoveTaskDirs(*dirs);
    }
  }
  if (!logs_.Flush()) {
    log::Warn("dropped session log lines: the API did not take them",
              {{"taskId", task_.id}, {"lines", logs_.buffered()}});
  }
  {
    std::lock_guard lock(session_mu_);
    if (!session_id_) session_id_ = result.session_id;
    if (result.model) session_model_ = result.model;
  }
  ReportSession();
  ReportCost(result);
  if (cancelled_by_server_) {
    // The task is already terminal on the server; a finish would only be refused.
    log::Info("task cancelled", {{"taskId", task_.id}, {"durationMs", result.duration_ms}});
  } else if (cancelled_for_shutdown_ && result.cancelled) {
    // Stopped by the worker's own shutdown: the work is handed back, not failed.
    HandBackTask(*context_, task_.id, claimed_at_);
  } else {
    ReportFinish(result);
  }
  // Last: until the task's end is reported, a crash of this worker still resumes it.
  EndActiveSession();
}

void TaskExecution::OpenActiveSession() {
  const json body =
      ActiveSessionBody(context_->config.agent_id, task_, context_->runtime_instance_id);
  auto reply = CallWithRetry(
      [&] {
        return context_->client.Call("POST", "/api/active-sessions", body, kActiveSessionTimeout);
      },
      kSessionRetry, "open active session");
  if (!reply) {
    // An API without the route (404) or one that is down: the task runs all the same, only a
    // crash of this worker would then fail it rather than resume it.
    log::Warn("could not open an active session; the task runs without one",
              {{"taskId", task_.id}, {"error", reply.error().message}});
    return;
  }
  active_session_open_ = true;
}

milliseconds TaskExecution::RenewActiveSession() {
  const milliseconds interval = context_->config.heartbeat_interval;
  std::unique_lock lock(active_session_mu_, std::try_to_lock);
  if (!lock.owns_lock() || !active_session_open_) return interval;  // ending, or ended
  auto reply = context_->client.Call("PUT", "/api/active-sessions/heartbeat/" + UrlEncode(task_.id),
                                     std::nullopt, kActiveSessionTimeout);
  if (!reply) {
    const milliseconds next = session_renew_backoff_.Next();
    if (!session_renew_failing_) {
      log::Warn(
          "could not renew the active session",
          {{"taskId", task_.id}, {"error", reply.error().message}, {"retryInMs", next.count()}});
    }
    session_renew_failing_ = true;
    return next;
  }
  session_renew_backoff_.Reset();
  session_renew_failing_ = false;
  // Read by type: an API that answers {"updated":"no"} must not throw out of the monitor.
  if (!BoolField(reply->body, "updated", true) && active_session_open_.exchange(false)) {
    // Ended on the API's side (an operator's cleanup): renewing it is in vain.
    log::Warn("the API no longer has the task's active session", {{"taskId", task_.id}});
  }
  return interval;
}

void TaskExecution::EndActiveSession() {
  std::lock_guard lock(active_session_mu_);
  if (!active_session_open_.exchange(false)) return;
  auto reply = CallWithRetry(
      [&] {
        return context_->client.Call("DELETE",
                                     "/api/active-sessions/by-task/" + UrlEncode(task_.id),
                                     std::nullopt, kActiveSessionTimeout);
      },
      kSessionRetry, "end active session");
  if (!reply) {
    // It lingers until this agent's next boot cleans up; the task's state is already reported.
    log::Warn("could not end the active session",
              {{"taskId", task_.id}, {"error", reply.error().message}});
  }
}

harness::RunResult TaskExecution::RunHarness(const harness::TaskRun& run) {
  const std::optional<std::string> model =
      task_.model ? task_.model : context_->config.endpoint.model;
  harness::RunCallbacks callbacks;
  {
    std::lock_guard lock(session_mu_);
    session_model_ = model;
  }
  callbacks.on_session = [this](const std::string& session_id) {
    std::lock_guard lock(session_mu_);
    if (!session_id_) session_id_ = session_id;
  };
  // The task token is no registered secret (one per task would grow the registry forever):
  // it is scrubbed here, from the lines of its own run (a model that ran `env` prints it).
  std::string token;
  if (run.mcp && context_->mcp_auth.load() == McpAuth::kTask) token = run.mcp->token;
  callbacks.on_line = [this, token = std::move(token)](std::string_view line) {
    std::string text = Redact(std::string(line));
    if (!token.empty()) {
      for (size_t at = text.find(token); at != std::string::npos;
           at = text.find(token, at + kRedacted.size())) {
        text.replace(at, token.size(), kRedacted);
      }
    }
    logs_.Add(std::move(text));
  };
  const auto started = std::chrono::steady_clock::now();
  harness::RunResult result;
  try {
    result = context_->runner(run, model, callbacks, &cancel_);
  } catch (const std::exception& e) {
    // The runner's contract is not to throw; if it does, the task still gets a verdict.
    result = harness::RunResult{};
    result.failure_reason = std::string("worker error while running the harness: ") + e.what();
  }
  if (result.duration_ms == 0) {
    result.duration_ms =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started)
            .count();
  }
  if (!result.model) result.model = model;
  return result;
}

void TaskExecution::LogMcpConnection(const harness::RunResult& result) {
  // kOff: no MCP configured, or the CLI never ran far enough to say.
  if (result.mcp_status == harness::McpStatus::kOff) return;
  json calls = json::array();
  for (const auto& call : result.mcp_calls) {
    calls.push_back(call.tool + (call.is_error == true    ? " (error)"
                                 : call.is_error == false ? ""
                                                          : " (no result)"));
  }
  const json fields = {{"taskId", task_.id},
                       {"provider", context_->config.provider_name},
                       {"status", harness::McpStatusName(result.mcp_status)},
                       {"toolCalls", calls}};
  if (result.mcp_status == harness::McpStatus::kConnected) {
    log::Info("mcp server connected", fields);
  } else {
    // The CLIs drop an unreachable server silently; the run went on without the tools and
    // only the final-text judgement (the /finish below) decides the task.
    log::Warn("mcp server not connected", fields);
  }
}

void TaskExecution::Report(LogBatcher::Clock::time_point now) {
  ReportSession();
  {
    std::lock_guard lock(logs_pause_mu_);
    if (now < logs_paused_until_) return;
  }
  logs_.FlushIfDue(now);
}

void TaskExecution::ReportSession() {
  std::lock_guard send_lock(session_send_mu_);
  if (session_reported_) return;
  std::string session_id;
  std::optional<std::string> model;
  {
    std::lock_guard lock(session_mu_);
    if (!session_id_) return;
    session_id = *session_id_;
    model = session_model_;
  }
  session_reported_ = true;
  SwarmClient& client = context_->client;
  const json body = SessionBody(session_id, context_->config.provider_name, model);
  auto reply = CallWithRetry(
      [&] {
        return client.Call("PUT", "/api/tasks/" + UrlEncode(task_.id) + "/session", body,
                           kReportTimeout);
      },
      kSessionRetry, "task session");
  if (!reply) {
    log::Warn("could not report the session id",
              {{"taskId", task_.id}, {"error", reply.error().message}});
  } else {
    log::Info("task session", {{"taskId", task_.id}, {"sessionId", session_id}});
  }
}

bool TaskExecution::SendLogs(const std::vector<std::string>& lines) {
  const json body =
      SessionLogsBody(runner_session_id_, task_.id, context_->config.provider_name, lines);
  auto reply = CallWithRetry(
      [&] { return context_->client.Call("POST", "/api/session-logs", body, kReportTimeout); },
      kLogsRetry, "session logs");
  std::lock_guard lock(logs_pause_mu_);
  if (reply) {
    logs_backoff_.Reset();
    return true;
  }
  const milliseconds pause = logs_backoff_.Next();
  logs_paused_until_ = Steady::now() + pause;
  log::Warn("could not send session log lines; keeping them for later",
            {{"taskId", task_.id},
             {"lines", lines.size()},
             {"retryInMs", pause.count()},
             {"error", reply.error().message}});
  return false;
}

void TaskExecution::ReportCost(const harness::RunResult& result) {
  auto body = SessionCostBody(result, runner_session_id_, task_.id, context_->config.agent_id,
                              context_->config.provider_name);
  if (!body) return;
  auto reply = CallWithRetry(
      [&] { return context_->client.Call("POST", "/api/session-costs", *body, kReportTimeout); },
      kCostRetry, "session cost");
  if (!reply) {
    log::Warn("could not report the session cost",
              {{"taskId", task_.id}, {"error", reply.error().message}});
  }
}

void TaskExecution::ReportFinish(const harness::RunResult& result) {
  const json body =
      FinishBody(result, task_.output_schema.has_value(), cancelled_for_shutdown_.load());
  auto reply = SendFinish(*context_, task_.id, body, claimed_at_);
  json fields = {{"taskId", task_.id},
                 {"sent", body["status"]},
                 {"durationMs", result.duration_ms},
                 {"logLines", logs_.lines_added()}};
  if (!reply) {
    // 409: another terminal result came first (a cancel, the dead-worker monitor); 404: the
    // task is gone. Either way the server's state stands.
    if (reply.error().code == ErrorCode::kConflict && harness::FinishedThroughMcp(result)) {
      // The agent's store-progress call finished it; the safety net had nothing to do.
      log::Info("task finished through MCP", fields);
      return;
    }
    fields["error"] = reply.error().message;
    if (reply.error().code == ErrorCode::kConflict || reply.error().code == ErrorCode::kNotFound) {
      log::Info("task already finished", fields);
    } else {
      log::Error("could not finish the task", fields);
    }
    return;
  }
  const json& task = reply->body.contains("task") ? reply->body["task"] : reply->body;
  fields["status"] = TextField(task, "status");
  if (task.contains("failureReason") && task["failureReason"].is_string()) {
    fields["failureReason"] = task["failureReason"];
  }
  const bool already = BoolField(reply->body, "alreadyFinished", false);
  log::Info(already && harness::FinishedThroughMcp(result) ? "task finished through MCP"
                                                           : "task finished",
            fields);
}

}  // namespace swarm::worker
