// SIGTERM and SIGINT turned into a call on a thread of our own, so the handler can do real
// work (log, lock, notify), which a signal handler may not. Construct it before any other
// thread starts: the signals are blocked in the constructing thread and every thread it
// creates afterwards inherit the mask, so only the watcher receives them.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace swarm::worker {

class StopOnSignals {
 public:
  // `on_signal` runs on the watcher thread, once per SIGTERM/SIGINT received.
  explicit StopOnSignals(std::function<void(int signal)> on_signal);
  ~StopOnSignals();  // stops watching (within ~200 ms) and restores the signal mask
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  std::function<void(int)> on_signal_;
  sigset_t old_mask_;
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace swarm::worker
