// The swarm's MCP tools (upstream agent-swarm's lifecycle tools, §2.7 of the notes): what an
// agent inside a harness CLI calls to drive its own task. The main one is store-progress: a
// completed output is judged against the task's outputSchema by the same judge as /finish, and
// a mismatch comes back as a tool error naming the violation while the task stays in_progress,
// so the agent fixes its output within the same session.
//
// Every refusal that the agent could act on (not your task, not in progress, the output does
// not match) is a tool result with is_error and a text starting "Error:"; arguments that do not
// fit a tool's input schema are kBadRequest naming the field (JSON-RPC "Invalid params").
// Blocking (the store): the route calls it on the store executors.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/agent_service.h"
#include "api/task_service.h"
#include "mcp/endpoint.h"
#include "mcp/tool_set.h"

namespace swarm {

// The endpoint's check at initialize: the agent is registered here (kNotFound when not).
mcp::AgentCheck RegisteredAgentCheck(AgentService& agents);

class McpTools final : public mcp::ToolSet {
 public:
  // Every text rendering is cut to this size; structuredContent carries the whole result.
  static constexpr std::size_t kMaxTextBytes = 256 * 1024;
  // get-tasks shows this much of each task's text.
  static constexpr std::size_t kSlimTaskChars = 300;
  // get-task-details shows the newest lifecycle logs, this many.
  static constexpr int kDetailLogs = 50;

  McpTools(TaskService& tasks, AgentService& agents);

  const std::vector<mcp::ToolSpec>& Tools() const override { return specs_; }
  Result<mcp::ToolOutcome> Call(const std::string& name, const nlohmann::json& arguments,
                                const mcp::Caller& caller) override;

 private:
  Result<mcp::ToolOutcome> StoreProgress(const nlohmann::json& args, const mcp::Caller& caller);
  Result<mcp::ToolOutcome> GetTaskDetails(const nlohmann::json& args, const mcp::Caller& caller);
  Result<mcp::ToolOutcome> GetTasks(const nlohmann::json& args, const mcp::Caller& caller);
  Result<mcp::ToolOutcome> SendTask(const nlohmann::json& args, const mcp::Caller& caller);
  Result<mcp::ToolOutcome> CancelTask(const nlohmann::json& args, const mcp::Caller& caller);
  Result<mcp::ToolOutcome> MyAgentInfo(const nlohmann::json& args, const mcp::Caller& caller);
  Result<mcp::ToolOutcome> GetSwarm(const nlohmann::json& args, const mcp::Caller& caller);

  TaskService& tasks_;
  AgentService& agents_;
  std::vector<mcp::ToolSpec> specs_;
};

}  // namespace swarm
