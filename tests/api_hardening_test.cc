// The API under the failures a deployment meets: a worker killed while its long-poll is open,
// a worker restarted under the same AGENT_ID, another process holding the database's write
// lock, reports about tasks that are not the caller's. Each runs the real binary.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// A long-poll sent over a raw socket, so the test can drop the connection the way the kernel
// does when the worker process is killed with -9.
class RawPoll {
 public:
  RawPoll(uint16_t port, const std::string& agent, int wait_s) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "cannot connect";
      return;
    }
    const std::string request = "GET /api/poll?wait=" + std::to_string(wait_s) +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                std::string(kTestApiKey) + "\r\nX-Agent-ID: " + agent + "\r\n\r\n";
    EXPECT_EQ(send(fd_, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
  }
  ~RawPoll() { Drop(); }
  void Drop() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

class ApiHardeningTest : public ::testing::Test {
 protected:
  json Agent(const std::string& id) { return admin_.Get("/api/agents/" + id).body; }
  json Task(const std::string& id) { return admin_.Get("/api/tasks/" + id).body; }
  std::string CreateTask(json body) {
    Reply r = admin_.Post("/api/tasks", body);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", "");
  }

  TempDir dir_;
  ApiProcess api_{dir_.File("swarm.sqlite"), {"--no-access-log"}};
  TestApi admin_{api_.url()};
};

TEST_F(ApiHardeningTest, AKilledWorkersOpenPollDoesNotSwallowATask) {
  ASSERT_EQ(admin_.Register("doomed").status, 201);
  ASSERT_EQ(admin_.Register("survivor").status, 201);
  // The doomed worker polls first, so it is the one a pool task would wake.
  RawPoll doomed(api_.port(), "doomed", 30);
  ASSERT_TRUE(WaitUntil([&] { return Agent("doomed")["status"] == "idle"; }, milliseconds(2000)));
  std::this_thread::sleep_for(milliseconds(200));  // its poll is registered and waiting
  auto survivor = std::async(std::launch::async, [&] {
    TestApi worker(api_.url());
    return worker.Send("GET", "/api/poll?wait=10", "", "survivor");
  });
  std::this_thread::sleep_for(milliseconds(200));

  doomed.Drop();  // kill -9: the kernel closes the socket
  std::this_thread::sleep_for(milliseconds(100));
  const std::string id = CreateTask({{"task", "anyone"}});

  ASSERT_EQ(survivor.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "the pool task never reached the live worker";
  Reply got = survivor.get();
  ASSERT_EQ(got.status, 200) << got.raw;
  ASSERT_TRUE(got.body["trigger"].is_object()) << got.raw;
  EXPECT_EQ(got.body["trigger"]["taskId"], id);
  EXPECT_EQ(Task(id)["agentId"], "survivor");
}

TEST_F(ApiHardeningTest, ARestartedWorkerGetsWorkAtOnce) {
  auto register_as = [&](const std::string& instance) {
    return admin_.Send(
        "POST", "/api/agents",
        json({{"name", "w"}, {"maxTasks", 1}, {"runtimeInstanceId", instance}}).dump(),
        "restarting");
  };
  ASSERT_EQ(register_as("process-1").status, 201);
  const std::string first = CreateTask({{"task", "one"}, {"agentId", "restarting"}});
  const std::string second = CreateTask({{"task", "two"}, {"agentId", "restarting"}});
  TestApi worker(api_.url());
  Reply claimed = worker.Send("GET", "/api/poll?wait=1", "", "restarting");
  ASSERT_EQ(claimed.body["trigger"]["taskId"], first) << claimed.raw;

  // The process dies and comes back within the worker timeout: same id, new instance.
  Reply again = register_as("process-2");
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["runtimeInstanceId"], "process-2");
  const auto start = Steady::now();
  Reply next = worker.Send("GET", "/api/poll?wait=5", "", "restarting");
  EXPECT_LT(Steady::now() - start, milliseconds(1000)) << "capacity was not freed at once";
  ASSERT_TRUE(next.body["trigger"].is_object()) << next.raw;
  EXPECT_EQ(next.body["trigger"]["taskId"], second);
  const json failed = Task(first);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed["failureReason"].get<std::string>().find("worker restarted"), std::string::npos)
      << failed.dump();
}

