#include "api/mcp_tools.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/sqlite_store.h"

namespace swarm {
namespace {

using nlohmann::json;

constexpr char kSchema[] =
    R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})";

// The tools over the real services and an in-memory store, without sockets or JSON-RPC.
class McpToolsTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    tasks_ = std::make_unique<TaskService>(*store_, clock_, hub_);
    agents_ = std::make_unique<AgentService>(*store_, clock_, heartbeats_);
    tools_ = std::make_unique<McpTools>(*tasks_, *agents_);
    for (const char* id : {"w", "other"}) {
      AgentRegistration reg;
      reg.id = id;
      reg.name = id;
      reg.max_tasks = 4;
      ASSERT_TRUE(agents_->Register(reg));
    }
  }

  // A task for `agent`, claimed by it.
  std::string Claimed(const std::string& agent, bool with_schema = true) {
    json body = {{"task", "Reply with exactly: pong"}, {"agentId", agent}};
    if (with_schema) body["outputSchema"] = json::parse(kSchema);
    auto request = ParseCreateTask(body);
    EXPECT_TRUE(request) << request.error().message;
    auto task = tasks_->CreateNow(std::move(*request));
    EXPECT_TRUE(task) << task.error().message;
    auto claimed = tasks_->Claim(agent);
    EXPECT_TRUE(claimed && claimed->task && claimed->task->id == task->id);
    return task->id;
  }

  Result<mcp::ToolOutcome> Call(const std::string& tool, const json& args,
                                const std::string& agent = "w") {
    mcp::Caller caller;
    caller.agent_id = agent;
    return tools_->Call(tool, args, caller);
  }

  // A call that must run (not an argument error) and answer with this error flag.
  mcp::ToolOutcome Ran(const std::string& tool, const json& args, bool is_error,
                       const std::string& agent = "w") {
    auto outcome = Call(tool, args, agent);
    EXPECT_TRUE(outcome) << outcome.error().message;
    if (!outcome) return {};
    EXPECT_EQ(outcome->is_error, is_error) << outcome->text;
    return *outcome;
  }

  Task Stored(const std::string& id) {
    auto task = store_->GetTask(id);
    EXPECT_TRUE(task);
    return *task;
  }

  // The metadata of the task's status change into `status`.
  std::optional<std::string> StatusChangeVia(const std::string& id, const std::string& status) {
    auto logs = store_->ListTaskLogs(id, 100);
    EXPECT_TRUE(logs);
    for (const auto& log : *logs) {
      if (log.event_type == "task_status_change" && log.new_value == status) return log.metadata;
    }
    return std::nullopt;
  }

  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  PollHub hub_;
  Heartbeats heartbeats_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<TaskService> tasks_;
  std::unique_ptr<AgentService> agents_;
  std::unique_ptr<McpTools> tools_;
};

TEST_F(McpToolsTest, ListsEveryToolWithAnObjectInputSchema) {
  std::vector<std::string> names;
  for (const auto& spec : tools_->Tools()) {
    names.push_back(spec.name);
    EXPECT_EQ(spec.input_schema.at("type"), "object") << spec.name;
    EXPECT_FALSE(spec.description.empty()) << spec.name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"store-progress", "get-task-details", "get-tasks",
                                      "send-task", "cancel-task", "my-agent-info", "get-swarm"}));
  const auto& store_progress = tools_->Tools().front().input_schema;
  EXPECT_EQ(store_progress.at("required"), json::array({"taskId"}));
  EXPECT_EQ(store_progress.at("properties").at("status").at("enum"),
            json::array({"completed", "failed"}));
}

TEST_F(McpToolsTest, MatchingOutputCompletesTheTaskViaMcp) {
  const std::string id = Claimed("w");
  auto done =
      Ran("store-progress",
          {{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":"pong"})"}}, false);
  EXPECT_EQ(done.structured.at("success"), true);
  EXPECT_EQ(done.structured.at("task").at("status"), "completed");
  EXPECT_NE(done.text.find("completed"), std::string::npos);
  const Task task = Stored(id);
  EXPECT_EQ(task.status, TaskStatus::kCompleted);
  EXPECT_EQ(task.output, R"({"reply":"pong"})");
  EXPECT_EQ(StatusChangeVia(id, "completed"), R"({"via":"mcp"})");
}

