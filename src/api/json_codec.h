// The wire shapes of the domain records: camelCase names as in upstream agent-swarm, null for
// absent optional values. Written straight into a JsonWriter (see core/json_writer.h for why).
#pragma once

#include <string>
#include <vector>

#include "core/agent.h"
#include "core/json_writer.h"
#include "core/records.h"
#include "core/task.h"

namespace swarm {

// The *Fields functions write the members only, so callers can add their own to the object.
void WriteTaskFields(JsonWriter& w, const Task& task);
void WriteTask(JsonWriter& w, const Task& task);
// The agent with `capacity {current, max, available}`.
void WriteAgent(JsonWriter& w, const Agent& agent);
void WriteAgentLog(JsonWriter& w, const AgentLog& log);
void WriteActiveSession(JsonWriter& w, const ActiveSession& session);
void WriteSessionLog(JsonWriter& w, const SessionLog& log);
void WriteSessionCost(JsonWriter& w, const SessionCost& cost);

// An array of records, each written with `write`.
template <typename T>
void WriteArray(JsonWriter& w, const std::vector<T>& items, void (*write)(JsonWriter&, const T&)) {
  w.BeginArray();
  for (const auto& item : items) write(w, item);
  w.EndArray();
}

}  // namespace swarm
