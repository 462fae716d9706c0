// Pacing of empty polls. Our API holds GET /api/poll?wait=S until a task comes or S passes;
// upstream agent-swarm's ignores `wait` and answers {"trigger":null} at once, and a worker that
// re-polled at once would send thousands of polls a second. A poll that comes back empty
// sooner than asked is followed by a pause.
#pragma once

#include <chrono>

namespace swarm::worker {

inline constexpr std::chrono::milliseconds kMinPollPause{1'000};

// The pause before the next poll after one that brought no task, asked to wait `asked` and
// answered after `took`: none when the server held it for (about) the whole wait, else the
// rest of the wait, at least kMinPollPause. The caller adds jitter.
std::chrono::milliseconds PollPause(std::chrono::milliseconds asked,
                                    std::chrono::milliseconds took);

}  // namespace swarm::worker
