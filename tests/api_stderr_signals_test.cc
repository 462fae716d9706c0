// The API process against a hostile environment: stderr closed or never read (the log sink
// must neither block requests nor die of SIGPIPE), SIGHUP, and a second SIGTERM during the
// graceful stop.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// `agent-swarm api` with stderr a FIFO this test holds the read end of.
class ApiOnFifo {
 public:
  explicit ApiOnFifo(const TempDir& dir) {
    const std::string fifo = dir.File("stderr.fifo");
    if (::mkfifo(fifo.c_str(), 0600) != 0) throw std::runtime_error("mkfifo");
    // Opened first and non-blocking, so the child's open for writing does not wait.
    read_fd_ = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ChildSpec spec;
    spec.argv = {AgentSwarmBinary(), "api", "--port", "0", "--db", dir.File("swarm.sqlite")};
    spec.env = {{"AGENT_SWARM_API_KEY", kTestApiKey}};
    spec.stderr_path = fifo;
    child_ = std::make_unique<ChildProcess>(spec);
    port_ = ReadPort();
  }
  ~ApiOnFifo() { CloseReadEnd(); }

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  ChildProcess& child() { return *child_; }
  void CloseReadEnd() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }

 private:
  uint16_t ReadPort() {
    std::string seen;
    const auto deadline = SteadyClock::now() + 10s;
    while (SteadyClock::now() < deadline) {
      pollfd p{read_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[4096];
        const ssize_t n = ::read(read_fd_, buf, sizeof buf);
        if (n > 0) seen.append(buf, static_cast<std::size_t>(n));
      }
      std::istringstream lines(seen);
      for (std::string line; std::getline(lines, line);) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.value("msg", "") == "listening") return j.value("port", 0);
      }
    }
    throw std::runtime_error("the API did not start; it said:\n" + seen);
  }

  int read_fd_ = -1;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
};

TEST(ApiStderr, ClosedStderrDoesNotStopTheServer) {
  TempDir dir;
  ApiOnFifo api(dir);
  api.CloseReadEnd();  // every log write from now on fails with EPIPE
  TestApi client(api.url());
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(client.Get("/health").status, 200) << "request " << i;
    Reply created = client.Post("/api/tasks", {{"task", "task " + std::to_string(i)}});
    ASSERT_EQ(created.status, 201) << created.raw;
  }
  std::this_thread::sleep_for(1200ms);  // the access log flushes every second
  EXPECT_EQ(client.Get("/health").status, 200);
  ASSERT_TRUE(api.child().running());
  api.child().Signal(SIGTERM);
  EXPECT_EQ(api.child().Wait(10s), 0);
}

TEST(ApiStderr, StderrNobodyReadsDoesNotBlockRequests) {
  TempDir dir;
  ApiOnFifo api(dir);  // the read end stays open and is never read again: the pipe fills
  TestApi client(api.url());
  auto slowest = SteadyClock::duration::zero();
  for (int i = 0; i < 3000; ++i) {  // ~150-byte access lines: well past a 64 KiB pipe
    const auto start = SteadyClock::now();
    ASSERT_EQ(client.Get("/health").status, 200) << "request " << i;
    slowest = std::max(slowest, SteadyClock::now() - start);
  }
  std::this_thread::sleep_for(1200ms);
  Reply created = client.Post("/api/tasks", {{"task", "after the pipe filled"}});
  EXPECT_EQ(created.status, 201) << created.raw;
  EXPECT_LT(slowest, 1s);
  api.child().Signal(SIGTERM);
  EXPECT_EQ(api.child().Wait(10s), 0);  // the exit does not wait for the reader either
}

TEST(ApiSignals, SighupIsLoggedAndIgnored) {
  TempDir dir;
  ApiProcess api(dir.File("swarm.sqlite"));
  api.child().Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return api.log().find("SIGHUP ignored") != std::string::npos; }, 5s))
      << api.log();
  EXPECT_TRUE(api.child().running());
  EXPECT_EQ(TestApi(api.url()).Get("/health").status, 200);
}

TEST(ApiSignals, ASecondSigtermDuringTheGracefulStopEndsItAtOnce) {
  TempDir dir;
  ApiProcess api(dir.File("swarm.sqlite"), {"--shutdown-grace", "60"});
  // A request inside its body holds the graceful stop open.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(api.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head = std::string("POST /api/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: ") +
                           "Bearer " + kTestApiKey + "\r\nContent-Length: 100\r\n\r\n{";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  std::this_thread::sleep_for(300ms);

  api.child().Signal(SIGTERM);
  EXPECT_FALSE(api.child().Wait(700ms)) << "the first SIGTERM waits for the request";
  const auto second = SteadyClock::now();
  api.child().Signal(SIGTERM);
  EXPECT_EQ(api.child().Wait(5s), 0);
  EXPECT_LT(SteadyClock::now() - second, 3s);
  const std::string log = api.log();
  EXPECT_NE(log.find("second stop signal"), std::string::npos) << log;
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
  ::close(fd);
}

}  // namespace
}  // namespace swarm::testing_support
