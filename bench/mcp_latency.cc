// MCP tools/call store-progress round trips over loopback, one client, keep-alive: the figure
// is from just before the POST /mcp is sent until its response has been read. For each of N
// tasks (created for the agent with the seed's outputSchema and claimed by its poll, outside
// the timing): a progress update, a mismatching output (judged, refused, nothing written), and
// the matching output (judged, written as completed). Prints percentiles as JSON, and the
// session id on stderr for the caller's load run.
//
//   AGENT_SWARM_API_KEY=... bench_mcp_latency http://127.0.0.1:3013 500
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/client.h"

namespace {

using nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr char kAgent[] = "bench-mcp-agent";

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()));
  return v[i];
}

class Api {
 public:
  Api(std::string base, std::string key) : base_(std::move(base)), key_(std::move(key)) {}

  swarm::http::ClientResponse Send(const std::string& method, const std::string& path,
                                   const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& extra) {
    swarm::http::ClientRequest request;
    request.method = method;
    request.url = base_ + path;
    request.body = body;
    request.timeout = std::chrono::seconds(10);
    request.headers = {{"Authorization", "Bearer " + key_},
                       {"X-Agent-ID", kAgent},
                       {"Content-Type", "application/json"},
                       {"Accept", "application/json, text/event-stream"}};
    for (const auto& h : extra) request.headers.push_back(h);
    auto response = http_.Send(request);
    if (!response) {
      std::cerr << "bench_mcp_latency: " << method << " " << path << ": "
                << response.error().message << "\n";
      std::exit(1);
    }
    return *response;
  }

  std::string session;

  json Mcp(const json& message) {
    auto r = Send("POST", "/mcp", message.dump(), {{"Mcp-Session-Id", session}});
    if (r.status != 200) Fail("POST /mcp", r);
    return json::parse(r.body);
  }

  [[noreturn]] static void Fail(const std::string& what, const swarm::http::ClientResponse& r) {
    std::cerr << "bench_mcp_latency: " << what << ": HTTP " << r.status << " " << r.body << "\n";
    std::exit(1);
  }

 private:
  std::string base_;
  std::string key_;
  swarm::http::CurlHttpClient http_;
};

json StoreProgress(const json& arguments) {
  return {{"jsonrpc", "2.0"},
          {"id", 1},
          {"method", "tools/call"},
          {"params", {{"name", "store-progress"}, {"arguments", arguments}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bench_mcp_latency BASE_URL COUNT (key in AGENT_SWARM_API_KEY)\n";
    return 2;
  }
  const int count = std::atoi(argv[2]);
  const char* key = std::getenv("AGENT_SWARM_API_KEY");
  if (!key || count <= 0) {
    std::cerr << "bench_mcp_latency: set AGENT_SWARM_API_KEY and a positive COUNT\n";
    return 2;
  }
  Api api(argv[1], key);
  if (auto r = api.Send("POST", "/api/agents", json{{"name", kAgent}}.dump(), {});
      r.status >= 300) {
    Api::Fail("register", r);
  }
  auto init = api.Send("POST", "/mcp",
                       json{{"jsonrpc", "2.0"},
                            {"id", 0},
                            {"method", "initialize"},
                            {"params",
                             {{"protocolVersion", "2025-06-18"},
                              {"capabilities", json::object()},
                              {"clientInfo", {{"name", "bench"}, {"version", "1"}}}}}}
                           .dump(),
                       {});
  if (init.status != 200) Api::Fail("initialize", init);
  for (const auto& [name, value] : init.headers) {
    if (name == "mcp-session-id") api.session = value;
  }
  api.Send("POST", "/mcp", R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
           {{"Mcp-Session-Id", api.session}});

  const json schema = json::parse(
      R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})");
  std::map<std::string, std::vector<double>> ms;
  auto timed = [&](const char* name, const json& message, bool want_error) {
    const auto start = Steady::now();
    json reply = api.Mcp(message);
    ms[name].push_back(std::chrono::duration<double, std::milli>(Steady::now() - start).count());
    if (!reply.contains("result") || reply["result"]["isError"] != want_error) {
      std::cerr << "bench_mcp_latency: unexpected " << name << " reply: " << reply.dump() << "\n";
      std::exit(1);
    }
  };
  for (int i = 0; i < count; ++i) {
    auto created = api.Send(
        "POST", "/api/tasks",
        json{{"task", "reply pong"}, {"agentId", kAgent}, {"outputSchema", schema}}.dump(), {});
    if (created.status != 201) Api::Fail("create", created);
    const std::string id = json::parse(created.body)["id"];
    auto polled = api.Send("GET", "/api/poll", "", {});
    if (polled.status != 200 || json::parse(polled.body)["trigger"].is_null()) {
      Api::Fail("poll", polled);
    }
    timed("progress", StoreProgress({{"taskId", id}, {"progress", "working"}}), false);
    timed("mismatch",
          StoreProgress({{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":1})"}}),
          true);
    timed(
        "completed",
        StoreProgress({{"taskId", id}, {"status", "completed"}, {"output", R"({"reply":"pong"})"}}),
        false);
  }
  json out = {{"count", count}};
  for (const auto& [name, values] : ms) {
    out[name] = {{"p50_ms", Percentile(values, 0.50)}, {"p99_ms", Percentile(values, 0.99)}};
  }
  std::cout << out.dump() << "\n";
  std::cerr << api.session << "\n";
  return 0;
}
