#include "worker/poll_pacing.h"

#include <algorithm>

namespace swarm::worker {

using std::chrono::milliseconds;

milliseconds PollPause(milliseconds asked, milliseconds took) {
  // A long-poll may end a little early (the server's clock, rounding): not a reason to pause.
  const milliseconds tolerance = std::min(asked / 10, milliseconds(500));
  if (took >= asked - tolerance) return milliseconds(0);
  return std::max(asked - took, kMinPollPause);
}

}  // namespace swarm::worker
