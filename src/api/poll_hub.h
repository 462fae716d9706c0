// Wake-ups for long-polls. A GET /api/poll that finds nothing to claim registers a waiter and
// sleeps until a task it could claim may exist (a task created for its agent or for the
// pool, or capacity freed), its deadline passes, or the server shuts down.
//
// No wake-up is lost: a waiter is registered before the poll's claim attempt, and a
// notification that arrives before the waiter sleeps makes its next Wait return at once.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace swarm {

class PollHub {
 public:
  struct WaiterState;

  // Unregisters on destruction. Use from the coroutine that registered it only.
  class Waiter {
   public:
    Waiter(PollHub& hub, std::shared_ptr<WaiterState> state);
    ~Waiter();
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    // Returns when notified (since registration or the previous Wait), at `deadline`, or at
    // shutdown.
    boost::asio::awaitable<void> Wait(std::chrono::steady_clock::time_point deadline);

   private:
    PollHub& hub_;
    std::shared_ptr<WaiterState> state_;
  };

  // `executor` must be the (strand) executor of the calling coroutine.
  std::unique_ptr<Waiter> Register(const std::string& agent_id,
                                   boost::asio::any_io_executor executor);

  void NotifyAgent(const std::string& agent_id);  // a task for this agent, or capacity freed
  void NotifyAll();                               // a task in the pool
  void Shutdown();                                // wakes everyone; stopping() from now on

  bool stopping() const;
  // True while the agent has a poll open: proof of life for the dead-worker monitor.
  bool HasWaiter(const std::string& agent_id) const;

 private:
  void Unregister(const std::shared_ptr<WaiterState>& state);
  static void Wake(const std::shared_ptr<WaiterState>& state);

  mutable std::mutex mu_;
  std::unordered_multimap<std::string, std::shared_ptr<WaiterState>> waiters_;
  bool stopping_ = false;
};

}  // namespace swarm
