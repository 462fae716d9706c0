#include "support/worker_deployment.h"

#include <signal.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace swarm::testing_support {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string HarnessBinDir() { return HARNESS_BIN_DIR; }

std::vector<pid_t> ProcessesUnder(const std::string& dir) {
  std::vector<pid_t> pids;
  for (pid_t pid : LiveProcesses()) {
    std::error_code ec;
    const auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
    if (!ec && cwd.string().rfind(dir, 0) == 0) pids.push_back(pid);
  }
  return pids;
}

WorkerDeployment::WorkerDeployment(DeploymentOptions options)
    : options_(std::move(options)),
      api_(dir_.File("swarm.sqlite"), options_.api_args),
      llm_(dir_.File("llm.log"), options_.llm_args),
      client_(api_.url()) {
  // The worker runs as root here, so its CLI runs as an unprivileged user, which must be
  // able to reach its task directory below this one (0700 from mkdtemp).
  std::filesystem::permissions(dir_.path(),
                               std::filesystem::perms::owner_all |
                                   std::filesystem::perms::group_exec |
                                   std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::replace);
  if (options_.start_worker) StartWorker();
}

WorkerDeployment::~WorkerDeployment() {
  while (!workers_.empty()) workers_.pop_back();
  for (pid_t pid : ProcessesUnder(dir_.File("work"))) ::kill(pid, SIGKILL);
}

ChildProcess& WorkerDeployment::StartWorker(const std::map<std::string, std::string>& env) {
  ChildSpec spec;
  spec.argv = {AgentSwarmBinary(), "worker"};
  spec.env = {
      {"PATH", HarnessBinDir() + ":/usr/local/bin:/usr/bin:/bin"},
      {"MCP_BASE_URL", api_.url()},
      {"AGENT_SWARM_API_KEY", kTestApiKey},
      {"AGENT_ID", options_.agent_id},
      {"HARNESS_PROVIDER", options_.provider},
      {"MAX_CONCURRENT_TASKS", "1"},
      {"ANTHROPIC_BASE_URL", llm_.url()},
      {"ANTHROPIC_API_KEY", "sk-ant-e2e-fake-0001"},
      {"OPENAI_BASE_URL", llm_.openai_url()},
      {"OPENAI_API_KEY", "sk-e2e-fake-0002"},
      {"WORKER_WORK_DIR", dir_.File("work")},
      {"HARNESS_BIN_DIR", HarnessBinDir()},
      {"WORKER_TASK_TIMEOUT_SECONDS", "150"},
      {"HOME", dir_.File("home")},
  };
  for (const auto& [name, value] : options_.worker_env) spec.env[name] = value;
  for (const auto& [name, value] : env) spec.env[name] = value;
  const std::string log = workers_.empty()
                              ? std::string("worker.log")
                              : "worker" + std::to_string(workers_.size() + 1) + ".log";
  spec.stderr_path = dir_.File(log);
  worker_logs_.push_back(log);
  workers_.push_back(std::make_unique<ChildProcess>(spec));
  return *workers_.back();
}

std::string WorkerDeployment::WorkerLog() {
  return worker_logs_.empty() ? "" : ReadFile(dir_.File(worker_logs_.back()));
}

std::string WorkerDeployment::Logs() {
  std::string logs;
  for (const std::string& name : worker_logs_) {
    logs += name + ":\n" + ReadFile(dir_.File(name)) + "\n";
  }
  return logs + "stub-llm log:\n" + llm_.log() + "\napi log:\n" + api_.log();
}

bool WorkerDeployment::Registered() {
  return WaitUntil([&] { return client_.Get("/api/agents/" + agent_id()).status == 200; },
                   seconds(30), milliseconds(100));
}

std::string WorkerDeployment::CreateTask(const std::string& text, bool with_schema) {
  json body = {{"task", text}, {"agentId", agent_id()}, {"source", "api"}};
  if (with_schema) body["outputSchema"] = SeedOutputSchema();
  Reply r = client_.Post("/api/tasks", body);
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.body.value("id", "");
}

json WorkerDeployment::Task(const std::string& id) { return client_.Get("/api/tasks/" + id).body; }

bool WorkerDeployment::WaitStatus(const std::string& id, const std::string& status, seconds limit) {
  return WaitUntil([&] { return Task(id).value("status", "") == status; }, limit,
                   milliseconds(100));
}

json WorkerDeployment::WaitTerminal(const std::string& id, seconds limit) {
  json task;
  WaitUntil(
      [&] {
        task = Task(id);
        const std::string s = task.value("status", "");
        return s == "completed" || s == "failed" || s == "cancelled";
      },
      limit, milliseconds(100));
  return task;
}

bool WorkerDeployment::WaitWorkerLogged(const std::string& text) {
  return WaitUntil([&] { return WorkerLog().find(text) != std::string::npos; }, seconds(30),
                   milliseconds(100));
}

}  // namespace swarm::testing_support
