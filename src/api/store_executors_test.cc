#include "api/store_executors.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace swarm {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Named coroutines, not coroutine lambdas: a lambda's captures die with the temporary closure
// that co_spawn was given, while its coroutine still runs.

struct Threads {
  std::thread::id io, work, resumed;
};

asio::awaitable<void> RecordThreads(StoreExecutors::Executor pool, Threads* t, std::string* out) {
  t->io = std::this_thread::get_id();
  auto work = [t] {
    t->work = std::this_thread::get_id();
    return std::string("read");
  };
  *out = co_await RunOn(pool, work);
  t->resumed = std::this_thread::get_id();
}

TEST(RunOn, RunsOnThePoolAndResumesOnTheCallersExecutor) {
  asio::io_context io;
  StoreExecutors pools(1, 1);
  Threads threads;
  std::string result;
  asio::co_spawn(io, RecordThreads(pools.reads(), &threads, &result), asio::detached);
  io.run();  // returns only once the coroutine is done: RunOn holds the io_context open
  EXPECT_EQ(result, "read");
  EXPECT_NE(threads.work, threads.io);
  EXPECT_EQ(threads.resumed, threads.io);
}

asio::awaitable<void> ReadShared(StoreExecutors::Executor pool, std::shared_ptr<int> shared) {
  for (int i = 0; i < 100; ++i) {
    auto work = [copy = shared] { return *copy; };
    int got = co_await RunOn(pool, work);
    EXPECT_EQ(got, 7);
  }
}

TEST(RunOn, WhatTheWorkCapturedIsReleasedExactlyOnce) {
  asio::io_context io;
  StoreExecutors pools(1, 1);
  auto shared = std::make_shared<int>(7);
  asio::co_spawn(io, ReadShared(pools.reads(), shared), asio::detached);
  io.run();
  pools.Join();
  EXPECT_EQ(shared.use_count(), 1);
}

asio::awaitable<void> Throwing(StoreExecutors::Executor pool, std::string* caught) {
  try {
    auto work = []() -> int { throw std::runtime_error("boom"); };
    co_await RunOn(pool, work);
  } catch (const std::runtime_error& e) {
    *caught = e.what();
  }
}

TEST(RunOn, AnExceptionReachesTheCaller) {
  asio::io_context io;
  StoreExecutors pools(1, 1);
  std::string caught;
  asio::co_spawn(io, Throwing(pools.writes(), &caught), asio::detached);
  io.run();
  EXPECT_EQ(caught, "boom");
}

asio::awaitable<void> Blocked(StoreExecutors::Executor pool, std::shared_future<void> released,
                              std::atomic<bool>* done) {
  auto work = [released] {
    released.wait();
    return 1;
  };
  co_await RunOn(pool, work);
  *done = true;
}

asio::awaitable<void> Quick(StoreExecutors::Executor pool, std::atomic<bool>* done) {
  auto work = [] { return 2; };
  co_await RunOn(pool, work);
  *done = true;
}

TEST(RunOn, AStuckWriteDoesNotStallTheIoThreadNorReads) {
  // The shape of a write waiting on a lock held by another process.
  asio::io_context io;
  StoreExecutors pools(2, 1);
  std::promise<void> release;
  std::atomic<bool> write_done{false};
  std::atomic<bool> read_done{false};
  std::atomic<bool> timer_fired{false};
  asio::co_spawn(io, Blocked(pools.writes(), release.get_future().share(), &write_done),
                 asio::detached);
  asio::co_spawn(io, Quick(pools.reads(), &read_done), asio::detached);
  asio::steady_timer timer(io, 20ms);
  timer.async_wait([&](auto) { timer_fired = true; });
  std::thread runner([&] { io.run(); });
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while ((!read_done || !timer_fired) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(read_done);
  EXPECT_TRUE(timer_fired);
  EXPECT_FALSE(write_done);
  release.set_value();
  runner.join();
  EXPECT_TRUE(write_done);
}

}  // namespace
}  // namespace swarm
