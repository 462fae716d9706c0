// RunHarness: Prepare → run → parse → judge. The verdict is the CLI's own (its error fields),
// overridden only by what happened to the process (timeout, cancel); failure reasons name the
// cause in the words the task's owner needs.
#include <cstdio>
#include <string>

#include "core/log.h"
#include "core/redact.h"
#include "harness/adapter.h"
#include "harness/cli_support.h"
#include "harness/json_extract.h"
#include "harness/pricing.h"
#include "harness/process_hardening.h"

namespace swarm::harness {
namespace {

using Clock = std::chrono::steady_clock;

// The most of stderr a failure reason quotes: enough for an error message and its context.
constexpr size_t kStderrQuote = 1000;

std::string Seconds(std::chrono::milliseconds duration) {
  char buf[32];
  if (duration.count() % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(duration.count() / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(duration.count()) / 1000.0);
  }
  return buf;
}

std::string TrimmedTail(const std::string& text, size_t max) {
  const size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return {};
  const size_t begin = text.find_first_not_of(" \t\r\n");
  std::string trimmed = text.substr(begin, end - begin + 1);
  if (trimmed.size() > max) trimmed = "…" + trimmed.substr(trimmed.size() - max);
  return trimmed;
}

std::string FailureReason(const std::string& name, const ParsedRun& parsed,
                          const ProcessOutcome& outcome) {
  std::string reason = name + " failed: " + parsed.error.value_or("it reported no error message");
  const bool abnormal = outcome.signal != 0 || outcome.exit_code != 0;
  if (outcome.signal != 0) {
    reason += " (killed by signal " + std::to_string(outcome.signal) + ")";
  } else if (outcome.exit_code != 0) {
    reason += " (exit code " + std::to_string(outcome.exit_code) + ")";
  }
  // A CLI that died abnormally often says why only on stderr.
  if (abnormal || !parsed.error) {
    if (std::string tail = TrimmedTail(outcome.stderr_tail, kStderrQuote); !tail.empty()) {
      reason += "; stderr: " + tail;
    }
  }
  return reason;
}

void PriceRun(const ParsedRun& parsed, RunResult& result) {
  if (parsed.cost_usd) {
    result.cost_usd = parsed.cost_usd;
    result.cost_source = "harness";
    return;
  }
  if (result.model) {
    result.cost_usd =
        PriceTokens(*result.model, result.usage.input_tokens, result.usage.output_tokens);
  }
  result.cost_source = result.cost_usd ? "pricing-table" : "unpriced";
}

}  // namespace

RunResult RunHarness(const Adapter& adapter, ProcessRunner& runner, const TaskRun& run,
                     const ModelEndpoint& endpoint, const RunCallbacks& callbacks,
                     const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  const std::string name = ProviderName(adapter.provider());
  RunResult result;
  auto done = [&]() -> RunResult {
    result.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    // Reasons quote CLI output and stderr; no registered secret leaves through them.
    if (result.failure_reason) result.failure_reason = Redact(*result.failure_reason);
    return std::move(result);
  };

  if (cancel != nullptr && cancel->load()) {
    result.cancelled = true;
    result.failure_reason = "cancelled before " + name + " started";
    return done();
  }
  auto spec = adapter.Prepare(run, endpoint);
  if (!spec) {
    result.failure_reason = name + ": cannot prepare the run: " + spec.error().message;
    return done();
  }

  if (run.run_as) {
    spec->run_as = run.run_as;
    for (const auto& dir : {run.work_dir, run.home_dir}) {
      if (auto handed = ChownTree(dir, *run.run_as); !handed) {
        result.failure_reason = name + ": cannot prepare the run: " + handed.error().message;
        return done();
      }
    }
  }

  auto parser = adapter.NewParser();
  bool session_reported = false;
  auto report_session = [&](const std::optional<std::string>& id) {
    if (session_reported || !id) return;
    session_reported = true;
    if (callbacks.on_session) callbacks.on_session(*id);
  };
  auto outcome = runner.Run(
      *spec,
      [&](std::string_view line) {
        parser->Feed(line);
        // Before the line itself: session logs are filed under the session id.
        report_session(parser->session_id());
        if (callbacks.on_line) callbacks.on_line(line);
      },
      cancel);
  if (!outcome) {
    result.failure_reason = "cannot start " + name + ": " + outcome.error().message;
    return done();
  }

  if (outcome->cut_lines > 0) {
    log::Warn("harness output lines cut at the line limit",
              {{"taskId", run.task_id}, {"provider", name}, {"lines", outcome->cut_lines}});
  }

  ParsedRun parsed = parser->Finish(*outcome);
  report_session(parsed.session_id);
  result.session_id = parsed.session_id;
  result.final_text = parsed.final_text;
  result.usage = parsed.usage;
  // Codex never names its model in its output: fall back to the one the adapter configured,
  // so the run can still be priced by the table.
  result.model = parsed.model ? *parsed.model : cli::ModelOrDefault(endpoint);
  result.num_turns = parsed.num_turns;
  result.cancelled = outcome->cancelled;
  // Without a configured server nothing the output says about MCP is ours (codex reports a
  // started run as connected, a pi tool may share a swarm tool's name).
  if (run.mcp) {
    result.mcp_status = parsed.mcp_status;
    result.mcp_calls = std::move(parsed.mcp_calls);
  }
  PriceRun(parsed, result);
  // The server judges the value against the schema; a reply without one is its call too.
  if (run.output_schema) result.output = ExtractJsonValue(parsed.final_text);

  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (outcome->cancelled) {
    result.failure_reason = "cancelled: " + name + " was stopped after " + Seconds(elapsed);
  } else if (outcome->timed_out) {
    result.failure_reason = name + " timed out after " + Seconds(spec->timeout);
  } else if (!parsed.ok) {
    result.failure_reason = FailureReason(name, parsed, *outcome);
  } else {
    result.ok = true;
  }
  return done();
}

}  // namespace swarm::harness
