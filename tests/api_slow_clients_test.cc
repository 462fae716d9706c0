// 500 clients that trickle one byte a second (400 never finishing their headers, 100 with
// valid headers and a body that never ends) must not slow down /health nor a worker's poll;
// the header timeout and the body-waiter cap cut such clients off.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/api_process.h"

namespace swarm::testing_support {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr int kHeaderTricklers = 400;
constexpr int kBodyTricklers = 100;

// A loopback socket, connected, or -1.
int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Still connected: the server has neither closed nor reset it.
bool StillOpen(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// Whether the server answered on `fd` with this status (within `bound`).
bool Answered(int fd, int status, std::chrono::milliseconds bound) {
  std::string got;
  const auto deadline = SteadyClock::now() + bound;
  while (got.size() < 12 && SteadyClock::now() < deadline) {
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      got.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else {
      std::this_thread::sleep_for(5ms);
    }
  }
  return got.rfind("HTTP/1.1 " + std::to_string(status), 0) == 0;
}

class SlowClients {
 public:
  SlowClients(uint16_t port, const std::string& key, int header_tricklers = kHeaderTricklers,
              int body_tricklers = kBodyTricklers)
      : header_tricklers_(header_tricklers) {
    for (int i = 0; i < header_tricklers + body_tricklers; ++i) {
      int fd = Connect(port);
      if (fd < 0) continue;
      if (i < header_tricklers) {
        SendAll(fd, "GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ");
      } else {
        SendAll(fd, "POST /api/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
                        "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
      }
      fds_.push_back(fd);
    }
    trickler_ = std::thread([this] {
      while (!stop_) {
        for (int fd : fds_) ::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(50ms);
      }
    });
  }
  ~SlowClients() {
    stop_ = true;
    trickler_.join();
    for (int fd : fds_) ::close(fd);
  }

  std::size_t connected() const { return fds_.size(); }
  std::size_t still_open() const {
    return static_cast<std::size_t>(std::count_if(fds_.begin(), fds_.end(), StillOpen));
  }
  std::size_t header_tricklers_open() const {
    return static_cast<std::size_t>(
        std::count_if(fds_.begin(), fds_.begin() + header_tricklers_, StillOpen));
  }
  // Body tricklers the server answered with `status`.
  int body_tricklers_answered(int status) const {
    int n = 0;
    for (std::size_t i = header_tricklers_; i < fds_.size(); ++i) {
      if (Answered(fds_[i], status, 100ms)) ++n;
    }
    return n;
  }

 private:
  int header_tricklers_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread trickler_;
};

template <typename F>
std::chrono::milliseconds Timed(F f) {
  const auto start = SteadyClock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
}

TEST(ApiSlowClients, HealthAndPollStayFastWhile500ClientsTrickle) {
  TempDir dir;
  ApiProcess api(dir.File("swarm.sqlite"));
  TestApi worker(api.url());
  ASSERT_EQ(worker.Register("slow-test-worker").status, 201);

  SlowClients slow(api.port(), kTestApiKey);
  ASSERT_EQ(slow.connected(), static_cast<std::size_t>(kHeaderTricklers + kBodyTricklers));
  std::this_thread::sleep_for(1500ms);  // every slow client has sent a byte or two more

  for (int round = 0; round < 6; ++round) {
    Reply health;
    auto took = Timed([&] { health = worker.Get("/health"); });
    EXPECT_EQ(health.status, 200) << health.raw;
    EXPECT_LT(took, 100ms) << "round " << round << ": /health";

    Reply poll;
    took = Timed([&] { poll = worker.Get("/api/poll?wait=0", "slow-test-worker"); });
    EXPECT_EQ(poll.status, 200) << poll.raw;
    EXPECT_LT(took, 100ms) << "round " << round << ": poll";

    // A new connection is accepted and served as fast: the slow ones do not hold the accept.
    TestApi fresh(api.url());
    took = Timed([&] { health = fresh.Get("/health"); });
    EXPECT_EQ(health.status, 200);
    EXPECT_LT(took, 100ms) << "round " << round << ": /health on a new connection";
    std::this_thread::sleep_for(500ms);
  }
  // The measurements ran while the slow clients were all still connected (none timed out:
  // the header timeout is 10 s, the body's 30 s).
  EXPECT_EQ(slow.still_open(), slow.connected());
}

// The key is checked on the headers: a client announcing a large body with a wrong key gets
// its 401 at once, never a 100 Continue, and its body is not waited for.
TEST(ApiSlowClients, AWrongKeyIsRefusedBeforeTheBody) {
  TempDir dir;
  ApiProcess api(dir.File("swarm.sqlite"));
  for (const std::string key : {"wrong-key", ""}) {
    int fd = Connect(api.port());
    ASSERT_GE(fd, 0);
    std::string head =
        "POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
        "Expect: 100-continue\r\n";
    if (!key.empty()) head += "Authorization: Bearer " + key + "\r\n";
    ASSERT_TRUE(SendAll(fd, head + "\r\n"));
    EXPECT_TRUE(Answered(fd, 401, 2s)) << "key '" << key << "'";
    ::close(fd);
  }
  // With the key, the same request gets its 100 Continue.
  int fd = Connect(api.port());
  ASSERT_TRUE(SendAll(fd, std::string("POST /api/tasks HTTP/1.1\r\nHost: x\r\n") +
                              "Authorization: Bearer " + kTestApiKey +
                              "\r\nContent-Length: 13\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_TRUE(Answered(fd, 100, 2s));
  ::close(fd);
}

// The limits cut slow clients off: header tricklers at --header-timeout, body senders past
// --max-body-waiters at once; the fast requests never notice.
TEST(ApiSlowClients, HeaderTimeoutAndBodyWaiterCapCutSlowClientsOff) {
  TempDir dir;
  ApiProcess api(dir.File("swarm.sqlite"), {"--header-timeout", "1.5", "--max-body-waiters", "40"});
  TestApi client(api.url());
  SlowClients slow(api.port(), kTestApiKey, /*header_tricklers=*/200, /*body_tricklers=*/100);
  ASSERT_EQ(slow.connected(), 300u);
  EXPECT_EQ(slow.header_tricklers_open(), 200u) << "closed before the header timeout";
  EXPECT_EQ(client.Get("/health").status, 200);
  EXPECT_EQ(slow.body_tricklers_answered(503), 60) << "40 places for 100 body senders";
  ASSERT_TRUE(WaitUntil([&] { return slow.header_tricklers_open() == 0; }, 3s))
      << slow.header_tricklers_open() << " header tricklers outlived --header-timeout";
  auto took = Timed([&] { EXPECT_EQ(client.Get("/health").status, 200); });
  EXPECT_LT(took, 100ms);
  EXPECT_EQ(slow.still_open(), 40u) << "the body senders inside the cap wait on";
}

}  // namespace
}  // namespace swarm::testing_support
