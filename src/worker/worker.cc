#include "worker/worker.h"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "core/json_fields.h"
#include "core/log.h"
#include "worker/finish_report.h"
#include "worker/hand_back.h"
#include "worker/poll_pacing.h"
#include "worker/retry.h"
#include "worker/task_report.h"

namespace swarm::worker {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kHealthAttemptTimeout(5'000);
constexpr milliseconds kHealthRetryMin(500);
constexpr milliseconds kHealthRetryMax(5'000);
constexpr RetryPolicy kRegisterRetry{6, milliseconds(500), milliseconds(5'000)};
constexpr RetryPolicy kCloseRetry{3, milliseconds(250), milliseconds(1'000)};
constexpr RetryPolicy kCredentialRetry{3, milliseconds(250), milliseconds(1'000)};
// A poll is held by the server for its wait; the HTTP timeout leaves room beyond that.
constexpr milliseconds kPollSlack(15'000);
constexpr milliseconds kPollBackoffMin(1'000);
constexpr milliseconds kPollBackoffMax(10'000);
// Monitor calls must not stall the heartbeat and the other tasks' checks for long.
constexpr milliseconds kMonitorCallTimeout(5'000);
constexpr milliseconds kMonitorTick(100);
// After a shutdown cancel, how long a task gets to stop its CLI (the runner sends SIGTERM,
// then SIGKILL) and report.
constexpr milliseconds kCancelledStopBound(30'000);

double Seconds(milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

}  // namespace

Worker::Worker(WorkerConfig config, TaskRunner runner, CliVersionProbe probe)
    : context_(std::make_shared<WorkerContext>(std::move(config), std::move(runner))),
      config_(context_->config),
      probe_(std::move(probe)),
      cli_version_(config_.cli_version) {}

Worker::~Worker() {
  stopping_ = true;  // a probe still running gives up
  if (probe_thread_.joinable()) probe_thread_.join();
  monitor_stop_ = true;
  context_->cv.notify_all();
  if (monitor_.joinable()) monitor_.join();
  for (auto& [id, slot] : tasks_) {
    if (slot.thread.joinable()) slot.thread.join();
  }
}

void Worker::Stop() {
  const auto now = Steady::now();
  int64_t unset = 0;
  stop_requested_at_ns_.compare_exchange_strong(unset, now.time_since_epoch().count());
  if (stopping_.exchange(true)) {
    hurry_ = true;
    context_->set_stop_deadline(now);
    log::Warn("second stop: cancelling running tasks now");
  } else {
    context_->set_stop_deadline(now + config_.shutdown_timeout);
    log::Info("stop requested: no new tasks; running tasks get the shutdown timeout",
              {{"shutdownTimeoutMs", config_.shutdown_timeout.count()}});
  }
  context_->cv.notify_all();
}

Result<void> Worker::Run() {
  if (probe_ && !cli_version_) probe_thread_ = std::thread(&Worker::ProbeCliVersion, this);
  if (auto ready = WaitForApi(); !ready) return ready;
  if (stopping_) return {};
  if (auto registered = Register(); !registered) {
    if (stopping_) return {};
    return registered;
  }
  ReportCredentials();
  CleanUpActiveSessions();
  monitor_ = std::thread(&Worker::MonitorLoop, this);
  PollLoop();
  Shutdown();
  return {};
}

Result<void> Worker::WaitForApi() {
  const auto deadline = Steady::now() + config_.api_ready_timeout;
  Backoff backoff(kHealthRetryMin, kHealthRetryMax);
  std::string last_error;
  for (;;) {
    if (stopping_) return {};
    const auto remaining = std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
    const milliseconds timeout = std::clamp(remaining, milliseconds(1'000), kHealthAttemptTimeout);
    auto reply = context_->client.Call("GET", "/health", std::nullopt, timeout);
    if (reply && TextField(reply->body, "status") == "ok") {
      const McpAuth mcp = ResolveMcpAuth(config_.mcp_auth, reply->body);
      context_->mcp_auth = mcp;
      log::Info("api ready", {{"api", config_.api_url},
                              {"version", TextField(reply->body, "version")},
                              {"mcp", McpAuthName(mcp)}});
      if (config_.mcp_auth == McpAuth::kAuto && mcp == McpAuth::kOff) {
        log::Warn(
            "the API does not accept task-scoped MCP tokens: the CLIs run without the swarm's "
            "MCP server and tasks finish through /finish (MCP_AUTH=key hands the CLI the swarm "
            "key instead)",
            {{"api", config_.api_url}});
      }
      return {};
    }
    last_error = reply ? "GET /health answered without status ok" : reply.error().message;
    if (Steady::now() >= deadline) {
      return Unavailable(
          fmt::format("the API at {} did not answer GET /health within {:g} s "
                      "(WORKER_API_READY_TIMEOUT_SECONDS); last error: {}",
                      config_.api_url, Seconds(config_.api_ready_timeout), last_error));
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
    SleepUnlessAborted(std::clamp(left, milliseconds(0), backoff.Next()), &stopping_);
  }
}

json Worker::RegistrationBody() {
  json body = RegisterBody(config_, context_->runtime_instance_id);
  std::lock_guard lock(version_mu_);
  if (cli_version_ && !cli_version_->empty()) body["cliVersion"] = *cli_version_;
  return body;
}

void Worker::ProbeCliVersion() {
  auto version = probe_(&stopping_);
  if (!version) {
    log::Warn("cannot tell the harness CLI's version; registered without it",
              {{"provider", config_.provider_name}, {"error", version.error().message}});
    return;
  }
  log::Info("harness CLI found", {{"provider", config_.provider_name}, {"cliVersion", *version}});
  bool registered = false;
  {
    std::lock_guard lock(version_mu_);
    cli_version_ = *version;
    registered = registered_;
  }
  // Registered already without it: register again (same runtime instance, so nothing else
  // changes). A registration still under way sees the version itself (Register).
  if (!registered || stopping_) return;
  const json body = RegistrationBody();
  auto reply = CallWithRetry([&] { return context_->client.Call("POST", "/api/agents", body); },
                             kRegisterRetry, "report the CLI version", &stopping_);
  if (!reply) {
    log::Warn("could not report the harness CLI's version", {{"error", reply.error().message}});
  }
}

Result<void> Worker::Register() {
  const json body = RegistrationBody();
  auto reply = CallWithRetry([&] { return context_->client.Call("POST", "/api/agents", body); },
                             kRegisterRetry, "register", &stopping_);
  if (reply) {
    bool stale = false;
    {
      std::lock_guard lock(version_mu_);
      registered_ = true;
      stale = cli_version_ && !cli_version_->empty() && !body.contains("cliVersion");
    }
    // The probe finished while this call was on its way, and left the version to it.
    if (stale) {
      const json with_version = RegistrationBody();
      auto again =
          CallWithRetry([&] { return context_->client.Call("POST", "/api/agents", with_version); },
                        kRegisterRetry, "report the CLI version", &stopping_);
      if (!again) {
        log::Warn("could not report the harness CLI's version", {{"error", again.error().message}});
      }
    }
  }
  if (!reply) {
    if (reply.error().code == ErrorCode::kUnauthorized) {
      return MakeError(ErrorCode::kUnauthorized,
                       fmt::format("the API at {} refused the worker's key (HTTP 401): "
                                   "AGENT_SWARM_API_KEY (or API_KEY) must be the API's key",
                                   config_.api_url));
    }
    return MakeError(reply.error().code,
                     "registering with the API failed: " + reply.error().message);
  }
  log::Info("worker registered", {{"agentId", config_.agent_id},
                                  {"name", config_.agent_name},
                                  {"role", config_.role},
                                  {"provider", config_.provider_name},
                                  {"maxTasks", config_.max_tasks},
                                  {"new", reply->status == 201},
                                  {"runtimeInstanceId", context_->runtime_instance_id},
                                  {"api", config_.api_url},
                                  {"modelBaseUrl", config_.endpoint.base_url},
                                  {"workDir", config_.work_root.string()},
                                  {"yolo", config_.yolo},
                                  {"slackDisable", config_.slack_disable},
                                  {"githubDisable", config_.github_disable}});
  return {};
}

void Worker::ReportCredentials() {
  const json body = CredentialStatusBody(
      config_,
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  const std::string path = "/api/agents/" + UrlEncode(config_.agent_id) + "/credential-status";
  auto reply =
      CallWithRetry([&] { return context_->client.Call("PUT", path, body, kMonitorCallTimeout); },
                    kCredentialRetry, "credential status", &stopping_);
  if (!reply) {
    // An older API has no such route; the worker works without it.
    log::Warn("could not report the credential status", {{"error", reply.error().message}});
    return;
  }
  log::Info("credential status reported",
            {{"ready", body["ready"]}, {"satisfiedBy", body["cred_status"]["satisfiedBy"]}});
}

void Worker::CleanUpActiveSessions() {
  const json body = {{"agentId", config_.agent_id}};
  auto reply = CallWithRetry(
      [&] {
        return context_->client.Call("POST", "/api/active-sessions/cleanup", body,
                                     kMonitorCallTimeout);
      },
      kCredentialRetry, "clean up active sessions", &stopping_);
  if (!reply) {
    // An API without the route; sessions of a previous process only linger there.
    log::Warn("could not clean up the agent's active sessions", {{"error", reply.error().message}});
    return;
  }
  // Read by type: a reply like {"cleaned":"2"} must not throw out of the worker's start.
  if (const auto cleaned = Int64Field(reply->body, "cleaned"); cleaned && *cleaned > 0) {
    log::Info("active sessions of a previous process cleaned up", {{"cleaned", *cleaned}});
  }
}

std::size_t Worker::ReapLocked() {
  std::size_t running = 0;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->second.execution->done()) {
      // Done is set under the lock after Run returned: the thread is at its last statement.
      if (it->second.thread.joinable()) it->second.thread.join();
      it = tasks_.erase(it);
    } else {
      ++running;
      ++it;
    }
  }
  return running;
}

std::vector<std::shared_ptr<TaskExecution>> Worker::RunningTasks() {
  std::lock_guard lock(context_->mu);
  std::vector<std::shared_ptr<TaskExecution>> out;
  for (auto& [id, slot] : tasks_) {
    if (!slot.execution->done()) out.push_back(slot.execution);
  }
  return out;
}

void Worker::PollLoop() {
  const std::string path = fmt::format("/api/poll?wait={:g}", Seconds(config_.poll_wait));
  const std::size_t max_tasks = static_cast<std::size_t>(config_.max_tasks);
  Backoff backoff(kPollBackoffMin, kPollBackoffMax);
  auto back_off = [&] { SleepUnlessAborted(backoff.Next(), &stopping_); };
  bool told_about_pacing = false;
  while (!stopping_) {
    {
      // Poll only with a free slot; a task ending (or Stop) wakes this at once.
      std::unique_lock lock(context_->mu);
      context_->cv.wait_for(lock, std::chrono::seconds(1),
                            [&] { return stopping_ || ReapLocked() < max_tasks; });
      if (stopping_) break;
      if (ReapLocked() >= max_tasks) continue;
    }
    const auto sent = Steady::now();
    auto reply = context_->client.Call("GET", path, std::nullopt, config_.poll_wait + kPollSlack);
    if (!reply) {
      if (reply.error().code == ErrorCode::kNotFound) {
        // The API lost its agents (a fresh database): register again rather than poll in vain.
        log::Warn("the API does not know this agent; registering again");
        if (!Register()) back_off();
        continue;
      }
      log::Warn("poll failed", {{"error", reply.error().message}});
      back_off();
      continue;
    }
    backoff.Reset();
    auto claimed = ParsePollReply(reply->body);
    if (!claimed) {
      log::Error("unexpected poll reply", {{"error", claimed.error().message}});
      back_off();
      continue;
    }
    if (!*claimed) {
      const auto took = std::chrono::duration_cast<milliseconds>(Steady::now() - sent);
      const milliseconds pause = PollPause(config_.poll_wait, took);
      if (pause > milliseconds(0)) {
        if (!told_about_pacing) {
          told_about_pacing = true;
          log::Warn("the API answered a poll before its wait; pacing polls",
                    {{"askedMs", config_.poll_wait.count()},
                     {"answeredAfterMs", took.count()},
                     {"pauseMs", pause.count()}});
        }
        SleepUnlessAborted(Jittered(pause), &stopping_);
      }
      continue;
    }
    if (stopping_) {
      // Claimed by a poll that was already open when Stop came: it will not be run here, so
      // it goes back (its resume child waits for this agent) rather than failing.
      HandBackTask(*context_, (*claimed)->id, Steady::now());
      break;
    }
    StartTask(std::move(**claimed));
  }
}

void Worker::StartTask(ClaimedTask task) {
  auto execution = std::make_shared<TaskExecution>(context_, task);
  execution->next_cancel_check = Steady::now();
  execution->next_session_renewal = Steady::now() + config_.heartbeat_interval;
  std::lock_guard lock(context_->mu);
  ReapLocked();
  if (tasks_.count(task.id)) {
    log::Error("task handed out twice; ignoring the second claim", {{"taskId", task.id}});
    return;
  }
  Slot& slot = tasks_[task.id];
  slot.execution = execution;
  try {
    slot.thread = std::thread([context = context_, execution] {
      execution->Run();
      {
        std::lock_guard done_lock(context->mu);
        execution->MarkDone();
      }
      context->cv.notify_all();
    });
  } catch (const std::system_error& e) {
    tasks_.erase(task.id);
    FailUnstarted(task, std::string("worker could not start a thread for the task: ") + e.what());
  }
}

void Worker::FailUnstarted(const ClaimedTask& task, const std::string& reason) {
  const json body = {{"status", "failed"}, {"failureReason", reason}};
  auto reply = SendFinish(*context_, task.id, body, Steady::now());
  log::Warn("task failed without running",
            {{"taskId", task.id}, {"reason", reason}, {"reported", reply.has_value()}});
}

void Worker::Shutdown() {
  int64_t stop_ns = stop_requested_at_ns_.load();
  const Steady::time_point stop_at =
      stop_ns ? Steady::time_point(Steady::duration(stop_ns)) : Steady::now();
  const auto grace_deadline = stop_at + config_.shutdown_timeout;
  std::vector<Slot> stuck;
  {
    std::unique_lock lock(context_->mu);
    log::Info("worker stopping", {{"runningTasks", ReapLocked()},
                                  {"shutdownTimeoutMs", config_.shutdown_timeout.count()}});
    context_->cv.wait_until(lock, grace_deadline, [&] { return hurry_ || ReapLocked() == 0; });
    for (auto& [id, slot] : tasks_) {
      if (slot.execution->done()) continue;
      log::Warn("shutdown timeout: cancelling task", {{"taskId", id}});
      slot.execution->CancelForShutdown();
    }
    context_->cv.wait_for(lock, kCancelledStopBound, [&] { return ReapLocked() == 0; });
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      stuck.push_back(std::move(it->second));
      it = tasks_.erase(it);
    }
  }
  for (Slot& slot : stuck) {
    // The runner ignored its cancel flag past every bound: report for it and leave its
    // thread behind (it holds the shared context, so it touches nothing freed).
    log::Error("task did not stop after its cancel", {{"taskId", slot.execution->id()}});
    HandBackTask(*context_, slot.execution->id(), Steady::now());
    slot.execution->EndActiveSession();
    slot.thread.detach();
  }
  monitor_stop_ = true;
  context_->cv.notify_all();
  if (monitor_.joinable()) monitor_.join();
  auto closed = CallWithRetry(
      [&] { return context_->client.Call("POST", "/close", std::nullopt, kMonitorCallTimeout); },
      kCloseRetry, "close");
  if (!closed) log::Warn("could not close the agent", {{"error", closed.error().message}});
  log::Info("worker stopped", {{"agentId", config_.agent_id}});
}

void Worker::MonitorLoop() {
  auto next_ping = Steady::now() + config_.heartbeat_interval;
  Backoff ping_backoff(config_.heartbeat_interval,
                       std::max(config_.heartbeat_interval, kMonitorBackoffMax));
  for (;;) {
    {
      std::unique_lock lock(context_->mu);
      if (context_->cv.wait_for(lock, kMonitorTick, [&] { return monitor_stop_.load(); })) {
        return;
      }
    }
    auto now = Steady::now();
    if (now >= next_ping) {
      // Any request with X-Agent-ID is a heartbeat, but while every slot is busy no poll is
      // open and a quiet CLI sends nothing: the API would call the worker lost.
      auto pinged = context_->client.Call("POST", "/ping", std::nullopt, kMonitorCallTimeout);
      milliseconds next = config_.heartbeat_interval;
      if (pinged) {
        ping_backoff.Reset();
      } else {
        next = ping_backoff.Next();
        log::Warn("heartbeat failed",
                  {{"error", pinged.error().message}, {"retryInMs", next.count()}});
      }
      next_ping = Steady::now() + next;
    }
    for (const auto& execution : RunningTasks()) {
      now = Steady::now();
      if (!execution->cancel_requested() && now >= execution->next_cancel_check) {
        const milliseconds next = CheckCancelled(*execution);
        execution->next_cancel_check = Steady::now() + next;
      }
      if (execution->active_session_open() && Steady::now() >= execution->next_session_renewal) {
        const milliseconds next = execution->RenewActiveSession();
        execution->next_session_renewal = Steady::now() + next;
      }
      execution->Report(Steady::now());
    }
  }
}

milliseconds Worker::CheckCancelled(TaskExecution& execution) {
  auto reply = context_->client.Call("GET", "/cancelled-tasks?taskId=" + UrlEncode(execution.id()),
                                     std::nullopt, kMonitorCallTimeout);
  if (!reply) {
    const milliseconds next = execution.cancel_check_backoff.Next();
    log::Warn("cancellation check failed", {{"taskId", execution.id()},
                                            {"error", reply.error().message},
                                            {"retryInMs", next.count()}});
    return next;
  }
  execution.cancel_check_backoff.Reset();
  for (const json& task : ArrayField(reply->body, "cancelled")) {
    if (TextField(task, "id") != execution.id()) continue;
    execution.CancelByServer();
    json fields = {{"taskId", execution.id()}};
    if (task.contains("failureReason")) fields["reason"] = task["failureReason"];
    log::Info("task cancelled by the API; stopping its harness", fields);
    break;
  }
  return config_.cancel_check_interval;
}

}  // namespace swarm::worker
