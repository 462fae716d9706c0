#include "cli/worker_command.h"

#include <atomic>
#include <csignal>
#include <memory>
#include <mutex>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/api_key.h"
#include "core/log.h"
#include "core/process_setup.h"
#include "harness/posix_process_runner.h"
#include "worker/cli_version.h"
#include "worker/harness_task_runner.h"
#include "worker/signal_stop.h"
#include "worker/worker.h"
#include "worker/worker_config.h"

namespace swarm {
namespace {

constexpr int kConfigError = 2;
constexpr int kStartError = 1;

// Runs the worker until a signal stops it. Returns the exit status.
int RunWorker(const std::string& api_key_file) {
  // First of all, before log::Init starts spdlog's flusher: every thread created from here
  // on inherits the blocked signals, so the watcher alone receives them.
  // A signal that comes before the worker exists is kept and delivered once it does.
  std::mutex mu;
  worker::Worker* target = nullptr;
  int pending_signals = 0;
  worker::StopOnSignals signals([&](int signal) {
    log::Info("signal received", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    std::lock_guard lock(mu);
    if (target) {
      target->Stop();
    } else {
      ++pending_signals;
    }
  });
  // A write to an API connection or a pipe whose reader left fails with EPIPE instead of
  // killing the worker (and its tasks' reports with it). The CLIs get default signals back.
  IgnoreSigpipe();
  log::Init();
  worker::EnvMap env = worker::ProcessEnvironment();
  if (!api_key_file.empty()) {
    auto key = ReadApiKeyFile(api_key_file);
    if (!key) {
      log::Error("invalid worker configuration", {{"error", key.error().message}});
      return kConfigError;
    }
    env["AGENT_SWARM_API_KEY"] = std::move(*key);  // before API_KEY, as the variable would be
  }
  auto config = worker::WorkerConfig::FromEnv(env);
  if (!config) {
    log::Error("invalid worker configuration", {{"error", config.error().message}});
    return kConfigError;
  }
  // First: making the runner hardens this process before any CLI runs.
  worker::TaskRunner runner = worker::MakeHarnessTaskRunner(config->provider, config->endpoint);
  // The CLI's version is found beside the start-up, not before it (Worker).
  const worker::WorkerConfig probe_config = *config;
  auto probe = [probe_config](const std::atomic<bool>* cancel) {
    harness::PosixProcessRunner probe_runner;
    return worker::ProbeCliVersion(probe_runner, probe_config, worker::kCliVersionTimeout, cancel);
  };
  worker::Worker w(std::move(*config), std::move(runner), probe);
  {
    std::lock_guard lock(mu);
    target = &w;
    for (; pending_signals > 0; --pending_signals) w.Stop();
  }
  auto result = w.Run();
  {
    std::lock_guard lock(mu);
    target = nullptr;
  }
  if (!result) {
    log::Error("worker could not start", {{"error", result.error().message}});
    return kStartError;
  }
  return 0;
}

}  // namespace

void AddWorkerCommand(CLI::App& root) {
  auto* cmd = root.add_subcommand("worker",
                                  "take tasks from a swarm API and run them through a harness CLI");
  auto api_key_file = std::make_shared<std::string>();
  cmd->add_option("--api-key-file", *api_key_file,
                  "read the API key from the first line of this file instead of "
                  "AGENT_SWARM_API_KEY");
  cmd->footer(
      "Configured by the environment (no secret goes through argv):\n"
      "  MCP_BASE_URL (required), AGENT_SWARM_API_KEY or API_KEY (required unless "
      "--api-key-file),\n"
      "  AGENT_ID (required),"
      " AGENT_ROLE=worker|lead, AGENT_NAME, CAPABILITIES, MAX_CONCURRENT_TASKS=1..100,\n"
      "  HARNESS_PROVIDER=claude|codex|opencode|pi (default claude), MODEL_OVERRIDE,\n"
      "  ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY (claude), OPENAI_BASE_URL/OPENAI_API_KEY (codex),\n"
      "  opencode/pi: whichever of those or OPENROUTER_API_KEY is set (HARNESS_MODEL_API picks),\n"
      "  HARNESS_BIN_DIR, WORKER_YOLO, SLACK_DISABLE, GITHUB_DISABLE,\n"
      "  WORKER_API_READY_TIMEOUT_SECONDS=90, WORKER_TASK_TIMEOUT_SECONDS=600, "
      "SHUTDOWN_TIMEOUT=30000 (ms),\n"
      "  WORKER_POLL_WAIT_SECONDS=10, WORKER_HEARTBEAT_SECONDS=5, "
      "WORKER_CANCEL_CHECK_SECONDS=1,\n"
      "  WORKER_LOG_FLUSH_SECONDS=1, WORKER_WORK_DIR (default ~/.agent-swarm/worker/<AGENT_ID>).\n"
      "SIGTERM/SIGINT: stop polling, let running tasks finish within SHUTDOWN_TIMEOUT, fail the "
      "rest, close.\n");
  cmd->callback([api_key_file] {
    const int status = RunWorker(*api_key_file);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace swarm
