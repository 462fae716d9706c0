// The wire shapes of the domain records: camelCase names as in upstream agent-swarm, null
// for absent optional values.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "core/agent.h"
#include "core/records.h"
#include "core/task.h"

namespace swarm {

nlohmann::json ToJson(const Task& task);
// The agent with `capacity {current, max, available}`.
nlohmann::json ToJson(const Agent& agent);
nlohmann::json ToJson(const AgentLog& log);
nlohmann::json ToJson(const SessionLog& log);
nlohmann::json ToJson(const SessionCost& cost);

}  // namespace swarm
