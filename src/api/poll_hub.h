// Wake-ups for long-polls. A GET /api/poll that finds nothing to claim registers a waiter and
// sleeps until a task it could claim may exist (a task created for its agent or for the
// pool, or capacity freed), its deadline passes, its client hangs up, or the server shuts
// down.
//
// No wake-up is lost: a waiter is registered before the poll's claim attempt, and a
// notification that arrives before the waiter sleeps makes its next Wait return at once.
// A pool task wakes one waiter, not all of them: the pool-eligible waiter (a non-lead agent
// with a free slot) that has waited longest without a wake-up pending.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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

  // Unregisters on destruction. Use from the coroutine that registered it only, except
  // Interrupter(), whose result may be called from any thread at any time.
  class Waiter {
   public:
    Waiter(PollHub& hub, std::shared_ptr<WaiterState> state);
    ~Waiter();
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    // Returns when notified (since registration or the previous Wait), at `deadline`, or at
    // shutdown.
    boost::asio::awaitable<void> Wait(std::chrono::steady_clock::time_point deadline);
    // Whether a pool task may wake this waiter; false until set.
    void SetPoolEligible(bool eligible);
    // A callable that ends the current or next Wait at once (the client hung up). Safe to
    // call after the waiter is gone.
    std::function<void()> Interrupter() const;

   private:
    PollHub& hub_;
    std::shared_ptr<WaiterState> state_;
  };

  // `executor` must be the (strand) executor of the calling coroutine.
  std::unique_ptr<Waiter> Register(const std::string& agent_id,
                                   boost::asio::any_io_executor executor);

  void NotifyAgent(const std::string& agent_id);  // a task for this agent, or capacity freed
  void NotifyPool();                              // a task in the pool: wakes one waiter
  void Shutdown();                                // wakes everyone; stopping() from now on

  bool stopping() const;
  // True while the agent has a poll open: proof of life for the dead-worker monitor. A poll
  // whose client hung up ends at once, so it stops counting at once.
  bool HasWaiter(const std::string& agent_id) const;

 private:
  void Unregister(const std::shared_ptr<WaiterState>& state);
  void Wake(const std::shared_ptr<WaiterState>& state);  // caller holds mu_

  mutable std::mutex mu_;
  std::unordered_multimap<std::string, std::shared_ptr<WaiterState>> waiters_;
  uint64_t next_ticket_ = 0;  // orders waiters for the pool: lower waited longer
  bool stopping_ = false;
};

}  // namespace swarm
