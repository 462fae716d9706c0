// Create-to-delivery latency: a worker holds GET /api/poll?wait=5 open; the producer creates a
// task for it; the figure is from just before the create request is sent until the poll's
// response has been read. Repeated N times; prints percentiles as JSON.
//
//   AGENT_SWARM_API_KEY=... bench_poll_latency http://127.0.0.1:3013 1000
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/swarm_client.h"
#include "http/client.h"

namespace {

using Steady = std::chrono::steady_clock;
using swarm::SwarmClient;

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bench_poll_latency BASE_URL COUNT (key in AGENT_SWARM_API_KEY)\n";
    return 2;
  }
  const std::string base = argv[1];
  const int count = std::atoi(argv[2]);
  const char* key = std::getenv("AGENT_SWARM_API_KEY");
  if (!key || count <= 0) {
    std::cerr << "bench_poll_latency: set AGENT_SWARM_API_KEY and a positive COUNT\n";
    return 2;
  }
  swarm::http::CurlHttpClient http;
  SwarmClient producer(http, {base, key, "", std::chrono::seconds(10)});
  SwarmClient worker(http, {base, key, "bench-poller", std::chrono::seconds(10)});
  if (auto r = worker.Call("POST", "/api/agents", nlohmann::json{{"name", "bench-poller"}}); !r) {
    std::cerr << "register: " << r.error().message << "\n";
    return 1;
  }

  std::mutex mu;
  std::condition_variable cv;
  int round = -1;      // the round the poller should run
  int delivered = -1;  // the last round it finished
  Steady::time_point delivered_at;
  std::string delivered_id;
  bool failed = false;

  std::thread poller([&] {
    for (int i = 0; i < count; ++i) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return round >= i; });
      }
      auto r = worker.Call("GET", "/api/poll?wait=5", std::nullopt, std::chrono::seconds(10));
      const auto now = Steady::now();
      std::lock_guard lock(mu);
      if (!r || r->body["trigger"].is_null()) {
        failed = true;
        std::cerr << "poll " << i << ": " << (r ? "no task within 5 s" : r.error().message) << "\n";
      } else {
        delivered_id = r->body["trigger"]["taskId"];
      }
      delivered_at = now;
      delivered = i;
      cv.notify_all();
      if (failed) return;
    }
  });

  std::vector<double> latencies_ms;
  for (int i = 0; i < count && !failed; ++i) {
    {
      std::lock_guard lock(mu);
      round = i;
    }
    cv.notify_all();
    // Give the poll time to reach the server and park.
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    const auto sent = Steady::now();
    auto created = producer.Call(
        "POST", "/api/tasks",
        nlohmann::json{
            {"task", "latency probe"}, {"agentId", "bench-poller"}, {"source", "bench"}});
    if (!created) {
      std::cerr << "create: " << created.error().message << "\n";
      failed = true;
      break;
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return delivered >= i; });
    if (failed) break;
    const std::string id = delivered_id;
    if (id != created->body["id"]) {
      // Something else was claimable (a pool task): the figure would be meaningless.
      std::cerr << "poll " << i << " delivered task " << id << ", not the one just created; "
                << "run against a server with no other claimable tasks\n";
      failed = true;
      break;
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(delivered_at - sent).count());
    lock.unlock();
    worker.Call("POST", "/api/tasks/" + id + "/finish",
                nlohmann::json{{"status", "completed"}, {"output", "ok"}});
  }
  {
    std::lock_guard lock(mu);
    round = count;
  }
  cv.notify_all();
  poller.join();
  if (failed || latencies_ms.empty()) return 1;
  nlohmann::json out = {{"samples", latencies_ms.size()},
                        {"p50_ms", Percentile(latencies_ms, 0.50)},
                        {"p90_ms", Percentile(latencies_ms, 0.90)},
                        {"p99_ms", Percentile(latencies_ms, 0.99)},
                        {"max_ms", *std::max_element(latencies_ms.begin(), latencies_ms.end())}};
  std::cout << out.dump() << "\n";
  return 0;
}
