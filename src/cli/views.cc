#include "cli/views.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/table.h"
#include "core/json_fields.h"

namespace swarm {
namespace {

using nlohmann::json;

// A field as text: strings as they are, null/absent as "-", anything else as JSON.
std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Shown as the API sent them: value() with an integer default would convert a float reply
// like 1e300 to int, which is undefined behaviour.
std::string Capacity(const json& agent) {
  auto c = agent.find("capacity");
  if (c == agent.end() || !c->is_object()) return "-";
  return Text(*c, "current") + "/" + Text(*c, "max");
}

}  // namespace

std::string RenderTaskList(const json& reply) {
  TextTable table({"ID", "STATUS", "AGENT", "PRI", "UPDATED", "TASK"}, 48);
  const json& tasks = ArrayField(reply, "tasks");
  for (const auto& t : tasks) {
    table.AddRow({Text(t, "id"), Text(t, "status"), Text(t, "agentId"), Text(t, "priority"),
                  Text(t, "lastUpdatedAt"), Text(t, "task")});
  }
  return table.Render() +
         fmt::format("{} of {} task(s)\n", tasks.size(),
                     reply.contains("total") ? Text(reply, "total") : std::to_string(tasks.size()));
}

std::string RenderTask(const json& t) {
  std::string out;
  for (const char* key : {"id", "status", "agentId", "source", "priority", "task", "output",
                          "failureReason", "progress", "claudeSessionId", "provider", "model",
                          "createdAt", "startedAt", "finishedAt"}) {
    out += fmt::format("{:<16} {}\n", std::string(key) + ":", Text(t, key));
  }
  if (auto schema = t.find("outputSchema"); schema != t.end() && !schema->is_null()) {
    out += fmt::format("{:<16} {}\n", "outputSchema:", schema->dump());
  }
  if (const json& entries = ArrayField(t, "logs"); !entries.empty()) {
    TextTable logs({"TIME", "EVENT", "AGENT", "FROM", "TO"});
    for (const auto& l : entries) {
      logs.AddRow({Text(l, "createdAt"), Text(l, "eventType"), Text(l, "agentId"),
                   Text(l, "oldValue"), Text(l, "newValue")});
    }
    out += "\n" + logs.Render();
  }
  return out;
}

std::string RenderAgentList(const json& reply) {
  TextTable table({"ID", "NAME", "STATUS", "PROVIDER", "CAPACITY", "LAST ACTIVITY"});
  const json& agents = ArrayField(reply, "agents");
  for (const auto& a : agents) {
    table.AddRow({Text(a, "id"), Text(a, "name"), Text(a, "status"), Text(a, "harnessProvider"),
                  Capacity(a), Text(a, "lastActivityAt")});
  }
  return table.Render() + fmt::format("{} agent(s)\n", agents.size());
}

std::string RenderAgent(const json& a) {
  std::string out;
  for (const char* key : {"id", "name", "status", "role", "isLead", "provider", "harnessProvider",
                          "maxTasks", "lastActivityAt", "createdAt"}) {
    out += fmt::format("{:<16} {}\n", std::string(key) + ":", Text(a, key));
  }
  out += fmt::format("{:<16} {}\n", "capacity:", Capacity(a));
  return out;
}

}  // namespace swarm
