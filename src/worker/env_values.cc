#include "worker/env_values.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

extern char** environ;

namespace swarm::worker {
namespace {

std::string Trim(std::string_view text) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  auto begin = std::find_if(text.begin(), text.end(), not_space);
  auto end = std::find_if(text.rbegin(), text.rend(), not_space).base();
  return begin < end ? std::string(begin, end) : std::string();
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::optional<std::string> EnvValue(const EnvMap& env, std::string_view name) {
  auto it = env.find(std::string(name));
  if (it == env.end()) return std::nullopt;
  std::string value = Trim(it->second);
  if (value.empty()) return std::nullopt;
  return value;
}

Result<bool> ParseBoolVar(const EnvMap& env, std::string_view name, bool fallback) {
  auto value = EnvValue(env, name);
  if (!value) return fallback;
  const std::string v = Lower(*value);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return BadRequest(fmt::format(
      "{} must be a boolean (true/false, 1/0, yes/no, on/off), got \"{}\"", name, *value));
}

Result<int> ParseIntVar(const EnvMap& env, std::string_view name, int min, int max, int fallback) {
  auto value = EnvValue(env, name);
  if (!value) return fallback;
  int parsed = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc() || ptr != end || parsed < min || parsed > max) {
    return BadRequest(
        fmt::format("{} must be an integer from {} to {}, got \"{}\"", name, min, max, *value));
  }
  return parsed;
}

Result<std::chrono::milliseconds> ParseDurationVar(const EnvMap& env, std::string_view name,
                                                   std::chrono::milliseconds unit, double min,
                                                   double max, std::chrono::milliseconds fallback) {
  auto value = EnvValue(env, name);
  if (!value) return fallback;
  double parsed = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc() || ptr != end || !std::isfinite(parsed) || parsed < min || parsed > max) {
    return BadRequest(
        fmt::format("{} must be a number from {} to {}, got \"{}\"", name, min, max, *value));
  }
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::llround(parsed * static_cast<double>(unit.count()))));
}

Result<std::string> NormalizeBaseUrl(std::string_view what, std::string url) {
  url = Trim(url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  const bool http = url.rfind("http://", 0) == 0 && url.size() > 7;
  const bool https = url.rfind("https://", 0) == 0 && url.size() > 8;
  if (!http && !https) {
    // The URL is not a secret, but it may embed credentials (user:pass@): name the rule only.
    return BadRequest(fmt::format("{} must be an http:// or https:// URL", what));
  }
  return url;
}

EnvMap ProcessEnvironment() {
  EnvMap env;
  for (char** p = environ; p && *p; ++p) {
    std::string_view entry(*p);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

}  // namespace swarm::worker
