#include "api/poll_hub.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace swarm {

namespace asio = boost::asio;

struct PollHub::WaiterState {
  WaiterState(std::string agent, asio::any_io_executor ex, uint64_t first_ticket)
      : agent_id(std::move(agent)), executor(ex), timer(ex), ticket(first_ticket) {}
  const std::string agent_id;
  asio::any_io_executor executor;
  asio::steady_timer timer;  // touched on `executor` (a strand) only
  // Guarded by the hub's mu_.
  bool pending = false;  // a wake-up not consumed by Wait yet
  bool pool_eligible = false;
  uint64_t ticket;  // renewed at each wake-up, so the pool rotates over its waiters
};

PollHub::Waiter::Waiter(PollHub& hub, std::shared_ptr<WaiterState> state)
    : hub_(hub), state_(std::move(state)) {}

PollHub::Waiter::~Waiter() { hub_.Unregister(state_); }

asio::awaitable<void> PollHub::Waiter::Wait(std::chrono::steady_clock::time_point deadline) {
  bool pending = false;
  {
    std::lock_guard lock(hub_.mu_);
    pending = std::exchange(state_->pending, false);
  }
  if (!pending) {
    // A Wake after the check above posts its cancel to this strand; it runs once we are
    // suspended below, so it is never lost.
    state_->timer.expires_at(deadline);
    // A cancelled wait is a wake-up, not an error.
    co_await state_->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::lock_guard lock(hub_.mu_);
    state_->pending = false;
  }
}

void PollHub::Waiter::SetPoolEligible(bool eligible) {
  std::lock_guard lock(hub_.mu_);
  state_->pool_eligible = eligible;
}

std::function<void()> PollHub::Waiter::Interrupter() const {
  return [hub = &hub_, weak = std::weak_ptr<WaiterState>(state_)] {
    std::lock_guard lock(hub->mu_);
    if (auto state = weak.lock()) hub->Wake(state);
  };
}

std::unique_ptr<PollHub::Waiter> PollHub::Register(const std::string& agent_id,
                                                   asio::any_io_executor executor) {
  std::lock_guard lock(mu_);
  auto state = std::make_shared<WaiterState>(agent_id, executor, next_ticket_++);
  waiters_.emplace(agent_id, state);
  if (stopping_) Wake(state);
  return std::make_unique<Waiter>(*this, std::move(state));
}

void PollHub::Unregister(const std::shared_ptr<WaiterState>& state) {
  std::lock_guard lock(mu_);
  auto [begin, end] = waiters_.equal_range(state->agent_id);
  for (auto it = begin; it != end; ++it) {
    if (it->second == state) {
      waiters_.erase(it);
      return;
    }
  }
}

void PollHub::Wake(const std::shared_ptr<WaiterState>& state) {
  state->pending = true;
  state->ticket = next_ticket_++;
  // The timer belongs to the waiter's strand: cancel there, never from here.
  asio::post(state->executor, [state] { state->timer.cancel(); });
}

void PollHub::NotifyAgent(const std::string& agent_id) {
  std::lock_guard lock(mu_);
  auto [begin, end] = waiters_.equal_range(agent_id);
  for (auto it = begin; it != end; ++it) Wake(it->second);
}

void PollHub::NotifyPool() {
  std::lock_guard lock(mu_);
  std::shared_ptr<WaiterState> longest;
  for (const auto& [agent, state] : waiters_) {
    if (!state->pool_eligible || state->pending) continue;
    if (!longest || state->ticket < longest->ticket) longest = state;
  }
  // Nobody free to wake: the task waits in the pool for the next poll, which claims before
  // it waits.
  if (longest) Wake(longest);
}

void PollHub::Shutdown() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  for (auto& [agent, state] : waiters_) Wake(state);
}

bool PollHub::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool PollHub::HasWaiter(const std::string& agent_id) const {
  std::lock_guard lock(mu_);
  return waiters_.count(agent_id) > 0;
}

}  // namespace swarm
