#include "worker/hand_back.h"

#include <algorithm>

#include "core/json_fields.h"
#include "core/log.h"
#include "worker/finish_report.h"
#include "worker/task_report.h"

namespace swarm::worker {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// The process is about to end: a few quick tries, then the finish fallback.
constexpr RetryPolicy kSupersedeRetry{3, milliseconds(250), milliseconds(1'000)};
constexpr milliseconds kSupersedeTimeout(5'000);

// The variable the provider's CLI takes its credential from, and the ones that would do.
struct CredentialVars {
  const char* used = nullptr;
  std::vector<std::string> candidates;
};

CredentialVars VarsFor(const WorkerConfig& config) {
  using Api = harness::ModelEndpoint::Api;
  CredentialVars vars;
  switch (config.endpoint.api) {
    case Api::kAnthropic:
      vars.used = "ANTHROPIC_API_KEY";
      break;
    case Api::kOpenAi:
      vars.used = "OPENAI_API_KEY";
      break;
    case Api::kOpenRouter:
      vars.used = "OPENROUTER_API_KEY";
      break;
  }
  if (config.provider_name == "claude") {
    vars.candidates = {"ANTHROPIC_API_KEY"};
  } else if (config.provider_name == "codex") {
    vars.candidates = {"OPENAI_API_KEY"};
  } else {
    vars.candidates = {"OPENROUTER_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"};
  }
  return vars;
}

}  // namespace

bool HandBackTask(WorkerContext& context, const std::string& task_id,
                  Steady::time_point task_started) {
  const json body = {{"reason", "graceful_shutdown"}};
  auto reply = CallWithRetry(
      [&] {
        return context.client.Call("POST", "/api/tasks/" + UrlEncode(task_id) + "/supersede", body,
                                   kSupersedeTimeout);
      },
      kSupersedeRetry, "hand the task back");
  if (reply) {
    const json& r = reply->body;
    const std::string kind = TextField(r, "kind");  // by type: any API may answer
    json fields = {{"taskId", task_id}, {"kind", kind}};
    if (r.is_object() && r.contains("resumeTaskId")) fields["resumeTaskId"] = r["resumeTaskId"];
    log::Info("task handed back", fields);
    // "failed": past the resume limit the API failed it itself; nothing left to report.
    return true;
  }
  log::Warn("the API did not take the task back; finishing it failed",
            {{"taskId", task_id}, {"error", reply.error().message}});
  const json failed = {{"status", "failed"}, {"failureReason", kShutdownReason}};
  auto finished = SendFinish(context, task_id, failed, task_started);
  if (!finished) {
    log::Warn("could not finish the task either",
              {{"taskId", task_id}, {"error", finished.error().message}});
  }
  return false;
}

json CredentialStatusBody(const WorkerConfig& config, int64_t reported_at_ms) {
  const CredentialVars vars = VarsFor(config);
  const bool ready = !config.endpoint.api_key.empty();
  const json missing = ready ? json::array() : json(vars.candidates);
  json snapshot = {{"ready", ready},
                   {"missing", missing},
                   {"satisfiedBy", ready && vars.used ? json(vars.used) : json(nullptr)},
                   {"hint", nullptr},
                   {"liveTest", nullptr},
                   {"latestModel", nullptr},
                   {"reportedAt", reported_at_ms},
                   {"reportKind", "boot"},
                   {"bedrock", nullptr}};
  return {{"ready", ready}, {"missing", missing}, {"cred_status", std::move(snapshot)}};
}

}  // namespace swarm::worker
