// Where store calls run: never on an I/O thread. A write that waits on the SQLite lock (another
// process holds it, a slow disk) then stalls only other writes, never /health, the accept
// loop, long-poll wake-ups or reads. Reads and writes get pools of their own, so a queue of
// writes stuck behind the lock cannot starve reads either.
//
// RunOn(executor, fn) is the bridge: a coroutine awaits it, `fn` runs on the pool, and the
// coroutine resumes on its own executor (its connection's strand) with the result.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace swarm {

class StoreExecutors {
 public:
  using Executor = boost::asio::thread_pool::executor_type;

  // Readers: as many as the store has read connections. Writers: the store serializes writes
  // behind one lock, so more than one thread would only queue there.
  explicit StoreExecutors(int read_threads = 4, int write_threads = 1)
      : reads_(static_cast<std::size_t>(read_threads)),
        writes_(static_cast<std::size_t>(write_threads)) {}
  ~StoreExecutors() { Join(); }
  StoreExecutors(const StoreExecutors&) = delete;
  StoreExecutors& operator=(const StoreExecutors&) = delete;

  Executor reads() { return reads_.get_executor(); }
  Executor writes() { return writes_.get_executor(); }

  // Runs what is queued, then stops the threads. Call before the store goes away.
  void Join() {
    reads_.join();
    writes_.join();
  }

 private:
  boost::asio::thread_pool reads_;
  boost::asio::thread_pool writes_;
};

namespace store_executors_detail {

// The initiation behind RunOn: a named struct, not a lambda (GCC 12 mishandles lambdas passed
// through asio's coroutine-based async_initiate, destroying their captures twice).
template <typename Executor>
struct InitiateRunOn {
  Executor pool;

  template <typename Handler, typename F>
  void operator()(Handler&& handler, F work) const {
    using R = std::invoke_result_t<F&>;
    // Keeps the caller's io_context running until the result is delivered.
    auto caller = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    boost::asio::post(pool, [handler = std::forward<Handler>(handler), work = std::move(work),
                             caller = std::move(caller)]() mutable {
      std::exception_ptr error;
      R result{};
      try {
        result = work();
      } catch (...) {
        error = std::current_exception();
      }
      auto executor = caller.get_executor();
      boost::asio::post(
          executor, [handler = std::move(handler), error, result = std::move(result)]() mutable {
            std::move(handler)(error, std::move(result));
          });
      caller.reset();
    });
  }
};

}  // namespace store_executors_detail

// Runs `work()` on `pool` and resumes the caller on its own executor with the result. An
// exception thrown by `work` is rethrown in the caller. The result type must be
// default-constructible and movable. `work` is moved from.
//
// It takes a named lvalue on purpose: GCC 12 destroys a temporary with a destructor that sits
// inside a co_await expression twice (GCC bug 99576), so `co_await RunOn(pool, [copy] {...})`
// would release the lambda's captures twice. Write `auto work = [...] {...};` and then
// `co_await RunOn(pool, work);`.
template <typename Executor, typename F>
boost::asio::awaitable<std::invoke_result_t<F&>> RunOn(Executor pool, F& work) {
  using R = std::invoke_result_t<F&>;
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                     void(std::exception_ptr, R)>(
      store_executors_detail::InitiateRunOn<Executor>{pool}, boost::asio::use_awaitable,
      std::move(work));
}

}  // namespace swarm
