// `agent-swarm smoke --local`: the whole swarm on this machine for one smoke run. On loopback
// ports the OS picks: sandboxd (the E2B-compatible sandbox server, root in a temp dir), with
// --stub-model stub-llm answering {"reply":"pong"}, then the local worker template built in
// sandboxd, then an API whose smoke runner uses that sandboxd. The run goes through the API as
// against a deployed one; afterwards everything is stopped, and sandboxd is asked for what is
// left (it must be nothing). Each child gets its secrets (random keys made here, provider
// credentials) in its environment, never in argv.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/smoke_command.h"

namespace swarm {

using EnvMap = std::map<std::string, std::string>;

// The provider credentials the local API takes from the caller's environment: every variable
// smoke::ProviderCredentialVars names for any provider, and the model endpoints. With
// --stub-model none are taken; stand-in keys make the preflight pass instead.
inline constexpr const char* kPassedCredentialVars[] = {
    "ANTHROPIC_API_KEY",  "OPENAI_API_KEY",  "OPENROUTER_API_KEY",
    "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "OPENROUTER_BASE_URL"};

// The environment every child starts from: only what a process needs to run (PATH, HOME,
// TMPDIR, locale, USER), never the caller's secrets.
EnvMap BaseChildEnv(const EnvMap& process_env);

// Where the workers find the harness CLIs: $HARNESS_BIN_DIR when set, else
// <repo>/.harnesses/node_modules/.bin when the binary runs from <repo>/<build dir>/ and that
// directory exists (./scripts/setup.sh installs the CLIs there); std::nullopt otherwise.
std::optional<std::string> HarnessBinDir(const EnvMap& process_env, const std::string& self_exe);

struct LocalApiPlan {
  std::vector<std::string> args;  // after argv[0]
  EnvMap env;
};

// How the API is started: its database in `work_dir`, smoke sandboxes on the local sandboxd
// (E2B_API_URL/E2B_API_KEY/E2B_SANDBOX_URL), `template_id` for smoke runs, the worker env a
// sandbox over this machine's root needs (AGENT_SWARM_BIN, HARNESS_BIN_DIR, PATH) as
// --smoke-worker-env, provider credentials per kPassedCredentialVars or, with `stub_model`,
// stand-in keys. Secrets (api_key, sandboxd_key, credentials) only in env.
LocalApiPlan PlanLocalApi(const EnvMap& process_env, const std::string& self_exe,
                          const std::string& work_dir, const std::string& api_key,
                          const std::string& sandboxd_url, const std::string& sandboxd_key,
                          const std::string& template_id, bool stub_model);

// A fresh random key for a local child (32 hex digits from the OS's generator).
std::string RandomLocalKey(const std::string& prefix);

// Starts the stack, runs `run` against its API, stops it all (also when `stop` is set by a
// signal midway) and returns the exit status: `run`'s, or 1 when the stack failed or left a
// sandbox behind. Progress and errors go to `err`.
int RunLocalSmoke(const SmokeFlags& flags, const EnvMap& process_env, const std::atomic<bool>* stop,
                  std::ostream& err,
                  const std::function<int(const std::string& api_url, const std::string& api_key,
                                          const std::optional<std::string>& model_base_url)>& run);

}  // namespace swarm
