#include "api/heartbeats.h"

namespace swarm {

bool Heartbeats::Beat(const std::string& agent_id, TimePoint now) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(agent_id);
  Entry& e = it->second;
  e.last_seen = now;
  if (inserted || e.offline || now - e.last_persisted >= persist_every_) {
    e.last_persisted = now;
    e.offline = false;
    return true;
  }
  return false;
}

std::optional<TimePoint> Heartbeats::LastSeen(const std::string& agent_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(agent_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.last_seen;
}

void Heartbeats::MarkOffline(const std::string& agent_id) {
  std::lock_guard lock(mu_);
  entries_[agent_id].offline = true;
}

}  // namespace swarm
