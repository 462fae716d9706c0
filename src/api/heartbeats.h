// When each agent was last heard from. Any authenticated request that names an agent
// (X-Agent-ID) is a heartbeat. Kept in memory so a heartbeat costs no database write; the
// store is told at most once per `persist_every` per agent (for lastActivityAt), and at once
// when an agent marked offline shows up again.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace swarm {

class Heartbeats {
 public:
  explicit Heartbeats(std::chrono::milliseconds persist_every = std::chrono::seconds(1))
      : persist_every_(persist_every) {}

  // Records a heartbeat. Returns true when the caller should also write it to the store.
  bool Beat(const std::string& agent_id, TimePoint now);
  std::optional<TimePoint> LastSeen(const std::string& agent_id) const;
  // The store has set the agent offline; its next heartbeat must reach the store.
  void MarkOffline(const std::string& agent_id);

 private:
  struct Entry {
    TimePoint last_seen{};
    TimePoint last_persisted{};
    bool offline = false;
  };
  std::chrono::milliseconds persist_every_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace swarm