TEST_F(McpToolsTest, OutputAsAJsonValueIsDumpedLikeFinishDoes) {
  const std::string id = Claimed("w");
  Ran("store-progress", {{"taskId", id}, {"status", "completed"}, {"output", {{"reply", "pong"}}}},
      false);
  EXPECT_EQ(Stored(id).output, R"({"reply":"pong"})");
}

TEST_F(McpToolsTest, MismatchIsAToolErrorAndTheTaskStaysInProgress) {
  const std::string id = Claimed("w");
  auto refused =
      Ran("store-progress",
          {{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":"ping"})"}}, true);
  EXPECT_EQ(refused.text.rfind("Error: output does not match the task's outputSchema: ", 0), 0u)
      << refused.text;
  EXPECT_NE(refused.text.find("reply"), std::string::npos) << refused.text;
  EXPECT_NE(refused.text.find(R"("const":"pong")"), std::string::npos) << refused.text;
  EXPECT_NE(refused.text.find("Fix the output and call store-progress again."), std::string::npos);
  EXPECT_EQ(refused.structured.at("success"), false);
  EXPECT_EQ(refused.structured.at("status"), "in_progress");
  EXPECT_EQ(refused.structured.at("outputSchema"), json::parse(kSchema));
  EXPECT_FALSE(refused.structured.at("violation").get<std::string>().empty());
  Task task = Stored(id);
  EXPECT_EQ(task.status, TaskStatus::kInProgress);
  EXPECT_FALSE(task.output);

  // Not JSON at all: refused the same way. Then the right output completes the same task.
  auto not_json =
      Ran("store-progress", {{"taskId", id}, {"status", "completed"}, {"output", "pong"}}, true);
  EXPECT_NE(not_json.text.find("not valid JSON"), std::string::npos) << not_json.text;
  Ran("store-progress",
      {{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":"pong"})"}}, false);
  EXPECT_EQ(Stored(id).status, TaskStatus::kCompleted);
}

TEST_F(McpToolsTest, CompletedWithoutOutputIsRefusedShowingTheSchema) {
  const std::string id = Claimed("w");
  auto refused = Ran("store-progress", {{"taskId", id}, {"status", "completed"}}, true);
  EXPECT_EQ(refused.text.rfind("Error: output is required", 0), 0u) << refused.text;
  EXPECT_NE(refused.text.find("pong"), std::string::npos);
  EXPECT_EQ(Stored(id).status, TaskStatus::kInProgress);
}

TEST_F(McpToolsTest, WithoutASchemaAnyOutputCompletes) {
  const std::string id = Claimed("w", /*with_schema=*/false);
  Ran("store-progress", {{"taskId", id}, {"status", "completed"}, {"output", "done"}}, false);
  EXPECT_EQ(Stored(id).output, "done");
}

TEST_F(McpToolsTest, FailedTakesTheReasonOrADefault) {
  const std::string a = Claimed("w");
  Ran("store-progress", {{"taskId", a}, {"status", "failed"}, {"failureReason", "no network"}},
      false);
  EXPECT_EQ(Stored(a).status, TaskStatus::kFailed);
  EXPECT_EQ(Stored(a).failure_reason, "no network");
  EXPECT_EQ(StatusChangeVia(a, "failed"), R"({"via":"mcp"})");
  const std::string b = Claimed("w");
  Ran("store-progress", {{"taskId", b}, {"status", "failed"}}, false);
  EXPECT_EQ(Stored(b).failure_reason, "failed by the agent");
}

