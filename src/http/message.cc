#include "http/message.h"

#include <nlohmann/json.hpp>

namespace swarm::http {

void PeerWatch::OnGone(std::function<void()> callback) {
  std::function<void()> start;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (!gone()) {
      on_gone_.push_back(std::move(callback));
      start.swap(start_);  // the first caller starts the watch
      if (start) start();  // only posts to the connection's strand: fine under the lock
      return;
    }
  }
  callback();
}

void PeerWatch::MarkGone() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    if (gone_.exchange(true, std::memory_order_acq_rel)) return;
    callbacks.swap(on_gone_);
  }
  // Outside the lock: a callback may register another one or ask gone().
  for (auto& callback : callbacks) callback();
}

void PeerWatch::Close() {
  std::vector<std::function<void()>> dropped;
  std::lock_guard lock(mu_);
  closed_ = true;
  dropped.swap(on_gone_);
}

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

HttpResponse JsonError(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", message}}.dump();
  return r;
}

}  // namespace swarm::http
