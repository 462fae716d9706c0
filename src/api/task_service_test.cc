#include "api/task_service.h"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "store/sqlite_store.h"

namespace swarm {
namespace {

using nlohmann::json;

// The service over a real (in-memory) store, without sockets.
class TaskServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    service_ = std::make_unique<TaskService>(*store_, clock_, hub_);
    AgentRegistration reg;
    reg.id = "w";
    reg.name = "w";
    ASSERT_TRUE(store_->UpsertAgent(reg, FormatIsoTime(clock_.Now())));
  }

  Task Create(json body) {
    auto request = ParseCreateTask(body);
    EXPECT_TRUE(request) << request.error().message;
    boost::asio::io_context io;
    auto future =
        boost::asio::co_spawn(io, service_->Create(std::move(*request)), boost::asio::use_future);
    io.run();
    auto task = future.get();
    EXPECT_TRUE(task) << task.error().message;
    return *task;
  }

  // A task for agent w with the seed's schema, claimed by w.
  std::string ClaimedSeedTask() {
    Task t = Create({{"task", "Reply with exactly: pong"},
                     {"agentId", "w"},
                     {"outputSchema", json::parse(R"({"type":"object","required":["reply"],
                          "properties":{"reply":{"const":"pong"}}})")}});
    auto claimed = service_->Claim("w");
    EXPECT_TRUE(claimed && claimed->task);
    return t.id;
  }

  Result<FinishResult> Finish(const std::string& id, TaskStatus status,
                              std::optional<std::string> output) {
    FinishRequest request;
    request.status = status;
    request.output = std::move(output);
    return service_->Finish(id, "w", request);
  }

  ManualClock clock_{TimePoint(std::chrono::seconds(1'800'000'000))};
  PollHub hub_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<TaskService> service_;
};

TEST_F(TaskServiceTest, MatchingOutputCompletes) {
  const std::string id = ClaimedSeedTask();
  auto r = Finish(id, TaskStatus::kCompleted, R"({"reply":"pong"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, FinishOutcome::kApplied);
  EXPECT_EQ(r->task.status, TaskStatus::kCompleted);
}

TEST_F(TaskServiceTest, MismatchFailsNamingItAndKeepsTheOutput) {
  const std::string id = ClaimedSeedTask();
  auto r = Finish(id, TaskStatus::kCompleted, R"({"reply":"ping"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->task.status, TaskStatus::kFailed);
  EXPECT_EQ(r->task.output, R"({"reply":"ping"})");
  EXPECT_NE(r->task.failure_reason->find("reply"), std::string::npos);
}

TEST_F(TaskServiceTest, OutputThatIsNotJsonFails) {
  const std::string id = ClaimedSeedTask();
  auto r = Finish(id, TaskStatus::kCompleted, "pong");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->task.status, TaskStatus::kFailed);
  EXPECT_EQ(*r->task.failure_reason,
            "output does not match outputSchema: output is not valid JSON");
}

TEST_F(TaskServiceTest, MissingOutputFailsWhenASchemaIsSet) {
  const std::string id = ClaimedSeedTask();
  auto r = Finish(id, TaskStatus::kCompleted, std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->task.status, TaskStatus::kFailed);
}

TEST_F(TaskServiceTest, WithoutSchemaAnyOutputCompletes) {
  Task t = Create({{"task", "free text"}, {"agentId", "w"}});
  ASSERT_TRUE(service_->Claim("w"));
  auto r = Finish(t.id, TaskStatus::kCompleted, "whatever");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->task.status, TaskStatus::kCompleted);
  EXPECT_EQ(r->task.output, "whatever");
}

TEST_F(TaskServiceTest, FailedKeepsTheReasonGiven) {
  const std::string id = ClaimedSeedTask();
  FinishRequest request;
  request.status = TaskStatus::kFailed;
  request.failure_reason = "harness crashed";
  auto r = service_->Finish(id, "w", request);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->task.failure_reason, "harness crashed");
}

TEST_F(TaskServiceTest, TerminalTaskKeepsTheFirstResult) {
  const std::string id = ClaimedSeedTask();
  ASSERT_TRUE(Finish(id, TaskStatus::kCompleted, R"({"reply":"pong"})"));
  auto same = Finish(id, TaskStatus::kCompleted, R"({"reply":"pong"})");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, FinishOutcome::kAlreadyFinished);
  auto different = Finish(id, TaskStatus::kFailed, std::nullopt);
  ASSERT_TRUE(different);
  EXPECT_EQ(different->outcome, FinishOutcome::kConflict);
  EXPECT_EQ(store_->GetTask(id)->status, TaskStatus::kCompleted);
}

TEST_F(TaskServiceTest, AnotherAgentCannotFinish) {
  const std::string id = ClaimedSeedTask();
  FinishRequest request;
  auto r = service_->Finish(id, "intruder", request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kForbidden);
}

TEST_F(TaskServiceTest, CancelTwiceIsABadRequest) {
  Task t = Create({{"task", "x"}});
  ASSERT_TRUE(service_->Cancel(t.id, std::nullopt));
  EXPECT_EQ(store_->GetTask(t.id)->failure_reason, "Cancelled by user");
  auto again = service_->Cancel(t.id, std::nullopt);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kBadRequest);
}

// The status change's log says which path wrote the result.
TEST_F(TaskServiceTest, TheStatusChangeLogSaysWhereTheResultCameFrom) {
  auto via = [this](const std::string& id) -> std::optional<std::string> {
    auto logs = store_->ListTaskLogs(id, 10);
    EXPECT_TRUE(logs);
    return logs->empty() ? std::nullopt : logs->front().metadata;  // newest first
  };
  const std::string finished = ClaimedSeedTask();
  ASSERT_TRUE(Finish(finished, TaskStatus::kCompleted, R"({"reply":"pong"})"));
  EXPECT_EQ(via(finished), R"({"via":"finish"})");
  Task cancelled = Create({{"task", "x"}});
  ASSERT_TRUE(service_->Cancel(cancelled.id, std::nullopt));
  EXPECT_EQ(via(cancelled.id), R"({"via":"cancel"})");
}

// MCP's judgement writes nothing on a mismatch: the agent may send another output.
TEST_F(TaskServiceTest, RejectMismatchLeavesTheTaskInProgress) {
  const std::string id = ClaimedSeedTask();
  FinishRequest request;
  request.output = R"({"reply":"ping"})";
  const FinishOptions mcp{.reject_mismatch = true, .via = "mcp"};
  auto rejected = service_->Finish(id, "w", request, mcp);
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->outcome, FinishOutcome::kRejected);
  EXPECT_NE(rejected->violation.find("reply"), std::string::npos) << rejected->violation;
  EXPECT_EQ(rejected->violation.find("output does not match"), std::string::npos);
  EXPECT_EQ(store_->GetTask(id)->status, TaskStatus::kInProgress);
  request.output = R"({"reply":"pong"})";
  auto applied = service_->Finish(id, "w", request, mcp);
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->outcome, FinishOutcome::kApplied);
  EXPECT_EQ(applied->task.status, TaskStatus::kCompleted);
}

