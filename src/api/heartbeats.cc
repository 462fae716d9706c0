#include "api/heartbeats.h"

namespace swarm {

void Heartbeats::Known(const std::string& agent_id, MonotonicTime now) {
  std::lock_guard lock(mu_);
  Entry& e = entries_[agent_id];
  e.last_seen = now;
  e.last_persisted = now;
  e.offline = false;
}

Heartbeats::BeatResult Heartbeats::Beat(const std::string& agent_id, MonotonicTime now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(agent_id);
  if (it == entries_.end()) return BeatResult::kUnknown;
  Entry& e = it->second;
  e.last_seen = now;
  if (e.offline || now - e.last_persisted >= persist_every_) {
    e.last_persisted = now;
    e.offline = false;
    return BeatResult::kPersist;
  }
  return BeatResult::kRecorded;
}

std::optional<MonotonicTime> Heartbeats::LastSeen(const std::string& agent_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(agent_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.last_seen;
}

void Heartbeats::MarkOffline(const std::string& agent_id) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(agent_id); it != entries_.end()) it->second.offline = true;
}

std::size_t Heartbeats::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace swarm
