// Request bodies and query strings of the API, parsed into typed inputs. Every rule of the
// contract about a single request's shape lives here; a violation is a kBadRequest that
// names the field.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "api/output_schema.h"
#include "core/agent.h"
#include "core/error.h"
#include "core/records.h"
#include "core/task.h"
#include "http/query.h"
#include "store/store.h"

namespace swarm {

struct CreateTaskRequest {
  NewTask task;  // id and now left for the service
  std::optional<OutputSchema> schema;
};

struct FinishRequest {
  TaskStatus status = TaskStatus::kCompleted;  // completed or failed
  std::optional<std::string> output;           // a JSON value that is not a string is dumped
  std::optional<std::string> failure_reason;
};

struct SessionRequest {
  std::string session_id;
  std::optional<std::string> provider;
  std::optional<std::string> model;
};

Result<CreateTaskRequest> ParseCreateTask(const nlohmann::json& body);
Result<AgentRegistration> ParseRegisterAgent(const nlohmann::json& body, std::string agent_id);
Result<FinishRequest> ParseFinish(const nlohmann::json& body);
Result<SessionRequest> ParseSession(const nlohmann::json& body);
Result<std::string> ParseProgress(const nlohmann::json& body);
Result<std::optional<std::string>> ParseCancel(const nlohmann::json& body);  // the reason
Result<SessionLogBatch> ParseSessionLogs(const nlohmann::json& body);
Result<SessionCost> ParseSessionCost(const nlohmann::json& body);

// The X-Agent-ID header: non-empty, at most 256 bytes, valid UTF-8, no control characters
// (C0, DEL, C1). kBadRequest naming the rule otherwise.
Result<std::string> ValidateAgentId(std::string_view header);

Result<TaskFilter> ParseTaskFilter(const http::QueryParams& query);
Result<CostFilter> ParseCostFilter(const http::QueryParams& query);
// An optional integer query parameter within [min, max]; `fallback` when absent.
Result<int> ParseIntParam(const http::QueryParams& query, const char* name, int min, int max,
                          int fallback);
// `wait` of GET /api/poll: seconds, fractional allowed, 0..max_seconds; 0 when absent.
Result<std::chrono::milliseconds> ParsePollWait(const http::QueryParams& query, double max_seconds);

}  // namespace swarm
