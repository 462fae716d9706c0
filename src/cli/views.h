// Human-readable renderings of API replies for the client commands (the default output;
// --json prints the reply as it came).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace swarm {

std::string RenderTaskList(const nlohmann::json& reply);   // {tasks, total}
std::string RenderTask(const nlohmann::json& task);        // a task, with logs if present
std::string RenderAgentList(const nlohmann::json& reply);  // {agents}
std::string RenderAgent(const nlohmann::json& agent);

}  // namespace swarm
