// Parsing of single environment values for the worker's configuration. Each parser names the
// variable in its error, so a bad value is reported as "MAX_CONCURRENT_TASKS must be ...".
// Values are never echoed for variables that may hold secrets; these parsers only see
// non-secret settings.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace swarm::worker {

using EnvMap = std::map<std::string, std::string>;

// The value of `name`, trimmed of surrounding whitespace; nullopt when unset or blank (a
// variable exported empty means "not given", as in shell scripts that default it).
std::optional<std::string> EnvValue(const EnvMap& env, std::string_view name);

// true/false, 1/0, yes/no, on/off (any case); `fallback` when unset.
Result<bool> ParseBoolVar(const EnvMap& env, std::string_view name, bool fallback);

// A decimal integer in [min, max]; `fallback` when unset.
Result<int> ParseIntVar(const EnvMap& env, std::string_view name, int min, int max, int fallback);

// A duration given as a (possibly fractional) number of `unit`s, in [min, max] units;
// `fallback` when unset. E.g. WORKER_API_READY_TIMEOUT_SECONDS=1.5 → 1500 ms.
Result<std::chrono::milliseconds> ParseDurationVar(const EnvMap& env, std::string_view name,
                                                   std::chrono::milliseconds unit, double min,
                                                   double max, std::chrono::milliseconds fallback);

// An http:// or https:// URL with no trailing slash. `what` names the variable.
Result<std::string> NormalizeBaseUrl(std::string_view what, std::string url);

// The process's own environment as a map (for FromEnv in production).
EnvMap ProcessEnvironment();

}  // namespace swarm::worker
