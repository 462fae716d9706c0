// Sandbox latencies against a running sandboxd (bench/sandbox_bench.sh starts everything):
//   1. create -> background command started (StartBackground returned its pid), N runs;
//   2. envd Start round trip for `true` (Run to its end), 5*N runs in one sandbox;
//   3. create -> worker registered (the start-worker flow, polling every 5 ms), N runs, beside
//      the worker's own start (`agent-swarm worker` spawned directly -> registered), N runs;
//   4. processes left under sandboxd after 100 create/kill cycles (must be 0).
// Prints one JSON object of p50/p99 figures in milliseconds.
//
//   E2B_API_URL=… E2B_SANDBOX_URL=… E2B_API_KEY=… AGENT_SWARM_API_KEY=… \
//     bench_sandbox SANDBOXD_PID API_URL WORKER_TEMPLATE AGENT_SWARM_BIN N
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "http/client.h"
#include "sandbox/e2b_client.h"
#include "sandbox/e2b_config.h"
#include "sandbox/worker_launch.h"

extern char** environ;

namespace {

using Steady = std::chrono::steady_clock;
using namespace swarm;
using namespace swarm::sandbox;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

nlohmann::json Summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
  };
  return {{"runs", v.size()}, {"p50", at(0.5)}, {"p99", at(0.99)}, {"max", v.back()}};
}

[[noreturn]] void Fail(const std::string& what, const Error& error) {
  std::cerr << "bench_sandbox: " << what << ": " << error.message << "\n";
  std::exit(1);
}

