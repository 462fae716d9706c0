// Two workers long-poll the pool while 1,000 unassigned tasks arrive: every task is claimed
// exactly once and none is lost.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;

constexpr int kTasks = 1000;

TEST(PoolClaim, EachTaskClaimedExactlyOnce) {
  TempDir dir;
  ApiProcess api(dir.File("swarm.sqlite"), {"--no-access-log"});
  TestApi admin(api.url());
  for (const char* w : {"pool-a", "pool-b"}) ASSERT_EQ(admin.Register(w).status, 201);

  std::mutex mu;
  std::multiset<std::string> claimed;  // a multiset, so a double claim shows up
  std::set<std::string> created;
  std::atomic<int> finished{0};
  std::atomic<bool> creating_done{false};
  std::atomic<int> errors{0};

  // A worker: poll, record, finish, repeat until every task is done or time runs out.
  auto worker = [&](std::string agent) {
    TestApi api_client(api.url());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (finished.load() < kTasks && std::chrono::steady_clock::now() < deadline) {
      Reply r = api_client.Send("GET", "/api/poll?wait=1", "", agent);
      if (r.status != 200) {
        ++errors;
        continue;
      }
      const json& trigger = r.body["trigger"];
      if (trigger.is_null()) continue;
      const std::string id = trigger["taskId"];
      {
        std::lock_guard lock(mu);
        claimed.insert(id);
      }
      Reply done = api_client.Post("/api/tasks/" + id + "/finish",
                                   {{"status", "completed"}, {"output", agent}}, agent);
      if (done.status != 200) ++errors;
      ++finished;
    }
  };
  std::thread a(worker, "pool-a");
  std::thread b(worker, "pool-b");

  TestApi producer(api.url());
  for (int i = 0; i < kTasks; ++i) {
    Reply r = producer.Post("/api/tasks", {{"task", "job " + std::to_string(i)}});
    ASSERT_EQ(r.status, 201) << r.raw;
    EXPECT_EQ(r.body["status"], "unassigned");
    created.insert(r.body["id"].get<std::string>());
  }
  creating_done = true;
  a.join();
  b.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kTasks));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()), created);
  for (const auto& id : created) EXPECT_EQ(claimed.count(id), 1u) << id;

  Reply done = admin.Get("/api/tasks?status=completed&limit=1");
  EXPECT_EQ(done.body["total"], kTasks);
  Reply open = admin.Get("/api/tasks?status=unassigned,pending,in_progress&limit=1");
  EXPECT_EQ(open.body["total"], 0);
  // Both workers took part.
  EXPECT_GT(admin.Get("/api/tasks?agentId=pool-a&limit=1").body["total"].get<int>(), 0);
  EXPECT_GT(admin.Get("/api/tasks?agentId=pool-b&limit=1").body["total"].get<int>(), 0);
}

}  // namespace
}  // namespace swarm::testing_support