TEST_F(McpToolsTest, ProgressIsStored) {
  const std::string id = Claimed("w");
  auto stored = Ran("store-progress", {{"taskId", id}, {"progress", "half way"}}, false);
  EXPECT_EQ(stored.structured.at("task").at("progress"), "half way");
  EXPECT_EQ(Stored(id).progress, "half way");
  EXPECT_EQ(Stored(id).status, TaskStatus::kInProgress);
}

TEST_F(McpToolsTest, AnotherAgentsTaskIsRefusedAndLeftAsItIs) {
  const std::string id = Claimed("other");
  auto refused = Ran("store-progress",
                     {{"taskId", id},
                      {"progress", "mine now"},
                      {"status", "completed"},
                      {"output", R"({"reply":"pong"})"}},
                     true);
  EXPECT_EQ(refused.text.rfind("Error: task " + id + " is not yours", 0), 0u) << refused.text;
  const Task task = Stored(id);
  EXPECT_EQ(task.status, TaskStatus::kInProgress);
  EXPECT_FALSE(task.progress);
  EXPECT_FALSE(task.output);
}

TEST_F(McpToolsTest, UnknownTaskIsRefused) {
  auto refused = Ran("store-progress", {{"taskId", "nope"}, {"progress", "x"}}, true);
  EXPECT_EQ(refused.text, "Error: task nope not found");
}

TEST_F(McpToolsTest, ATaskNotInProgressIsRefusedNamingItsStatus) {
  auto request = ParseCreateTask({{"task", "later"}, {"agentId", "w"}});
  ASSERT_TRUE(request);
  auto pending = tasks_->CreateNow(std::move(*request));
  ASSERT_TRUE(pending);
  auto refused = Ran("store-progress", {{"taskId", pending->id}, {"progress", "x"}}, true);
  EXPECT_NE(refused.text.find("is pending, not in_progress"), std::string::npos) << refused.text;
  EXPECT_EQ(refused.structured.at("status"), "pending");
  EXPECT_FALSE(Stored(pending->id).progress);
}

TEST_F(McpToolsTest, TheSameResultAgainIsAlreadyFinishedAnotherIsRefused) {
  const std::string id = Claimed("w");
  const json done = {{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":"pong"})"}};
  Ran("store-progress", done, false);
  auto again = Ran("store-progress", done, false);
  EXPECT_EQ(again.structured.at("alreadyFinished"), true);
  auto failed = Ran("store-progress", {{"taskId", id}, {"status", "failed"}}, true);
  EXPECT_NE(failed.text.find("already completed"), std::string::npos) << failed.text;
  auto progress = Ran("store-progress", {{"taskId", id}, {"progress", "more"}}, true);
  EXPECT_NE(progress.text.find("is completed, not in_progress"), std::string::npos);
  EXPECT_EQ(Stored(id).status, TaskStatus::kCompleted);
}

TEST_F(McpToolsTest, FinishAfterMcpLeavesTheTaskAsItIs) {
  const std::string id = Claimed("w");
  Ran("store-progress",
      {{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":"pong"})"}}, false);
  FinishRequest safety_net;
  safety_net.status = TaskStatus::kCompleted;
  safety_net.output = "the final text";
  auto finished = tasks_->Finish(id, "w", safety_net);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->outcome, FinishOutcome::kConflict);
  EXPECT_EQ(Stored(id).output, R"({"reply":"pong"})");
}

TEST_F(McpToolsTest, ATaskTokenReachesOnlyItsTask) {
  const std::string mine = Claimed("w");
  const std::string also_mine = Claimed("w", false);
  mcp::Caller caller;
  caller.agent_id = "w";
  caller.token_task_id = mine;
  auto refused = tools_->Call("store-progress", {{"taskId", also_mine}, {"progress", "x"}}, caller);
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->is_error);
  EXPECT_FALSE(Stored(also_mine).progress);
  auto allowed = tools_->Call("store-progress", {{"taskId", mine}, {"progress", "x"}}, caller);
  ASSERT_TRUE(allowed);
  EXPECT_FALSE(allowed->is_error) << allowed->text;
}

