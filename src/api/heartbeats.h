// When each registered agent was last heard from. Any authenticated request that names an
// agent (X-Agent-ID) is a heartbeat. Kept in memory so a heartbeat costs no database write; the
// store is told at most once per `persist_every` per agent (for lastActivityAt), and at once
// when an agent marked offline shows up again.
//
// Entries exist only for agents the store knows (added by Known after a registration, a ping,
// or a lookup), so a client inventing X-Agent-ID values cannot grow this map. Times are
// monotonic: a wall clock that jumps neither kills live workers nor keeps dead ones.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace swarm {

class Heartbeats {
 public:
  enum class BeatResult {
    kUnknown,   // not a known agent: nothing recorded; the caller may look it up
    kRecorded,  // recorded in memory only
    kPersist,   // recorded; the caller should also write it to the store
  };

  explicit Heartbeats(std::chrono::milliseconds persist_every = std::chrono::seconds(1))
      : persist_every_(persist_every) {}

  // The store has just recorded activity of this registered agent (registration, ping).
  void Known(const std::string& agent_id, MonotonicTime now);
  BeatResult Beat(const std::string& agent_id, MonotonicTime now);
  std::optional<MonotonicTime> LastSeen(const std::string& agent_id) const;
  // The store has set the agent offline; its next heartbeat must reach the store.
  void MarkOffline(const std::string& agent_id);
  std::size_t size() const;

 private:
  struct Entry {
    MonotonicTime last_seen{};
    MonotonicTime last_persisted{};
    bool offline = false;
  };
  std::chrono::milliseconds persist_every_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace swarm
