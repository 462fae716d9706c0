// Structured logging: every line is one JSON object on stderr, {"ts","level","msg",...}, with
// registered secrets redacted. Event lines are written at once; access lines are buffered and
// written at least once a second (a busy server would otherwise spend a write(2) per request),
// so a kill -9 can lose up to a second of access lines, never an event.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace swarm::log {

// Sends log lines to stderr, one JSON object per line. Call once at start-up.
void Init();
// Writes out buffered lines (also done every second, and at exit of the API server).
void Flush();

void Info(std::string_view msg, nlohmann::json fields = nlohmann::json::object());
void Warn(std::string_view msg, nlohmann::json fields = nlohmann::json::object());
void Error(std::string_view msg, nlohmann::json fields = nlohmann::json::object());

// One access-log line, already a JSON object; buffered.
void Access(std::string_view line);

}  // namespace swarm::log