TEST_F(McpToolsTest, ArgumentsThatDoNotFitAreBadRequestsNamingTheField) {
  const std::string id = Claimed("w");
  struct Case {
    const char* tool;
    json args;
    const char* message;
  };
  const Case cases[] = {
      {"store-progress", {{"taskId", 42}, {"progress", "x"}}, "taskId must be a string"},
      {"store-progress", {{"progress", "x"}}, "taskId is required"},
      {"store-progress", {{"taskId", id}, {"status", "done"}}, "status must be"},
      {"store-progress", {{"taskId", id}, {"progress", 3}}, "progress must be a string"},
      {"store-progress", {{"taskId", id}}, "progress or status is required"},
      {"store-progress", json::array({1}), "arguments must be an object"},
      {"get-tasks", {{"limit", 0}}, "limit must be between 1 and 100"},
      {"get-tasks", {{"limit", "5"}}, "limit must be an integer"},
      {"get-tasks", {{"status", "done"}}, "unknown task status \"done\""},
      {"get-task-details", json::object(), "taskId is required"},
      {"send-task", {{"task", true}}, "task must be a string"},
      {"send-task", {{"task", "x"}, {"outputSchema", "{}"}}, "outputSchema must be an object"},
      {"send-task", {{"task", "x"}, {"outputSchema", {{"type", 5}}}}, "outputSchema"},
      {"cancel-task", {{"taskId", id}, {"reason", 1}}, "reason must be a string"},
  };
  for (const auto& c : cases) {
    auto outcome = Call(c.tool, c.args);
    ASSERT_FALSE(outcome) << c.tool << " " << c.args.dump();
    EXPECT_EQ(outcome.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(outcome.error().message.find(c.message), std::string::npos)
        << c.tool << ": " << outcome.error().message;
  }
  EXPECT_EQ(Stored(id).status, TaskStatus::kInProgress);
  EXPECT_FALSE(Stored(id).progress);
}

TEST_F(McpToolsTest, UnknownToolIsNotFound) {
  auto outcome = Call("delete-everything", json::object());
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kNotFound);
}

TEST_F(McpToolsTest, GetTaskDetailsShowsTheTaskAndItsLogs) {
  const std::string id = Claimed("w");
  auto details = Ran("get-task-details", {{"taskId", id}}, false);
  const json& task = details.structured.at("task");
  EXPECT_EQ(task.at("id"), id);
  EXPECT_EQ(task.at("status"), "in_progress");
  EXPECT_EQ(task.at("outputSchema"), json::parse(kSchema));
  EXPECT_GE(task.at("logs").size(), 2u);
  EXPECT_EQ(json::parse(details.text).at("task").at("id"), id);
  auto missing = Ran("get-task-details", {{"taskId", "nope"}}, true);
  EXPECT_EQ(missing.text, "Error: task nope not found");
}

TEST_F(McpToolsTest, GetTasksIsSlimAndFiltered) {
  const std::string long_text(1000, 'x');
  auto request = ParseCreateTask({{"task", "é" + long_text}});
  ASSERT_TRUE(request);
  ASSERT_TRUE(tasks_->CreateNow(std::move(*request)));
  const std::string id = Claimed("w");
  Ran("store-progress",
      {{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":"pong"})"}}, false);

  auto all = Ran("get-tasks", json::object(), false);
  EXPECT_EQ(all.structured.at("total"), 2);
  for (const auto& task : all.structured.at("tasks")) {
    EXPECT_FALSE(task.contains("output"));
    EXPECT_LE(task.at("task").get<std::string>().size(), McpTools::kSlimTaskChars + 4);
  }
  auto unassigned = Ran("get-tasks", {{"status", "unassigned"}}, false);
  ASSERT_EQ(unassigned.structured.at("tasks").size(), 1u);
  const std::string cut = unassigned.structured.at("tasks")[0].at("task");
  EXPECT_EQ(cut, "é" + std::string(McpTools::kSlimTaskChars - 1, 'x') + "…");
  auto done = Ran("get-tasks", {{"status", "completed,failed"}, {"limit", 1}}, false);
  ASSERT_EQ(done.structured.at("tasks").size(), 1u);
  EXPECT_EQ(done.structured.at("tasks")[0].at("id"), id);
}

