// Request bodies of the routes upstream agent-swarm's worker calls beyond the core contract
// (issue 9): its credential report, supersede, and active sessions. Every field is bounded;
// a violation is a kBadRequest naming the field.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/agent.h"
#include "core/error.h"
#include "core/records.h"

namespace swarm {

inline constexpr std::size_t kMaxMissingCredentials = 64;
inline constexpr std::size_t kMaxCredentialNameBytes = 256;
// The snapshot is a few hundred bytes upstream (presence, live test, Bedrock models).
inline constexpr std::size_t kMaxCredStatusBytes = 16 * 1024;
inline constexpr std::size_t kMaxLatestModelBytes = 4 * 1024;
inline constexpr std::size_t kMaxTriggerTypeBytes = 100;
inline constexpr std::size_t kMaxSessionIdBytes = 200;
// Longer task descriptions are cut (on a UTF-8 boundary): the session only labels the task.
inline constexpr std::size_t kMaxSessionDescriptionBytes = 2000;

// PUT /api/agents/{id}/credential-status {ready?, missing?: string[]|null, cred_status?: object
// |null, latest_model?: object}.
Result<CredentialReport> ParseCredentialReport(const nlohmann::json& body, std::string agent_id);

// POST /api/tasks/{id}/supersede {reason}: one of upstream's four reasons.
Result<std::string> ParseSupersedeReason(const nlohmann::json& body);

// POST /api/active-sessions {agentId, taskId?, triggerType, taskDescription?, runnerSessionId?}
// (runtimeInstanceId and inboxMessageId are accepted and ignored). id and times are left
// for the service.
Result<ActiveSession> ParseNewActiveSession(const nlohmann::json& body);

// POST /api/active-sessions/cleanup {agentId}.
Result<std::string> ParseSessionsCleanup(const nlohmann::json& body);

struct OrphanRecoveryRequest {
  std::string agent_id;
  int min_age_seconds = 60;
};
// POST /api/active-sessions/recover-orphaned-tasks {agentId, minAgeSeconds?}.
Result<OrphanRecoveryRequest> ParseOrphanRecovery(const nlohmann::json& body);

}  // namespace swarm
