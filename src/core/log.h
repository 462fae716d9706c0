// Structured logging: every line is one JSON object on stderr, {"ts","level","msg",...}, with
// registered secrets redacted. Event lines are handed to the writer at once; access lines are
// buffered and handed over at least once a second (a busy server would otherwise spend a
// write(2) per request), so a kill -9 can lose up to a second of access lines. A thread of its
// own writes to stderr (core/log_sink.h): a stderr that is full or closed drops lines (counted,
// and reported once it works again) instead of blocking a request thread or raising SIGPIPE.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace swarm::log {

// Sends log lines to stderr, one JSON object per line. Call once at start-up.
void Init();
// The same, to another descriptor (tests).
void Init(int fd);
// Writes out buffered lines (also done every second, and at exit of the API server).
void Flush();

void Info(std::string_view msg, nlohmann::json fields = nlohmann::json::object());
void Warn(std::string_view msg, nlohmann::json fields = nlohmann::json::object());
void Error(std::string_view msg, nlohmann::json fields = nlohmann::json::object());

// One access-log line, already a JSON object; buffered.
void Access(std::string_view line);

}  // namespace swarm::log
