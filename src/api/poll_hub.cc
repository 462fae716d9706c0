#include "api/poll_hub.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace swarm {

namespace asio = boost::asio;

// Touched only on the waiter's executor (a strand), except `agent_id`, which never changes.
struct PollHub::WaiterState {
  WaiterState(std::string agent, asio::any_io_executor ex)
      : agent_id(std::move(agent)), executor(ex), timer(ex) {}
  const std::string agent_id;
  asio::any_io_executor executor;
  asio::steady_timer timer;
  bool notified = false;
};

PollHub::Waiter::Waiter(PollHub& hub, std::shared_ptr<WaiterState> state)
    : hub_(hub), state_(std::move(state)) {}

PollHub::Waiter::~Waiter() { hub_.Unregister(state_); }

asio::awaitable<void> PollHub::Waiter::Wait(std::chrono::steady_clock::time_point deadline) {
  if (!state_->notified) {
    state_->timer.expires_at(deadline);
    // A cancelled wait is a wake-up, not an error.
    co_await state_->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  state_->notified = false;
}

std::unique_ptr<PollHub::Waiter> PollHub::Register(const std::string& agent_id,
                                                   asio::any_io_executor executor) {
  auto state = std::make_shared<WaiterState>(agent_id, executor);
  std::lock_guard lock(mu_);
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
  // The timer belongs to the waiter's strand: flag and cancel there, never from here.
  asio::post(state->executor, [state] {
    state->notified = true;
    state->timer.cancel();
  });
}

void PollHub::NotifyAgent(const std::string& agent_id) {
  std::lock_guard lock(mu_);
  auto [begin, end] = waiters_.equal_range(agent_id);
  for (auto it = begin; it != end; ++it) Wake(it->second);
}

void PollHub::NotifyAll() {
  std::lock_guard lock(mu_);
  for (auto& [agent, state] : waiters_) Wake(state);
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
