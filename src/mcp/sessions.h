// The MCP sessions of one server, kept in least-recently-used order so that the caps evict
// the session nobody is using: claude never sends DELETE, so a busy agent opens sessions until
// it reaches its cap, and must not then be locked out. Not thread-safe: the Endpoint holds
// its mutex around every call.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace swarm::mcp {

struct Session {
  std::string id;
  std::string agent_id;
  std::string protocol_version;
  MonotonicTime last_used{};
  bool stream_open = false;  // a GET stream is attached
};

struct EvictedSession {
  std::string agent_id;
  const char* reason;  // "per-agent cap" or "total cap"
};

class SessionTable {
 public:
  SessionTable(std::size_t max_total, std::size_t max_per_agent);

  // Adds a session as the most recently used, first evicting the agent's least recently used
  // session when the agent is at its cap, and the least recently used of all when the table
  // is full. Returns what was evicted.
  std::vector<EvictedSession> Add(Session session);
  // nullptr when unknown. The pointer is valid until the table next changes.
  Session* Find(const std::string& id);
  const Session* Find(const std::string& id) const;
  // Marks the session used at `now` (it becomes the most recently used).
  void Touch(const std::string& id, MonotonicTime now);
  bool Remove(const std::string& id);
  // Removes the sessions last used before `cutoff`; returns how many.
  std::size_t RemoveUsedBefore(MonotonicTime cutoff);
  void Clear();

  std::size_t size() const { return by_id_.size(); }
  std::size_t CountFor(const std::string& agent_id) const;

 private:
  using Order = std::list<Session>;
  void Erase(Order::iterator it);

  std::size_t max_total_;
  std::size_t max_per_agent_;
  Order lru_;  // front: least recently used
  std::unordered_map<std::string, Order::iterator> by_id_;
  std::unordered_map<std::string, std::size_t> per_agent_;
};

}  // namespace swarm::mcp
