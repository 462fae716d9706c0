#include "mcp/sessions.h"

#include <algorithm>
#include <utility>

namespace swarm::mcp {

SessionTable::SessionTable(std::size_t max_total, std::size_t max_per_agent)
    : max_total_(std::max<std::size_t>(max_total, 1)),
      max_per_agent_(std::max<std::size_t>(max_per_agent, 1)) {}

std::vector<EvictedSession> SessionTable::Add(Session session) {
  std::vector<EvictedSession> evicted;
  if (CountFor(session.agent_id) >= max_per_agent_) {
    // A linear walk from the least recently used end: at most max_total_ sessions, and only
    // when a session is opened.
    const auto oldest = std::find_if(
        lru_.begin(), lru_.end(), [&](const Session& s) { return s.agent_id == session.agent_id; });
    if (oldest != lru_.end()) {
      evicted.push_back({oldest->agent_id, "per-agent cap"});
      Erase(oldest);
    }
  }
  if (by_id_.size() >= max_total_ && !lru_.empty()) {
    evicted.push_back({lru_.front().agent_id, "total cap"});
    Erase(lru_.begin());
  }
  ++per_agent_[session.agent_id];
  const std::string id = session.id;
  lru_.push_back(std::move(session));
  by_id_[id] = std::prev(lru_.end());
  return evicted;
}

Session* SessionTable::Find(const std::string& id) {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &*it->second;
}

const Session* SessionTable::Find(const std::string& id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &*it->second;
}

void SessionTable::Touch(const std::string& id, MonotonicTime now) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  it->second->last_used = now;
  lru_.splice(lru_.end(), lru_, it->second);
}

bool SessionTable::Remove(const std::string& id) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  Erase(it->second);
  return true;
}

std::size_t SessionTable::RemoveUsedBefore(MonotonicTime cutoff) {
  // Touch keeps the list in order of last use, so the idle sessions are a prefix of it.
  std::size_t removed = 0;
  while (!lru_.empty() && lru_.front().last_used < cutoff) {
    Erase(lru_.begin());
    ++removed;
  }
  return removed;
}

void SessionTable::Clear() {
  lru_.clear();
  by_id_.clear();
  per_agent_.clear();
}

std::size_t SessionTable::CountFor(const std::string& agent_id) const {
  const auto it = per_agent_.find(agent_id);
  return it == per_agent_.end() ? 0 : it->second;
}

void SessionTable::Erase(Order::iterator it) {
  const auto count = per_agent_.find(it->agent_id);
  if (count != per_agent_.end() && --count->second == 0) per_agent_.erase(count);
  by_id_.erase(it->id);
  lru_.erase(it);
}

}  // namespace swarm::mcp