// Pids whose parent chain reaches `root` (excluding root itself).
int DescendantsOf(pid_t root) {
  std::map<pid_t, pid_t> parent;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid;
    rest >> state >> ppid;
    parent[std::stoi(name)] = ppid;
  }
  int count = 0;
  for (const auto& [pid, ppid] : parent) {
    for (pid_t p = ppid; p > 1; p = parent.count(p) ? parent[p] : 0) {
      if (p == root) {
        ++count;
        break;
      }
    }
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::cerr << "usage: bench_sandbox SANDBOXD_PID API_URL WORKER_TEMPLATE AGENT_SWARM_BIN N\n";
    return 2;
  }
  const pid_t sandboxd_pid = std::atoi(argv[1]);
  const std::string api_url = argv[2];
  const std::string worker_template = argv[3];
  const std::string agent_swarm_bin = argv[4];
  const int n = std::max(1, std::atoi(argv[5]));
  const char* swarm_key = std::getenv("AGENT_SWARM_API_KEY");
  if (swarm_key == nullptr) {
    std::cerr << "bench_sandbox: set AGENT_SWARM_API_KEY\n";
    return 2;
  }
  swarm::log::Init();  // the client's log lines to stderr, the report alone on stdout
  const StringMap env = ProcessEnvironment();
  http::CurlHttpClient http;
  E2bSandboxProvider provider(E2bConfig::FromEnv(env), http);
  nlohmann::json report;

  // 1. create -> background command started.
  std::vector<double> started;
  for (int i = 0; i < n; ++i) {
    SandboxSpec spec;
    spec.timeout = std::chrono::seconds(120);
    const auto t0 = Steady::now();
    auto sandbox = provider.Create(spec);
    if (!sandbox) Fail("create", sandbox.error());
    CommandSpec sleep;
    sleep.cmd = "sleep 60";
    sleep.timeout = std::chrono::milliseconds(0);
    auto pid = provider.StartBackground(sandbox->handle, sleep);
    if (!pid) Fail("start background", pid.error());
    started.push_back(Ms(Steady::now() - t0));
    (void)provider.Kill(sandbox->id());
  }
  report["createToBackgroundStartedMs"] = Summary(started);

  // 2. envd Start round trip for `true`.
  {
    auto sandbox = provider.Create(SandboxSpec{});
    if (!sandbox) Fail("create", sandbox.error());
    std::vector<double> trips;
    CommandSpec truth;
    truth.cmd = "true";
    for (int i = 0; i < 5 * n; ++i) {
      const auto t0 = Steady::now();
      auto done = provider.Run(sandbox->handle, truth);
      if (!done) Fail("run true", done.error());
      if (done->exit_code != 0) {
        std::cerr << "bench_sandbox: `true` exited " << done->exit_code << "\n";
        return 1;
      }
      trips.push_back(Ms(Steady::now() - t0));
    }
    report["envdStartTrueRoundTripMs"] = Summary(trips);
    (void)provider.Kill(sandbox->id());
  }

  // 3a. The worker's own start: spawn -> registered, outside any sandbox.
  auto probe = HttpRegistrationProbe(http);
  auto wait_registered = [&](const std::string& agent_id) {
    const auto deadline = Steady::now() + std::chrono::seconds(30);
    while (Steady::now() < deadline) {
      if (probe(api_url, agent_id, swarm_key)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  };
  std::vector<double> own_start;
  for (int i = 0; i < n; ++i) {
    const std::string agent_id = "bench-direct-" + std::to_string(i);
    std::vector<std::string> env_strings = {
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "MCP_BASE_URL=" + api_url,
        std::string("AGENT_SWARM_API_KEY=") + swarm_key,
        "AGENT_ID=" + agent_id,
        "HARNESS_PROVIDER=claude",
        "ANTHROPIC_API_KEY=sk-ant-bench-unused",
        "WORKER_WORK_DIR=/tmp/bench-sandbox-worker-" + agent_id};
    if (const char* bins = std::getenv("HARNESS_BIN_DIR")) {
      env_strings.push_back(std::string("HARNESS_BIN_DIR=") + bins);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = agent_swarm_bin, arg1 = "worker";
    char* args[] = {arg0.data(), arg1.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const auto t0 = Steady::now();
    pid_t child = 0;
    if (posix_spawn(&child, agent_swarm_bin.c_str(), &actions, nullptr, args, envp.data()) != 0) {
      std::cerr << "bench_sandbox: cannot start " << agent_swarm_bin << "\n";
      return 1;
    }
    posix_spawn_file_actions_destroy(&actions);
    const bool ok = wait_registered(agent_id);
    own_start.push_back(Ms(Steady::now() - t0));
    ::kill(child, SIGTERM);
    ::waitpid(child, nullptr, 0);
    std::filesystem::remove_all("/tmp/bench-sandbox-worker-" + agent_id);
    if (!ok) {
      std::cerr << "bench_sandbox: a direct worker did not register\n";
      return 1;
    }
  }
  report["workerOwnStartToRegisteredMs"] = Summary(own_start);

  // 3b. create -> registered through the start-worker flow.
  std::vector<double> registered;
  for (int i = 0; i < n; ++i) {
    RuntimeEnvSources sources;
    sources.api_key = swarm_key;
    // The same worker settings as the direct start (the entrypoint finds the CLIs itself).
    sources.secrets = {{"AGENT_SWARM_BIN", agent_swarm_bin},
                       {"PATH", "/usr/local/bin:/usr/bin:/bin"},
                       {"ANTHROPIC_API_KEY", "sk-ant-bench-unused"}};
    WorkerLaunchOptions options;
    options.template_id = worker_template;
    options.api_url = api_url;
    options.agent_id = "bench-sandboxed-" + std::to_string(i);
    options.timeout = std::chrono::seconds(120);
    options.wait = std::chrono::milliseconds(30'000);
    auto plan = PlanWorkerLaunch(sources, options);
    if (!plan) Fail("plan", plan.error());
    WorkerLaunchDeps deps;
    deps.provider = &provider;
    deps.probe = probe;
    deps.startup_grace = std::chrono::milliseconds(0);
    deps.startup_poll_interval = std::chrono::milliseconds(5);
    deps.poll_interval = std::chrono::milliseconds(5);
    const auto t0 = Steady::now();
    auto launched = LaunchWorker(*plan, deps);
    if (!launched) Fail("start worker", launched.error());
    registered.push_back(Ms(Steady::now() - t0));
    (void)provider.Kill(launched->sandbox.id());
  }
  report["createToWorkerRegisteredMs"] = Summary(registered);
  std::sort(registered.begin(), registered.end());
  std::sort(own_start.begin(), own_start.end());
  report["registeredBeyondOwnStartP50Ms"] =
      registered[registered.size() / 2] - own_start[own_start.size() / 2];

  // 4. 100 create/kill cycles, then what is left under sandboxd.
  for (int i = 0; i < 100; ++i) {
    auto sandbox = provider.Create(SandboxSpec{});
    if (!sandbox) Fail("create", sandbox.error());
    CommandSpec sleep;
    sleep.cmd = "sleep 300";
    sleep.timeout = std::chrono::milliseconds(0);
    if (auto pid = provider.StartBackground(sandbox->handle, sleep); !pid) {
      Fail("start background", pid.error());
    }
    auto killed = provider.Kill(sandbox->id());
    if (!killed) Fail("kill", killed.error());
  }
  int left = DescendantsOf(sandboxd_pid);
  for (int i = 0; i < 100 && left > 0; ++i) {  // reaping is asynchronous: up to 2 s
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    left = DescendantsOf(sandboxd_pid);
  }
  report["processesLeftAfter100CreateKillCycles"] = left;
  std::cout << report.dump(2) << "\n";
  return left == 0 ? 0 : 1;
}
