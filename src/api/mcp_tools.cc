#include "api/mcp_tools.h"

#include <fmt/format.h>

#include "api/json_codec.h"
#include "api/requests.h"
#include "core/field_reader.h"
#include "core/json_writer.h"
#include "core/strings.h"
#include "core/utf8.h"

namespace swarm {
namespace {

using mcp::ToolOutcome;
using nlohmann::json;

constexpr char kDefaultAgentFailure[] = "failed by the agent";
constexpr int kMaxListLimit = 100;
constexpr int kDefaultListLimit = 25;

// A record written by the API's codec, as a JSON value. The codec replaces invalid UTF-8, so
// what comes back always dumps.
json Parsed(JsonWriter& w) { return json::parse(w.Take()); }

// The text rendering, cut to kMaxTextBytes on a character boundary when it is longer.
std::string BoundedText(std::string text) {
  if (text.size() <= McpTools::kMaxTextBytes) return text;
  constexpr std::string_view kCut = "\n… (cut: the whole result is in structuredContent)";
  std::size_t end = McpTools::kMaxTextBytes - kCut.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  text += kCut;
  return text;
}

// A task as lists show it: the text cut short, no output.
json SlimTask(const Task& t) {
  const std::string_view text = Utf8PrefixChars(t.task, McpTools::kSlimTaskChars);
  const bool cut = text.size() < t.task.size();
  JsonWriter w;
  w.BeginObject()
      .Field("id", t.id)
      .Field("agentId", t.agent_id)
      .Field("creatorAgentId", t.creator_agent_id)
      .Field("task", cut ? std::string(text) + "…" : std::string(text))
      .Field("status", TaskStatusName(t.status))
      .Field("source", t.source)
      .Field("taskType", t.task_type)
      .Field("priority", int64_t{t.priority})
      .Field("hasOutputSchema", t.output_schema.has_value())
      .Field("progress", t.progress)
      .Field("failureReason", t.failure_reason)
      .Field("createdAt", t.created_at)
      .Field("lastUpdatedAt", t.last_updated_at)
      .Field("finishedAt", t.finished_at)
      .EndObject();
  return Parsed(w);
}

json AgentJson(const Agent& agent) {
  JsonWriter w;
  WriteAgent(w, agent);
  return Parsed(w);
}

ToolOutcome Success(json structured) {
  structured["success"] = true;
  ToolOutcome outcome;
  outcome.text = BoundedText(structured.dump(-1, ' ', false, json::error_handler_t::replace));
  outcome.structured = std::move(structured);
  return outcome;
}

// A refusal the model can act on. `message` says what is wrong; the text starts "Error:" (how
// a wire without an error flag tells it apart) and may add what to do about it.
ToolOutcome Refusal(const std::string& message, json details = json::object(),
                    const std::string& advice = "") {
  ToolOutcome outcome;
  outcome.is_error = true;
  outcome.text = BoundedText("Error: " + message + (advice.empty() ? "" : "\n" + advice));
  outcome.structured = std::move(details);
  outcome.structured["success"] = false;
  outcome.structured["message"] = message;
  return outcome;
}

// The arguments object; JSON-RPC lets a client leave `arguments` out.
Result<json> ArgumentsObject(const json& arguments) {
  if (arguments.is_null()) return json::object();
  if (!arguments.is_object()) return BadRequest("arguments must be an object");
  return arguments;
}

// `output` is text in the store; a client that sends the JSON value itself means the same
// (as POST /finish takes it).
std::optional<std::string> OutputText(FieldReader& r) {
  const json* v = r.OptionalValue("output");
  if (!v) return std::nullopt;
  return v->is_string() ? v->get<std::string>()
                        : v->dump(-1, ' ', false, json::error_handler_t::replace);
}

// The stored schema (checked JSON text) as a value, for a refusal to show.
json SchemaJson(const std::optional<std::string>& schema) {
  if (!schema) return nullptr;
  return json::parse(*schema, nullptr, /*allow_exceptions=*/false);
}

std::string SchemaText(const std::optional<std::string>& schema) {
  return SchemaJson(schema).dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsRefusal(const Error& error) {
  return error.code == ErrorCode::kNotFound || error.code == ErrorCode::kForbidden ||
         error.code == ErrorCode::kConflict;
}

std::string HolderText(const Task& task) {
  return task.agent_id ? "agent " + *task.agent_id : "no agent";
}

const json kTaskIdSchema = {{"type", "string"}, {"description", "The task's id (a UUID)."}};

std::vector<mcp::ToolSpec> BuildSpecs() {
  std::vector<mcp::ToolSpec> specs;
  specs.push_back(
      {"store-progress",
       "Store task progress or result",
       "Report progress on your in-progress task, or finish it. With status \"completed\", "
       "`output` is your result: when the task has an outputSchema it must be JSON matching "
       "it. A mismatch is returned as an error naming the violation and the task stays "
       "in_progress: fix the output and call store-progress again. With status \"failed\", "
       "give failureReason.",
       {{"type", "object"},
        {"properties",
         {{"taskId", kTaskIdSchema},
          {"progress", {{"type", "string"}, {"description", "What you did so far."}}},
          {"status",
           {{"type", "string"},
            {"enum", {"completed", "failed"}},
            {"description", "Finish the task: completed (with output) or failed."}}},
          {"output",
           {{"description",
             "The task's result (status completed): a string, or the JSON value itself. "
             "Must match the task's outputSchema when it has one."}}},
          {"failureReason", {{"type", "string"}, {"description", "Why the task failed."}}}}},
        {"required", {"taskId"}}}});
  specs.push_back({"get-task-details",
                   "Get task details",
                   "A task with its output, outputSchema and recent lifecycle log.",
                   {{"type", "object"},
                    {"properties", {{"taskId", kTaskIdSchema}}},
                    {"required", {"taskId"}}}});
  specs.push_back({"get-tasks",
                   "List tasks",
                   "The swarm's tasks, most recently updated first (text cut short).",
                   {{"type", "object"},
                    {"properties",
                     {{"status",
                       {{"type", "string"},
                        {"description",
                         "A status or comma-separated statuses: unassigned, pending, in_progress, "
                         "completed, failed, cancelled."}}},
                      {"limit",
                       {{"type", "integer"},
                        {"minimum", 1},
                        {"maximum", kMaxListLimit},
                        {"default", kDefaultListLimit}}}}}}});
  specs.push_back(
      {"send-task",
       "Create a task",
       "Creates a task for another agent (agentId) or for the pool, optionally with an "
       "outputSchema (a JSON Schema, draft-07) its result must match.",
       {{"type", "object"},
        {"properties",
         {{"task", {{"type", "string"}, {"description", "What to do."}}},
          {"agentId", {{"type", "string"}, {"description", "The agent to give it to."}}},
          {"outputSchema", {{"type", "object"}, {"description", "A JSON Schema (draft-07)."}}}}},
        {"required", {"task"}}}});
  specs.push_back({"cancel-task",
                   "Cancel a task",
                   "Cancels a task you created or hold.",
                   {{"type", "object"},
                    {"properties", {{"taskId", kTaskIdSchema}, {"reason", {{"type", "string"}}}}},
                    {"required", {"taskId"}}}});
  specs.push_back({"my-agent-info",
                   "My agent",
                   "Your agent's record and its capacity.",
                   {{"type", "object"}, {"properties", json::object()}}});
  specs.push_back({"get-swarm",
                   "The swarm",
                   "Every agent of the swarm with its capacity.",
                   {{"type", "object"}, {"properties", json::object()}}});
  return specs;
}

}  // namespace

McpTools::McpTools(TaskService& tasks, AgentService& agents)
    : tasks_(tasks), agents_(agents), specs_(BuildSpecs()) {}

Result<ToolOutcome> McpTools::Call(const std::string& name, const json& arguments,
                                   const mcp::Caller& caller) {
  using Tool = Result<ToolOutcome> (McpTools::*)(const json&, const mcp::Caller&);
  static const std::pair<const char*, Tool> kTools[] = {
      {"store-progress", &McpTools::StoreProgress}, {"get-task-details", &McpTools::GetTaskDetails},
      {"get-tasks", &McpTools::GetTasks},           {"send-task", &McpTools::SendTask},
      {"cancel-task", &McpTools::CancelTask},       {"my-agent-info", &McpTools::MyAgentInfo},
      {"get-swarm", &McpTools::GetSwarm},
  };
  for (const auto& [tool_name, tool] : kTools) {
    if (name != tool_name) continue;
    auto args = ArgumentsObject(arguments);
    if (!args) return tl::unexpected(args.error());
    return (this->*tool)(*args, caller);
  }
  return NotFound(fmt::format("unknown tool: {}", name));
}

Result<ToolOutcome> McpTools::StoreProgress(const json& args, const mcp::Caller& caller) {
  FieldReader r(args);
  const std::string task_id = r.RequiredString("taskId");
  const auto progress = r.OptionalString("progress");
  const auto status_name = r.OptionalString("status");
  FinishRequest finish;
  finish.output = OutputText(r);
  finish.failure_reason = r.OptionalString("failureReason");
  if (status_name) {
    if (*status_name == "completed") {
      finish.status = TaskStatus::kCompleted;
    } else if (*status_name == "failed") {
      finish.status = TaskStatus::kFailed;
    } else {
      r.Fail("status must be \"completed\" or \"failed\"");
    }
  }
  if (r.ok() && !progress && !status_name) r.Fail("progress or status is required");
  if (!r.ok()) return tl::unexpected(r.error());

  const json about = {{"taskId", task_id}};
  if (caller.token_task_id && *caller.token_task_id != task_id) {
    return Refusal(fmt::format("this session may only report on task {}, not on task {}",
                               *caller.token_task_id, task_id),
                   about);
  }
  auto task = tasks_.GetTask(task_id);
  if (!task) {
    if (task.error().code == ErrorCode::kNotFound) {
      return Refusal(fmt::format("task {} not found", task_id), about);
    }
    return tl::unexpected(task.error());
  }
  if (task->agent_id != caller.agent_id) {
    return Refusal(fmt::format("task {} is not yours: it is assigned to {}, not to agent {}",
                               task_id, HolderText(*task), caller.agent_id),
                   about);
  }
  const json state = {{"taskId", task_id}, {"status", TaskStatusName(task->status)}};
  // A terminal task with a result sent again is answered by Finish (same result: a no-op).
  const bool finishing_terminal = status_name && IsTerminal(task->status);
  if (task->status != TaskStatus::kInProgress && !finishing_terminal) {
    return Refusal(fmt::format("task {} is {}, not in_progress: only a task in progress takes "
                               "progress or a result",
                               task_id, TaskStatusName(task->status)),
                   state);
  }
  if (progress && !finishing_terminal) {
    auto stored = tasks_.SetProgress(task_id, *progress, caller.agent_id);
    if (!stored) {
      if (IsRefusal(stored.error())) return Refusal(stored.error().message, state);
      return tl::unexpected(stored.error());
    }
    if (!status_name) {
      return Success({{"message", fmt::format("Progress stored for task {}.", task_id)},
                      {"task", SlimTask(*stored)}});
    }
  }

  if (finish.status == TaskStatus::kCompleted && !finish.output) {
    if (task->output_schema) {
      return Refusal("output is required with status \"completed\"",
                     {{"taskId", task_id},
                      {"status", TaskStatusName(task->status)},
                      {"outputSchema", SchemaJson(task->output_schema)}},
                     "The task's outputSchema:\n" + SchemaText(task->output_schema) +
                         "\nCall store-progress again with an output that matches it.");
    }
    return Refusal("output is required with status \"completed\"", state);
  }
  if (finish.status == TaskStatus::kFailed && !finish.failure_reason) {
    finish.failure_reason = kDefaultAgentFailure;
  }
  auto result = tasks_.Finish(task_id, caller.agent_id, finish,
                              FinishOptions{.reject_mismatch = true, .via = "mcp"});
  if (!result) {
    if (IsRefusal(result.error())) return Refusal(result.error().message, state);
    return tl::unexpected(result.error());
  }
  const Task& done = result->task;
  switch (result->outcome) {
    case FinishOutcome::kRejected:
      return Refusal("output does not match the task's outputSchema: " + result->violation,
                     {{"taskId", task_id},
                      {"status", TaskStatusName(done.status)},
                      {"violation", result->violation},
                      {"outputSchema", SchemaJson(done.output_schema)}},
                     "The task's outputSchema:\n" + SchemaText(done.output_schema) +
                         "\nFix the output and call store-progress again.");
    case FinishOutcome::kConflict:
      return Refusal(fmt::format("task {} is already {}; its first result stands", task_id,
                                 TaskStatusName(done.status)),
                     {{"taskId", task_id}, {"status", TaskStatusName(done.status)}});
    case FinishOutcome::kAlreadyFinished:
      return Success({{"message", fmt::format("Task {} was already {} with this result.", task_id,
                                              TaskStatusName(done.status))},
                      {"alreadyFinished", true},
                      {"task", SlimTask(done)}});
    case FinishOutcome::kApplied:
      break;
  }
  return Success({{"message", fmt::format("Task {} is {}.", task_id, TaskStatusName(done.status))},
                  {"task", SlimTask(done)}});
}

Result<ToolOutcome> McpTools::GetTaskDetails(const json& args, const mcp::Caller&) {
  FieldReader r(args);
  const std::string task_id = r.RequiredString("taskId");
  if (!r.ok()) return tl::unexpected(r.error());
  auto found = tasks_.Get(task_id, kDetailLogs);
  if (!found) {
    if (found.error().code == ErrorCode::kNotFound) {
      return Refusal(fmt::format("task {} not found", task_id), {{"taskId", task_id}});
    }
    return tl::unexpected(found.error());
  }
  JsonWriter w;
  w.BeginObject();
  WriteTaskFields(w, found->task);
  w.Key("logs");
  WriteArray(w, found->logs, WriteAgentLog);
  w.EndObject();
  return Success({{"task", Parsed(w)}});
}

Result<ToolOutcome> McpTools::GetTasks(const json& args, const mcp::Caller&) {
  FieldReader r(args);
  const auto status = r.OptionalString("status");
  const auto limit = r.OptionalInt("limit", 1, kMaxListLimit);
  if (!r.ok()) return tl::unexpected(r.error());
  TaskFilter filter;
  filter.limit = static_cast<int>(limit.value_or(kDefaultListLimit));
  if (status) {
    for (const auto& name : SplitCsv(*status)) {
      auto s = ParseTaskStatus(name);
      if (!s) return BadRequest(fmt::format("status: unknown task status \"{}\"", name));
      filter.statuses.push_back(*s);
    }
  }
  auto page = tasks_.List(filter);
  if (!page) return tl::unexpected(page.error());
  json tasks = json::array();
  for (const Task& task : page->tasks) tasks.push_back(SlimTask(task));
  return Success({{"tasks", std::move(tasks)}, {"total", page->total}});
}

Result<ToolOutcome> McpTools::SendTask(const json& args, const mcp::Caller& caller) {
  // Read by the same parser as POST /api/tasks, so the rules (and the schema's compilation)
  // are the same; only these fields come from the agent.
  json body = {{"source", "mcp"}, {"creatorAgentId", caller.agent_id}};
  for (const char* key : {"task", "agentId", "outputSchema"}) {
    if (auto it = args.find(key); it != args.end() && !it->is_null()) body[key] = *it;
  }
  if (auto it = body.find("outputSchema"); it != body.end() && !it->is_object()) {
    return BadRequest("outputSchema must be an object");
  }
  auto request = ParseCreateTask(body);
  if (!request) return tl::unexpected(request.error());
  if (const auto& agent_id = request->task.agent_id) {
    auto agent = agents_.Get(*agent_id);
    if (!agent) {
      if (agent.error().code == ErrorCode::kNotFound) {
        return Refusal(fmt::format("agent {} not found: see get-swarm for the agents", *agent_id),
                       {{"agentId", *agent_id}});
      }
      return tl::unexpected(agent.error());
    }
  }
  auto task = tasks_.CreateNow(std::move(*request));
  if (!task) return tl::unexpected(task.error());
  return Success(
      {{"message", fmt::format("Task {} created.", task->id)}, {"task", SlimTask(*task)}});
}

Result<ToolOutcome> McpTools::CancelTask(const json& args, const mcp::Caller& caller) {
  FieldReader r(args);
  const std::string task_id = r.RequiredString("taskId");
  const auto reason = r.OptionalString("reason");
  if (!r.ok()) return tl::unexpected(r.error());
  const json about = {{"taskId", task_id}};
  auto task = tasks_.GetTask(task_id);
  if (!task) {
    if (task.error().code == ErrorCode::kNotFound) {
      return Refusal(fmt::format("task {} not found", task_id), about);
    }
    return tl::unexpected(task.error());
  }
  if (task->creator_agent_id != caller.agent_id && task->agent_id != caller.agent_id) {
    return Refusal(
        fmt::format("task {} is neither created by nor assigned to agent {}: only its creator "
                    "or its holder may cancel it",
                    task_id, caller.agent_id),
        about);
  }
  auto cancelled = tasks_.Cancel(task_id, reason, caller.agent_id, "mcp");
  if (!cancelled) {
    // kBadRequest: already terminal, nothing changed.
    if (cancelled.error().code == ErrorCode::kBadRequest || IsRefusal(cancelled.error())) {
      return Refusal(cancelled.error().message, about);
    }
    return tl::unexpected(cancelled.error());
  }
  return Success(
      {{"message", fmt::format("Task {} is cancelled.", task_id)}, {"task", SlimTask(*cancelled)}});
}

Result<ToolOutcome> McpTools::MyAgentInfo(const json&, const mcp::Caller& caller) {
  auto agent = agents_.Get(caller.agent_id);
  if (!agent) return tl::unexpected(agent.error());
  return Success({{"agent", AgentJson(*agent)}});
}

Result<ToolOutcome> McpTools::GetSwarm(const json&, const mcp::Caller&) {
  auto agents = agents_.List();
  if (!agents) return tl::unexpected(agents.error());
  json list = json::array();
  for (const Agent& agent : *agents) list.push_back(AgentJson(agent));
  return Success({{"agents", std::move(list)}});
}

mcp::AgentCheck RegisteredAgentCheck(AgentService& agents) {
  return [&agents](const std::string& agent_id) -> Result<void> {
    auto agent = agents.Get(agent_id);
    if (!agent) return tl::unexpected(agent.error());
    return {};
  };
}

}  // namespace swarm