TEST_F(ApiHardeningTest, AnExternalWriteLockStallsNeitherHealthNorReads) {
  const std::string existing = CreateTask({{"task", "read me"}});
  SQLite::Database other(dir_.File("swarm.sqlite"), SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");  // another process holds the write lock

  // A write now waits for the lock (on the store's own threads).
  auto blocked_create = std::async(std::launch::async, [&] {
    TestApi client(api_.url());
    return client.Post("/api/tasks", {{"task", "written after the lock"}});
  });
  const auto until = Steady::now() + std::chrono::seconds(3);
  int checks = 0;
  milliseconds worst{0};
  while (Steady::now() < until) {
    for (const std::string& target : {std::string("/health"), "/api/tasks/" + existing}) {
      const auto start = Steady::now();
      Reply r = admin_.Get(target);
      const auto took = std::chrono::duration_cast<milliseconds>(Steady::now() - start);
      worst = std::max(worst, took);
      EXPECT_EQ(r.status, 200) << target << " " << r.raw;
      ++checks;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GT(checks, 20);
  EXPECT_LT(worst, milliseconds(100)) << "a read or /health waited on the write lock";
  EXPECT_NE(blocked_create.wait_for(milliseconds(0)), std::future_status::ready);

  other.exec("ROLLBACK");
  Reply created = blocked_create.get();
  EXPECT_EQ(created.status, 201) << created.raw;  // nothing lost: it lands once the lock goes
}

TEST_F(ApiHardeningTest, ReportsOnAnotherAgentsOrAFinishedTaskAreConflicts) {
  ASSERT_EQ(admin_.Register("owner").status, 201);
  ASSERT_EQ(admin_.Register("intruder").status, 201);
  const std::string id = CreateTask({{"task", "mine"}, {"agentId", "owner"}});
  TestApi worker(api_.url());
  ASSERT_EQ(worker.Send("GET", "/api/poll?wait=1", "", "owner").body["trigger"]["taskId"], id);

  Reply progress = worker.Post("/api/tasks/" + id + "/progress", {{"progress", "x"}}, "intruder");
  EXPECT_EQ(progress.status, 409) << progress.raw;
  Reply session = worker.Send("PUT", "/api/tasks/" + id + "/session",
                              json({{"claudeSessionId", "s"}}).dump(), "intruder");
  EXPECT_EQ(session.status, 409) << session.raw;

  ASSERT_EQ(worker.Post("/api/tasks/" + id + "/finish", {{"status", "completed"}}, "owner").status,
            200);
  Reply late = worker.Post("/api/tasks/" + id + "/progress", {{"progress", "late"}}, "owner");
  EXPECT_EQ(late.status, 409) << late.raw;
  EXPECT_NE(late.body["error"].get<std::string>().find("already completed"), std::string::npos);
}

TEST_F(ApiHardeningTest, AnAgentIdThatIsNotCleanTextIsRefused) {
  for (const std::string& bad : {std::string("w\xff\xfe"), std::string(300, 'a')}) {
    Reply r = admin_.Send("GET", "/api/poll?wait=0", "", bad);
    EXPECT_EQ(r.status, 400) << r.raw;
    Reply reg = admin_.Send("POST", "/api/agents", json({{"name", "n"}}).dump(), bad);
    EXPECT_EQ(reg.status, 400) << reg.raw;
  }
  EXPECT_TRUE(admin_.Get("/api/agents").body["agents"].empty());
}

TEST(ApiKeyFile, TheServerTakesItsKeyFromAFileAndNeverFromArgv) {
  TempDir dir;
  const std::string key_file = dir.File("key");
  {
    std::ofstream out(key_file);
    out << "  file-key-0123456789  \n";
  }
  ChildSpec spec;
  spec.argv = {AgentSwarmBinary(), "api",   "--port", "0", "--db", dir.File("swarm.sqlite"),
               "--api-key-file",   key_file};
  spec.stderr_path = dir.File("api.log");
  ChildProcess api(spec);
  const uint16_t port = WaitListening(api, spec.stderr_path, "agent-swarm api");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(TestApi(url, "file-key-0123456789").Get("/api/agents").status, 200);
  EXPECT_EQ(TestApi(url, kTestApiKey).Get("/api/agents").status, 401);

  ChildSpec missing = spec;
  missing.argv.back() = dir.File("nope");
  missing.stderr_path = dir.File("missing.log");
  ChildProcess refused(missing);
  EXPECT_EQ(refused.Wait(std::chrono::seconds(10)), 2);
  EXPECT_NE(ReadFile(missing.stderr_path).find("cannot be read"), std::string::npos)
      << ReadFile(missing.stderr_path);
}

}  // namespace
}  // namespace swarm::testing_support