TEST_F(TaskServiceTest, ClaimSaysWhetherTheAgentCouldTakeAPoolTask) {
  auto empty = service_->Claim("w");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->task);
  EXPECT_TRUE(empty->can_take_pool);  // a free slot: worth waking for a pool task
  Create({{"task", "one"}, {"agentId", "w"}});
  auto claimed = service_->Claim("w");
  ASSERT_TRUE(claimed && claimed->task);
  auto full = service_->Claim("w");  // maxTasks 1, now busy
  ASSERT_TRUE(full);
  EXPECT_FALSE(full->task);
  EXPECT_FALSE(full->can_take_pool);
}

TEST_F(TaskServiceTest, AnUndeliveredClaimGoesBackToThePool) {
  Task pooled = Create({{"task", "anyone"}});
  auto claimed = service_->Claim("w");
  ASSERT_TRUE(claimed && claimed->task);
  EXPECT_EQ(store_->GetTask(pooled.id)->status, TaskStatus::kInProgress);
  service_->ReleaseClaim(*claimed->task);
  const Task back = *store_->GetTask(pooled.id);
  EXPECT_EQ(back.status, TaskStatus::kUnassigned);
  EXPECT_EQ(back.agent_id, std::nullopt);
  auto again = service_->Claim("w");
  ASSERT_TRUE(again && again->task);
  EXPECT_EQ(again->task->id, pooled.id);
}

TEST_F(TaskServiceTest, ClaimByAnUnknownAgentIsNotFound) {
  auto r = service_->Claim("nobody");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace swarm
