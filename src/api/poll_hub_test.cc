#include "api/poll_hub.h"

#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

namespace swarm {
namespace {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Registers for `agent`, signals `registered`, then waits up to `max_wait`; resolves
// `woke_after` with how long the wait took.
asio::awaitable<void> WaitOnce(PollHub* hub, std::string agent, milliseconds max_wait,
                               bool pool_eligible, std::promise<void>* registered,
                               std::promise<milliseconds>* woke_after,
                               std::function<void()>* interrupter) {
  auto waiter = hub->Register(agent, co_await asio::this_coro::executor);
  waiter->SetPoolEligible(pool_eligible);
  *interrupter = waiter->Interrupter();
  registered->set_value();
  const auto start = Steady::now();
  co_await waiter->Wait(start + max_wait);
  woke_after->set_value(std::chrono::duration_cast<milliseconds>(Steady::now() - start));
}

class PollHubTest : public testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    guard_.reset();
    thread_.join();
  }

  // Starts a waiter and returns once it is registered.
  std::future<milliseconds> StartWaiter(const std::string& agent, milliseconds max_wait,
                                        bool pool_eligible = false) {
    auto registered = std::make_shared<std::promise<void>>();
    auto woke = std::make_shared<std::promise<milliseconds>>();
    auto interrupter = std::make_shared<std::function<void()>>();
    promises_.push_back(registered);
    wokes_.push_back(woke);
    interrupters_.push_back(interrupter);
    asio::co_spawn(asio::make_strand(io_),
                   WaitOnce(&hub_, agent, max_wait, pool_eligible, registered.get(), woke.get(),
                            interrupter.get()),
                   asio::detached);
    registered->get_future().wait();
    return woke->get_future();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::thread thread_;
  PollHub hub_;
  std::vector<std::shared_ptr<std::promise<void>>> promises_;
  std::vector<std::shared_ptr<std::promise<milliseconds>>> wokes_;
  std::vector<std::shared_ptr<std::function<void()>>> interrupters_;
};

bool Ready(std::future<milliseconds>& f, milliseconds within) {
  return f.wait_for(within) == std::future_status::ready;
}

TEST_F(PollHubTest, NotifyAgentWakesItsWaiterAtOnce) {
  auto woke = StartWaiter("a", milliseconds(5000));
  EXPECT_TRUE(hub_.HasWaiter("a"));
  hub_.NotifyAgent("a");
  ASSERT_EQ(woke.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_LT(woke.get(), milliseconds(1000));
}

TEST_F(PollHubTest, NotifyingAnotherAgentDoesNotWake) {
  auto woke = StartWaiter("a", milliseconds(300));
  hub_.NotifyAgent("b");
  ASSERT_EQ(woke.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  EXPECT_GE(woke.get(), milliseconds(290));  // slept to its deadline
}

TEST_F(PollHubTest, APoolTaskWakesOneEligibleWaiterTheLongestWaiting) {
  auto lead = StartWaiter("lead", milliseconds(3000), /*pool_eligible=*/false);
  auto first = StartWaiter("a", milliseconds(3000), true);
  auto second = StartWaiter("b", milliseconds(3000), true);
  hub_.NotifyPool();
  ASSERT_TRUE(Ready(first, milliseconds(2000)));
  EXPECT_LT(first.get(), milliseconds(1000));
  EXPECT_FALSE(Ready(second, milliseconds(100)));  // one task, one wake-up
  hub_.NotifyPool();
  ASSERT_TRUE(Ready(second, milliseconds(2000)));
  EXPECT_LT(second.get(), milliseconds(1000));
  hub_.NotifyPool();  // nobody eligible is left waiting: a no-op
  ASSERT_TRUE(Ready(lead, milliseconds(4000)));
  EXPECT_GE(lead.get(), milliseconds(2900));  // the lead was never woken for the pool
}

TEST_F(PollHubTest, InterruptEndsTheWaitAndIsSafeAfterwards) {
  auto a = StartWaiter("a", milliseconds(5000));
  (*interrupters_.back())();
  ASSERT_TRUE(Ready(a, milliseconds(2000)));
  EXPECT_LT(a.get(), milliseconds(1000));
  for (int i = 0; i < 100 && hub_.HasWaiter("a"); ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_FALSE(hub_.HasWaiter("a"));
  (*interrupters_.back())();  // the waiter is gone: nothing happens
}

TEST_F(PollHubTest, ShutdownWakesAndStops) {
  auto a = StartWaiter("a", milliseconds(5000));
  hub_.Shutdown();
  ASSERT_EQ(a.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_TRUE(hub_.stopping());
}

TEST_F(PollHubTest, WaiterUnregistersWhenDone) {
  auto a = StartWaiter("a", milliseconds(10));
  ASSERT_EQ(a.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  // The coroutine frame (and the waiter) is destroyed right after the promise is set.
  for (int i = 0; i < 100 && hub_.HasWaiter("a"); ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_FALSE(hub_.HasWaiter("a"));
}

// A notification that lands after registration but before the coroutine sleeps is kept.
asio::awaitable<void> NotifiedBeforeWait(PollHub* hub, std::promise<milliseconds>* woke) {
  auto waiter = hub->Register("a", co_await asio::this_coro::executor);
  hub->NotifyAgent("a");  // posted to our strand: runs once we suspend below
  const auto start = Steady::now();
  co_await waiter->Wait(start + milliseconds(5000));
  woke->set_value(std::chrono::duration_cast<milliseconds>(Steady::now() - start));
}

TEST_F(PollHubTest, EarlyNotificationIsNotLost) {
  std::promise<milliseconds> woke;
  asio::co_spawn(asio::make_strand(io_), NotifiedBeforeWait(&hub_, &woke), asio::detached);
  auto f = woke.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_LT(f.get(), milliseconds(1000));
}

}  // namespace
}  // namespace swarm
