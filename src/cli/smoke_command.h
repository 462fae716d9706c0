// `agent-swarm smoke`: a provider smoke run from the command line. Against a deployed API
// (the default) it starts the run with POST /api/smoke-runs and follows GET
// /api/smoke-runs/{id}, showing each provider's progress, then prints a table (or the run's
// JSON). With --local it first starts its own sandboxd, api (and stub-llm with --stub-model)
// on loopback (cli/local_smoke.h) and stops them afterwards. Exit status 0 when every
// provider passed, 1 when one failed or the run did not finish, 2 for bad usage.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/App.hpp>
#include <nlohmann/json.hpp>

#include "client/swarm_client.h"
#include "core/error.h"
#include "core/smoke_run.h"
#include "http/client.h"

namespace swarm {

inline constexpr int kSmokePassed = 0;
inline constexpr int kSmokeFailed = 1;
inline constexpr int kSmokeUsage = 2;

// Following a run stops this long after its per-provider timeout: sandbox creation, the
// worker's registration (the runner waits up to 90 s) and the sandbox kills come on top.
inline constexpr std::chrono::seconds kSmokeFollowMargin{180};

struct SmokeFlags {
  std::string providers;  // comma-separated, as typed
  std::string api_url;
  std::string template_id;
  std::string sha;
  std::optional<int64_t> timeout_sec;
  std::optional<int64_t> sandbox_timeout_sec;
  bool local = false;
  bool stub_model = false;
  bool json = false;
  bool allow_version_skew = false;
  std::string api_key_file;
  std::string api_key;  // only to refuse it: argv is readable by every process
};

// "claude,codex" → {"claude","codex"}: each one of kSmokeProviders, none twice, at least one;
// blanks around names are dropped. An error naming the offending name otherwise.
Result<std::vector<std::string>> ParseProviderList(std::string_view csv);

// The checks CLI11 cannot express: --stub-model needs --local, --local starts its own API so
// takes no --api-url, --sha is what the API accepts. kBadRequest naming the flag.
Result<void> CheckSmokeFlags(const SmokeFlags& flags);

// The POST /api/smoke-runs body: what the flags set, nothing else (the API fills in its
// defaults: template, its own URL and key for the workers, deployment sha). Never a secret.
nlohmann::json SmokeRequestBody(const SmokeFlags& flags, const std::vector<std::string>& providers,
                                const std::optional<std::string>& model_base_url);

// How long to follow a run: its per-provider timeout (the flag, else the API's default of
// 300 s) plus kSmokeFollowMargin.
std::chrono::milliseconds SmokeFollowBound(const SmokeFlags& flags);

// What a provider is doing, in words: "creating sandbox", "sandbox up, starting worker", ...
std::string SmokePhaseLabel(const ProviderSmokeResult& result);

// The live progress of a run for stderr. On a terminal, a block of one line per provider
// (provider, phase, sandbox, elapsed) redrawn in place at every update; otherwise one plain
// line per phase change. No I/O: Update returns the text to write.
class SmokeProgressView {
 public:
  explicit SmokeProgressView(bool terminal) : terminal_(terminal) {}
  // The text that brings the display up to `results`, seen `elapsed` after the run started.
  std::string Update(const std::vector<ProviderSmokeResult>& results,
                     std::chrono::milliseconds elapsed);

 private:
  std::string Block(const std::vector<ProviderSmokeResult>& results,
                    std::chrono::milliseconds elapsed);
  std::string PlainLines(const std::vector<ProviderSmokeResult>& results,
                         std::chrono::milliseconds elapsed);
  // A provider's elapsed time: the run's while it goes, its own total once done.
  int64_t ElapsedMs(const ProviderSmokeResult& result, std::chrono::milliseconds elapsed);

  bool terminal_;
  std::size_t lines_drawn_ = 0;                    // terminal: the block's height so far
  std::map<std::string, std::string> last_shown_;  // plain: provider → last label shown
  std::map<std::string, int64_t> done_at_ms_;      // provider → elapsed when first seen done
};

// The closing report: a table (provider, ok, status, session id, cost, time, reason), the
// full text of reasons the table had to cut, and a summary line.
std::string RenderSmokeReport(const SmokeRun& run);

// 0 when the run passed with every provider ok, else 1 (failed, interrupted, still running).
int SmokeExitStatus(const SmokeRun& run);

// Where the remote flow writes, and what stops it.
struct SmokeConsole {
  std::ostream& out;
  std::ostream& err;
  bool err_is_terminal = false;
  bool json = false;                        // the final run JSON on `out` instead of the table
  const std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM: stop following
  std::chrono::milliseconds poll_interval{300};
  bool api_outlives_command = true;  // false for --local's API, stopped with the command
};

// The remote flow against `api`: POST /api/smoke-runs `body`, follow the run every
// poll_interval until it is no longer running (or `bound` passes, or stop is set), showing
// progress on err, then the report on out. Returns the exit status: 0 every provider ok,
// 1 otherwise, 2 when the API refused the request as malformed (400).
int RunRemoteSmoke(SwarmClient& api, const nlohmann::json& body, std::chrono::milliseconds bound,
                   SmokeConsole& console);

// Starts a local stack for --local (cli/local_smoke.h in the real process) and runs `run`
// against it; returns the exit status. `run` receives the API's URL, its key and the model
// base URL (stub-llm's, with --stub-model).
using SmokeStackRunner = std::function<int(
    const SmokeFlags& flags,
    const std::function<int(const std::string& api_url, const std::string& api_key,
                            const std::optional<std::string>& model_base_url)>& run)>;

// Everything the command takes from outside its flags, so tests can replace it.
struct SmokeCliEnvironment {
  std::map<std::string, std::string> process_env;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool err_is_terminal = false;
  std::function<std::unique_ptr<http::HttpClient>()> make_http;
  std::chrono::milliseconds poll_interval{300};
  // Set when the user asks the command to stop (SIGINT/SIGTERM in the real process, which
  // installs the handler when the command starts); may be null.
  std::function<const std::atomic<bool>*()> watch_stop_signals;
  SmokeStackRunner run_local;
  // Called before the command runs: JSON log lines on stderr, warnings and errors only (the
  // progress display is the command's output there). Empty: leave logging alone.
  std::function<void()> init_logging;
};

void AddSmokeCommand(CLI::App& root, std::shared_ptr<SmokeCliEnvironment> env);

// This process's environment, streams, curl, signal handling and the local stack.
std::shared_ptr<SmokeCliEnvironment> ProcessSmokeEnvironment();

// Runs `agent-swarm <args>` with only the smoke command registered; the exit status (tests).
int RunSmokeCommandLine(std::vector<std::string> args, std::shared_ptr<SmokeCliEnvironment> env);

}  // namespace swarm
