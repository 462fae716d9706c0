#include "worker/signal_stop.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace swarm::worker {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

StopOnSignals::StopOnSignals(std::function<void(int)> on_signal)
    : on_signal_(std::move(on_signal)) {
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
  watcher_ = std::thread([this, set] {
    // A timed wait, so the destructor needs no signal of its own to end the watcher.
    const timespec tick{0, 200'000'000};
    while (!done_) {
      const int signal = sigtimedwait(&set, nullptr, &tick);
      if (signal > 0) on_signal_(signal);
    }
  });
}

StopOnSignals::~StopOnSignals() {
  done_ = true;
  watcher_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace swarm::worker
