#include "worker/signal_stop.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace swarm::worker {
namespace {

// Process-directed, as `kill <pid>` and a container runtime send them: the watcher takes
// each one, and nothing terminates the process.
TEST(StopOnSignals, TurnsSigtermAndSigintIntoCalls) {
  std::atomic<int> terms{0};
  std::atomic<int> ints{0};
  {
    StopOnSignals watch([&](int signal) { ++(signal == SIGTERM ? terms : ints); });
    ::kill(::getpid(), SIGTERM);
    ::kill(::getpid(), SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((terms == 0 || ints == 0) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_EQ(terms.load(), 1);
  EXPECT_EQ(ints.load(), 1);
}

}  // namespace
}  // namespace swarm::worker
