// Test support: the real `agent-swarm api` binary on a loopback port chosen by the OS, with
// a database in a temp dir, and a small HTTP helper for talking to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "support/child_process.h"

namespace swarm::testing_support {

inline constexpr char kTestApiKey[] = "test-key-7f3a9c2e5b";

// The seed's outputSchema for the smoke task: {"reply": "pong"} and nothing else passes.
inline const nlohmann::json& SeedOutputSchema() {
  static const nlohmann::json schema = nlohmann::json::parse(
      R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})");
  return schema;
}

// Path of the agent-swarm binary under test (set by CMake).
std::string AgentSwarmBinary();

class ApiProcess {
 public:
  // Starts `agent-swarm api --port 0 --db db_path extra_args...` and waits (bounded) until it
  // listens. Throws std::runtime_error with the server's log if it does not.
  ApiProcess(const std::string& db_path, std::vector<std::string> extra_args = {});
  // The same, with `env` added to (and overriding) the API's environment (the key in
  // AGENT_SWARM_API_KEY is kTestApiKey unless `env` says otherwise).
  ApiProcess(const std::string& db_path, std::vector<std::string> extra_args,
             const std::map<std::string, std::string>& env);

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return ReadFile(log_path_); }
  ChildProcess& child() { return *child_; }

 private:
  std::string log_path_;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
};

struct Reply {
  int status = 0;
  nlohmann::json body;  // null when the body is empty or not JSON
  std::string raw;
};

// Raw HTTP against the API, with the test key unless told otherwise.
class TestApi {
 public:
  explicit TestApi(std::string base_url, std::string key = kTestApiKey)
      : base_url_(std::move(base_url)), key_(std::move(key)) {}

  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& agent_id = "",
             std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  Reply Post(const std::string& path, const nlohmann::json& body,
             const std::string& agent_id = "") const {
    return Send("POST", path, body.dump(), agent_id);
  }
  Reply Get(const std::string& path, const std::string& agent_id = "") const {
    return Send("GET", path, "", agent_id);
  }
  // Registers an agent (maxTasks as given) and returns the reply.
  Reply Register(const std::string& agent_id, int max_tasks = 1) const;

  void set_key(std::string key) { key_ = std::move(key); }

 private:
  std::string base_url_;
  std::string key_;
  mutable http::CurlHttpClient http_;
};

}  // namespace swarm::testing_support
