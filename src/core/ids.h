// Identifiers for tasks, agents and log rows.
#pragma once

#include <string>

namespace swarm {

// A time-ordered UUID (version 7, RFC 9562) in canonical lowercase form: 48 bits of Unix
// milliseconds, then random bits. Ids made later sort later, so new rows land at the end of
// the primary-key and task-id indexes instead of at random pages, which keeps a commit to a
// few dirty pages. Thread-safe.
std::string NewUuid();

}  // namespace swarm
