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
#include <vector>

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

// The swarm's MCP server as one task's CLI reaches it; the worker fills it per task. Each
// adapter configures its CLI with it (notes/harness-mcp.md has every CLI's verified shape),
// naming the secret by an environment variable, never writing it.
struct McpAccess {
  std::string url;       // the server's endpoint, e.g. http://127.0.0.1:3013/mcp
  std::string agent_id;  // sent as X-Agent-ID
  std::string task_id;   // sent as X-Source-Task-Id
  // The bearer (a task-scoped token, core/mcp_token.h, or the swarm key when MCP_AUTH=key). A
  // secret: only ever in the child's environment (kMcpTokenEnv), never in argv, a file or a log.
  std::string token;
};

// The server's name in every CLI's config: claude shows its tools as mcp__agent-swarm__*,
// codex in the namespace mcp__agent_swarm, opencode as agent-swarm_*.
inline constexpr char kMcpServerName[] = "agent-swarm";
// The child's environment variables the CLI configs (and pi's extension) read.
inline constexpr char kMcpTokenEnv[] = "SWARM_MCP_TOKEN";
inline constexpr char kMcpAgentEnv[] = "SWARM_AGENT_ID";
inline constexpr char kMcpUrlEnv[] = "SWARM_MCP_URL";
inline constexpr char kMcpTaskEnv[] = "SWARM_TASK_ID";

// Whether the CLI reached the MCP server, as far as its output tells. The CLIs drop an
// unreachable server silently, so the worker logs this for every task.
enum class McpStatus {
  kOff,        // the run had no MCP server configured
  kUnknown,    // the CLI does not say, and no MCP tool call was seen
  kConnected,  // the CLI said so, or an MCP tool was called
  kPending,    // claude: still connecting when the run started (it went on without the tools)
  kFailed,     // the CLI reported that the connection failed
};
const char* McpStatusName(McpStatus status);

// One call of a tool of the swarm's MCP server, as the CLI reported it.
struct McpToolCall {
  std::string tool;  // the MCP name, without the CLI's prefix: "store-progress"
  // store-progress's "status" argument (completed | failed), when the call carried one.
  std::optional<std::string> status_argument;
  std::optional<bool> is_error;  // the result's isError; nullopt: no result seen
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
  // The swarm's MCP server; nullopt runs the CLI without it (MCP_AUTH=off).
  std::optional<McpAccess> mcp;
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
  McpStatus mcp_status = McpStatus::kUnknown;
  std::vector<McpToolCall> mcp_calls;  // in the order they started
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
  McpStatus mcp_status = McpStatus::kOff;
  std::vector<McpToolCall> mcp_calls;
};

// Whether the agent finished the task itself: a store-progress call with a status that the
// server accepted (its result was no error).
bool FinishedThroughMcp(const RunResult& result);

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
