#include "api/compat_requests.h"

#include <array>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/field_reader.h"
#include "core/utf8.h"

namespace swarm {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> kSupersedeReasons = {
    "graceful_shutdown", "context_limits", "manual_supersede", "crash_recovery"};

// An optional JSON object field, dumped; a value of another type or past `max_bytes` fails.
std::optional<std::string> ObjectText(FieldReader& r, const char* name, std::size_t max_bytes) {
  const json* value = r.OptionalValue(name);
  if (!value) return std::nullopt;
  if (!value->is_object()) {
    r.Fail(fmt::format("{} must be an object", name));
    return std::nullopt;
  }
  std::string text = value->dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > max_bytes) {
    r.Fail(fmt::format("{} must be at most {} bytes of JSON", name, max_bytes));
    return std::nullopt;
  }
  return text;
}

void CheckLength(FieldReader& r, const char* name, const std::optional<std::string>& value,
                 std::size_t max_bytes) {
  if (value && value->size() > max_bytes) {
    r.Fail(fmt::format("{} must be at most {} bytes", name, max_bytes));
  }
}

}  // namespace

Result<CredentialReport> ParseCredentialReport(const json& body, std::string agent_id) {
  FieldReader r(body);
  CredentialReport report;
  report.agent_id = std::move(agent_id);
  report.ready = r.OptionalBool("ready");
  if (const json* missing = r.OptionalValue("missing")) {
    if (!missing->is_array()) {
      r.Fail("missing must be an array of strings or null");
    } else if (missing->size() > kMaxMissingCredentials) {
      r.Fail(fmt::format("missing must list at most {} names", kMaxMissingCredentials));
    } else {
      report.missing = r.StringArray("missing");
      for (const std::string& name : *report.missing) {
        if (name.empty() || name.size() > kMaxCredentialNameBytes) {
          r.Fail(
              fmt::format("each name in missing must be 1 to {} bytes", kMaxCredentialNameBytes));
          break;
        }
      }
    }
  } else if (body.contains("missing")) {
    report.missing = std::vector<std::string>();  // an explicit null clears the list
  }
  if (body.contains("cred_status")) {
    report.cred_status_given = true;
    report.cred_status = ObjectText(r, "cred_status", kMaxCredStatusBytes);
  }
  report.latest_model = ObjectText(r, "latest_model", kMaxLatestModelBytes);
  if (!r.ok()) return tl::unexpected(r.error());
  return report;
}

Result<std::string> ParseSupersedeReason(const json& body) {
  FieldReader r(body);
  std::string reason = r.RequiredString("reason");
  if (!r.ok()) return tl::unexpected(r.error());
  for (std::string_view known : kSupersedeReasons) {
    if (reason == known) return reason;
  }
  return BadRequest(
      "reason must be one of graceful_shutdown, context_limits, manual_supersede, "
      "crash_recovery");
}

Result<ActiveSession> ParseNewActiveSession(const json& body) {
  FieldReader r(body);
  ActiveSession session;
  session.agent_id = r.RequiredString("agentId");
  session.task_id = r.OptionalString("taskId");
  session.trigger_type = r.RequiredString("triggerType");
  session.task_description = r.OptionalString("taskDescription");
  session.runner_session_id = r.OptionalString("runnerSessionId");
  (void)r.OptionalString("runtimeInstanceId");
  (void)r.OptionalString("inboxMessageId");
  CheckLength(r, "agentId", session.agent_id, kMaxSessionIdBytes);
  CheckLength(r, "taskId", session.task_id, kMaxSessionIdBytes);
  CheckLength(r, "triggerType", session.trigger_type, kMaxTriggerTypeBytes);
  CheckLength(r, "runnerSessionId", session.runner_session_id, kMaxSessionIdBytes);
  if (!r.ok()) return tl::unexpected(r.error());
  if (session.task_description) {
    session.task_description =
        std::string(Utf8Prefix(*session.task_description, kMaxSessionDescriptionBytes));
  }
  return session;
}

Result<std::string> ParseSessionsCleanup(const json& body) {
  FieldReader r(body);
  std::string agent_id = r.RequiredString("agentId");
  CheckLength(r, "agentId", agent_id, kMaxSessionIdBytes);
  if (!r.ok()) return tl::unexpected(r.error());
  return agent_id;
}

Result<OrphanRecoveryRequest> ParseOrphanRecovery(const json& body) {
  FieldReader r(body);
  OrphanRecoveryRequest req;
  req.agent_id = r.RequiredString("agentId");
  req.min_age_seconds =
      static_cast<int>(r.OptionalInt("minAgeSeconds", 1, 30 * 24 * 3600).value_or(60));
  CheckLength(r, "agentId", req.agent_id, kMaxSessionIdBytes);
  if (!r.ok()) return tl::unexpected(r.error());
  return req;
}

}  // namespace swarm
