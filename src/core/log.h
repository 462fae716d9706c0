// Structured logging: every line is one JSON object on stderr, {"ts","level","msg",...}, with
// registered secrets redacted. The access log uses the same stream.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace swarm::log {

// Sends log lines to stderr, one JSON object per line. Call once at start-up.
void Init();

void Info(std::string_view msg, nlohmann::json fields = nlohmann::json::object());
void Warn(std::string_view msg, nlohmann::json fields = nlohmann::json::object());
void Error(std::string_view msg, nlohmann::json fields = nlohmann::json::object());

}  // namespace swarm::log
