#include "api/create_batcher.h"

#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <SQLiteCpp/Database.h>

#include "store/sqlite_store.h"

namespace swarm {
namespace {

NewTask MakeTask(std::string id) {
  NewTask t;
  t.id = std::move(id);
  t.task = "work";
  t.now = "2026-11-26T00:00:00.000Z";
  return t;
}

class CreateBatcherTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(CreateBatcherTest, ManyConcurrentCreationsAllLand) {
  CreateBatcher batcher(*store_);
  boost::asio::io_context io;
  std::vector<std::future<Result<Task>>> results;
  for (int i = 0; i < 300; ++i) {
    results.push_back(boost::asio::co_spawn(io, batcher.Create(MakeTask("t" + std::to_string(i))),
                                            boost::asio::use_future));
  }
  std::thread a([&] { io.run(); });
  std::thread b([&] { io.run(); });
  a.join();
  b.join();
  std::set<std::string> ids;
  for (auto& f : results) {
    auto task = f.get();
    ASSERT_TRUE(task) << task.error().message;
    ids.insert(task->id);
  }
  EXPECT_EQ(ids.size(), 300u);
  TaskFilter all;
  all.limit = 1;
  EXPECT_EQ(store_->ListTasks(all)->total, 300);
}

TEST_F(CreateBatcherTest, ADuplicateDoesNotSinkItsBatch) {
  ASSERT_TRUE(store_->CreateTask(MakeTask("dup")));
  CreateBatcher batcher(*store_);
  std::mutex mu;
  std::vector<std::pair<std::string, bool>> outcomes;
  std::promise<void> all_done;
  int pending = 3;
  for (const char* id : {"a", "dup", "b"}) {
    batcher.Enqueue(MakeTask(id), [&, id = std::string(id)](Result<Task> r) {
      std::lock_guard lock(mu);
      outcomes.emplace_back(id, r.has_value());
      if (!r) {
        EXPECT_EQ(r.error().code, ErrorCode::kConflict);
      }
      if (--pending == 0) all_done.set_value();
    });
  }
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  for (const auto& [id, ok] : outcomes) EXPECT_EQ(ok, id != "dup") << id;
  EXPECT_TRUE(store_->GetTask("a"));
  EXPECT_TRUE(store_->GetTask("b"));
}

TEST_F(CreateBatcherTest, AFullQueueRefusesAtOnceAndLosesNothingQueued) {
  // A file database whose write lock another connection holds: the committer is stuck.
  char dir[] = "/tmp/batcher_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/swarm.db";
  auto opened = SqliteStore::Open(path);
  ASSERT_TRUE(opened) << opened.error().message;
  std::unique_ptr<SqliteStore> store = std::move(*opened);
  auto blocker = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE);
  blocker->exec("BEGIN IMMEDIATE");

  CreateBatcher::Limits limits;
  limits.max_batch = 1;
  limits.max_queued = 2;
  CreateBatcher batcher(*store, limits);
  std::vector<std::future<Result<Task>>> accepted;
  std::vector<std::shared_ptr<std::promise<Result<Task>>>> promises;
  auto enqueue = [&](const std::string& id) {
    auto p = std::make_shared<std::promise<Result<Task>>>();
    promises.push_back(p);
    batcher.Enqueue(MakeTask(id), [p](Result<Task> r) { p->set_value(std::move(r)); });
    return p->get_future();
  };
  accepted.push_back(enqueue("t1"));
  // t1 is taken by the committer (stuck on the lock); t2 and t3 fill the queue.
  for (int i = 0; i < 200 && batcher.queued() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  accepted.push_back(enqueue("t2"));
  accepted.push_back(enqueue("t3"));
  auto refused = enqueue("t4");
  ASSERT_EQ(refused.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  auto r = refused.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);

  blocker->exec("ROLLBACK");
  blocker.reset();
  for (auto& f : accepted) {
    auto task = f.get();
    EXPECT_TRUE(task) << task.error().message;
  }
  EXPECT_FALSE(store->GetTask("t4"));
  batcher.Stop();
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(CreateBatcherTest, AfterStopCreationsAreRefused) {
  CreateBatcher batcher(*store_);
  batcher.Stop();
  std::promise<Result<Task>> result;
  batcher.Enqueue(MakeTask("late"), [&](Result<Task> r) { result.set_value(std::move(r)); });
  auto r = result.get_future().get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(store_->GetTask("late"));
}

}  // namespace
}  // namespace swarm
