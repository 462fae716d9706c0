// Test support: a whole deployment for one provider on loopback — the real API, stub-llm
// playing the model, and the real `agent-swarm worker` running the real CLI (from
// ./scripts/install-harnesses.sh) — all in one temp dir, torn down in reverse.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/api_process.h"
#include "support/child_process.h"
#include "support/stub_llm_process.h"

namespace swarm::testing_support {

// Where ./scripts/install-harnesses.sh puts the CLIs (set by CMake).
std::string HarnessBinDir();

// Pids of the processes whose working directory is inside `dir`: what a task's CLI left
// running.
std::vector<pid_t> ProcessesUnder(const std::string& dir);

struct DeploymentOptions {
  std::string provider = "claude";                // HARNESS_PROVIDER
  std::string agent_id;                           // AGENT_ID
  std::vector<std::string> llm_args;              // stub-llm's, e.g. {"--reply", "..."}
  std::vector<std::string> api_args;              // added to `agent-swarm api`'s
  std::map<std::string, std::string> worker_env;  // added to (and overriding) the worker's
  bool start_worker = true;  // false: the test starts its workers itself (StartWorker)
};

class WorkerDeployment {
 public:
  // Starts the API and stub-llm (bounded, throwing if either does not listen) and, unless told
  // otherwise, the worker.
  explicit WorkerDeployment(DeploymentOptions options);
  // Stops the workers, then kills whatever a task's CLI left behind (after a kill -9 of the
  // worker), then stub-llm and the API.
  ~WorkerDeployment();
  WorkerDeployment(const WorkerDeployment&) = delete;
  WorkerDeployment& operator=(const WorkerDeployment&) = delete;

  // Starts one more worker under the same AGENT_ID (its log: worker.log, then worker2.log, …)
  // and returns it; worker() is this one from now on. `env` is added to (and overrides) the
  // worker's environment, e.g. another AGENT_ID.
  ChildProcess& StartWorker(const std::map<std::string, std::string>& env = {});

  const std::string& agent_id() const { return options_.agent_id; }
  TestApi& api() { return client_; }
  const TempDir& dir() const { return dir_; }
  StubLlmProcess& llm() { return llm_; }
  ChildProcess& worker() { return *workers_.back(); }  // the last one started
  std::string WorkerLog();                             // the last one's
  // Every worker's log, stub-llm's and the API's: for failure messages.
  std::string Logs();

  // Until the worker has registered its agent (bounded).
  bool Registered();
  // POST /api/tasks for this agent, with the seed's outputSchema unless `with_schema` is false.
  std::string CreateTask(const std::string& text, bool with_schema = true);
  nlohmann::json Task(const std::string& id);
  // Until the task has `status` (bounded).
  bool WaitStatus(const std::string& id, const std::string& status,
                  std::chrono::seconds limit = std::chrono::seconds(30));
  // The task once it is terminal (bounded), or its last state.
  nlohmann::json WaitTerminal(const std::string& id,
                              std::chrono::seconds limit = std::chrono::seconds(180));
  // Until the last worker's log holds `text` (bounded).
  bool WaitWorkerLogged(const std::string& text);

 private:
  DeploymentOptions options_;
  TempDir dir_;
  ApiProcess api_;
  StubLlmProcess llm_;
  TestApi client_;
  std::vector<std::string> worker_logs_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
};

}  // namespace swarm::testing_support
