// Random identifiers for tasks, agents, log rows.
#pragma once

#include <string>

namespace swarm {

// A random (version 4) UUID in its canonical lowercase form. Thread-safe.
std::string NewUuid();

}  // namespace swarm