TEST_F(McpToolsTest, SendTaskCreatesAnMcpTaskThatItsAgentCanClaim) {
  auto sent = Ran(
      "send-task",
      {{"task", "say pong"}, {"agentId", "other"}, {"outputSchema", json::parse(kSchema)}}, false);
  const std::string id = sent.structured.at("task").at("id");
  const Task task = Stored(id);
  EXPECT_EQ(task.source, "mcp");
  EXPECT_EQ(task.creator_agent_id, "w");
  EXPECT_EQ(task.agent_id, "other");
  EXPECT_EQ(task.status, TaskStatus::kPending);
  EXPECT_EQ(json::parse(*task.output_schema), json::parse(kSchema));
  auto claimed = tasks_->Claim("other");
  ASSERT_TRUE(claimed && claimed->task);
  EXPECT_EQ(claimed->task->id, id);

  auto nobody = Ran("send-task", {{"task", "x"}, {"agentId", "ghost"}}, true);
  EXPECT_EQ(nobody.text.rfind("Error: agent ghost not found", 0), 0u);
  auto pooled = Ran("send-task", {{"task", "for anyone"}}, false);
  EXPECT_EQ(pooled.structured.at("task").at("status"), "unassigned");
}

TEST_F(McpToolsTest, CancelTaskOnlyForItsCreatorOrHolder) {
  const std::string held_by_other = Claimed("other");
  auto sent = Ran("send-task", {{"task", "x"}, {"agentId", "other"}}, false);
  const std::string created = sent.structured.at("task").at("id");

  auto refused = Ran("cancel-task", {{"taskId", held_by_other}}, true);
  EXPECT_NE(refused.text.find("neither created by nor assigned to agent w"), std::string::npos);
  EXPECT_EQ(Stored(held_by_other).status, TaskStatus::kInProgress);

  auto cancelled = Ran("cancel-task", {{"taskId", created}, {"reason", "not needed"}}, false);
  EXPECT_EQ(cancelled.structured.at("task").at("status"), "cancelled");
  EXPECT_EQ(Stored(created).failure_reason, "not needed");
  EXPECT_EQ(StatusChangeVia(created, "cancelled"), R"({"via":"mcp"})");
  auto again = Ran("cancel-task", {{"taskId", created}}, true);
  EXPECT_NE(again.text.find("already cancelled"), std::string::npos) << again.text;
  Ran("cancel-task", {{"taskId", "nope"}}, true);

  // The holder may cancel its own task too.
  Ran("cancel-task", {{"taskId", held_by_other}}, false, "other");
}

TEST_F(McpToolsTest, MyAgentInfoAndGetSwarm) {
  Claimed("w");
  auto me = Ran("my-agent-info", json::object(), false);
  EXPECT_EQ(me.structured.at("agent").at("id"), "w");
  EXPECT_EQ(me.structured.at("agent").at("capacity").at("current"), 1);
  auto swarm = Ran("get-swarm", nullptr, false);
  EXPECT_EQ(swarm.structured.at("agents").size(), 2u);
}

TEST_F(McpToolsTest, TextIsBoundedAndStructuredContentIsWhole) {
  auto request = ParseCreateTask({{"task", std::string(400 * 1024, 'y')}, {"agentId", "w"}});
  ASSERT_TRUE(request);
  auto task = tasks_->CreateNow(std::move(*request));
  ASSERT_TRUE(task);
  auto details = Ran("get-task-details", {{"taskId", task->id}}, false);
  EXPECT_LE(details.text.size(), McpTools::kMaxTextBytes);
  EXPECT_NE(details.text.find("(cut:"), std::string::npos);
  EXPECT_EQ(details.structured.at("task").at("task").get<std::string>().size(), 400u * 1024);
}

}  // namespace
}  // namespace swarm
