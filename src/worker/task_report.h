// The worker's side of the wire: what a poll reply means, and the bodies it sends about a
// task (registration, session, logs, cost, finish). Plain functions of their inputs, so every
// rule about what gets reported is unit-tested without a server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/utf8.h"  // SanitizeUtf8: CLI output is arbitrary bytes; JSON needs UTF-8
#include "harness/adapter.h"
#include "worker/worker_config.h"

namespace swarm::worker {

inline constexpr char kShutdownReason[] = "worker shutting down";

// A task handed over by GET /api/poll.
struct ClaimedTask {
  std::string id;
  std::string text;
  std::optional<std::string> output_schema;  // JSON text
  std::optional<std::string> model;          // the task's own model
};

// The poll reply: a claimed task, or nullopt for {"trigger":null}. A trigger this worker does
// not understand is an error (it cannot run it, and must not silently drop it).
Result<std::optional<ClaimedTask>> ParsePollReply(const nlohmann::json& reply);

// POST /api/agents. `runtime_instance_id` is this process's (upstream's field): a new one under
// the same agent id tells the API the worker was restarted. Carries the worker's build version
// (BuildVersion) and, when known, the CLI's (config.cli_version).
nlohmann::json RegisterBody(const WorkerConfig& config, const std::string& runtime_instance_id);

// POST /api/active-sessions, before the task's CLI starts (as upstream's worker does): while
// it exists, a crash of this worker resumes the task instead of failing it. taskDescription
// is the task's first kActiveSessionDescriptionChars characters.
inline constexpr std::size_t kActiveSessionDescriptionChars = 200;
nlohmann::json ActiveSessionBody(const std::string& agent_id, const ClaimedTask& task,
                                 const std::string& runtime_instance_id);

// PUT /api/tasks/{id}/session.
nlohmann::json SessionBody(const std::string& session_id, const std::string& provider,
                           const std::optional<std::string>& model);

// POST /api/session-logs. `runner_session_id` is the worker's own id for this run (the
// provider's is not known before the first lines arrive).
nlohmann::json SessionLogsBody(const std::string& runner_session_id, const std::string& task_id,
                               const std::string& cli, std::vector<std::string> lines);

// POST /api/session-costs, or nullopt when the run produced nothing to account (the CLI never
// started: no session, no tokens, no cost).
std::optional<nlohmann::json> SessionCostBody(const harness::RunResult& result,
                                              const std::string& runner_session_id,
                                              const std::string& task_id,
                                              const std::string& agent_id,
                                              const std::string& provider);

// POST /api/tasks/{id}/finish: completed with the output (the extracted JSON when the task
// has a schema, else the final text; the server judges the schema), or failed with the
// reason. `shutting_down`: the worker cancelled the run itself because it is stopping.
nlohmann::json FinishBody(const harness::RunResult& result, bool has_schema, bool shutting_down);

}  // namespace swarm::worker
