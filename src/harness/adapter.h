// A harness adapter turns a task into one run of a coding-agent CLI (claude, codex, opencode,
// pi) and reads the CLI's JSON-lines output back into a result. Adapters do no I/O beyond
// writing the CLI's config files into the task's home directory: Prepare builds the process
// spec, an OutputParser reads the lines, and RunHarness (below) drives the two through a
// ProcessRunner. So each adapter is tested without processes, and the loop once for all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "harness/process_runner.h"

namespace swarm::harness {

enum class Provider { kClaude, kCodex, kOpencode, kPi };

const char* ProviderName(Provider provider);
std::optional<Provider> ParseProvider(std::string_view name);

// Where the CLI sends model traffic, taken from the variables its users already know
// (ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY, OPENAI_BASE_URL/OPENAI_API_KEY, OPENROUTER_API_KEY,
// MODEL_OVERRIDE).
struct ModelEndpoint {
  enum class Api { kAnthropic, kOpenAi, kOpenRouter };
  Api api = Api::kAnthropic;
  std::string base_url;  // as the user gave it, e.g. http://127.0.0.1:8765 or .../v1
  std::string api_key;   // a secret: only ever placed in the child's environment
  std::optional<std::string> model;
};

struct TaskRun {
  std::string task_id;
  std::string prompt;                           // the task text
  std::optional<std::string> output_schema;     // JSON text; the prompt then asks for matching JSON
  std::filesystem::path work_dir;               // the CLI's cwd: the task's directory
  std::filesystem::path home_dir;               // empty, fresh per task: the CLI's config/state
  std::map<std::string, std::string> base_env;  // PATH, HOME, … to start the child env from
  std::chrono::milliseconds timeout{600'000};
  // The unprivileged user the CLI runs as (process_hardening.h: ResolveCliUser); work_dir and
  // home_dir are handed to it before the run.
  std::optional<RunAs> run_as;
};

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t reasoning_tokens = 0;
};

// What the parser made of the output once the process has ended.
struct ParsedRun {
  bool ok = false;                   // from the CLI's own error fields, not its exit code
  std::optional<std::string> error;  // why not ok, readable
  std::optional<std::string> session_id;
  std::string final_text;
  Usage usage;
  std::optional<double> cost_usd;  // the CLI's own figure, when it gives one
  std::optional<std::string> model;
  std::optional<int64_t> num_turns;
};

class OutputParser {
 public:
  virtual ~OutputParser() = default;
  // One stdout line. Lines that are not JSON are ignored (CLIs print banners).
  virtual void Feed(std::string_view line) = 0;
  // The provider session id, as soon as a line has revealed it.
  virtual std::optional<std::string> session_id() const = 0;
  // The verdict once the process has ended.
  virtual ParsedRun Finish(const ProcessOutcome& outcome) = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual Provider provider() const = 0;
  // The CLI invocation for this task: argv, the complete child env (switches that keep the
  // CLI on its configured base URL, per-task config dirs, fail-fast settings), cwd, stdin.
  // Writes the CLI's config files into run.home_dir.
  virtual Result<ProcessSpec> Prepare(const TaskRun& run, const ModelEndpoint& endpoint) const = 0;
  virtual std::unique_ptr<OutputParser> NewParser() const = 0;
};

// The result of one task run, as the worker reports it.
struct RunResult {
  bool ok = false;
  std::optional<std::string> failure_reason;
  std::optional<std::string> session_id;
  std::string final_text;
  std::optional<std::string> output;  // with a schema: the JSON value found in final_text
  Usage usage;
  std::optional<double> cost_usd;
  std::string cost_source = "unpriced";  // harness | pricing-table | unpriced
  std::optional<std::string> model;
  std::optional<int64_t> num_turns;
  int64_t duration_ms = 0;
  bool cancelled = false;
};

struct RunCallbacks {
  // The provider session id, once, as soon as it appears.
  std::function<void(const std::string& session_id)> on_session;
  // Every raw stdout line, in order.
  std::function<void(std::string_view line)> on_line;
};

// Runs the adapter's CLI for the task to its end (or timeout, or cancel) and judges it.
RunResult RunHarness(const Adapter& adapter, ProcessRunner& runner, const TaskRun& run,
                     const ModelEndpoint& endpoint, const RunCallbacks& callbacks,
                     const std::atomic<bool>* cancel);

// The adapter for a provider.
std::unique_ptr<Adapter> MakeAdapter(Provider provider);

}  // namespace swarm::harness
