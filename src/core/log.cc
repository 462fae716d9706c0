#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/redact.h"

namespace swarm::log {
namespace {

void Write(spdlog::level::level_enum level, const char* name, std::string_view msg,
           nlohmann::json fields) {
  nlohmann::json line = {
      {"ts", FormatIsoTime(std::chrono::system_clock::now())}, {"level", name}, {"msg", msg}};
  if (fields.is_object()) line.update(fields);
  spdlog::log(level, "{}",
              Redact(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)));
}

}  // namespace

void Init() {
  auto logger = spdlog::stderr_logger_mt("swarm");
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
}

void Info(std::string_view msg, nlohmann::json fields) {
  Write(spdlog::level::info, "info", msg, std::move(fields));
}
void Warn(std::string_view msg, nlohmann::json fields) {
  Write(spdlog::level::warn, "warn", msg, std::move(fields));
}
void Error(std::string_view msg, nlohmann::json fields) {
  Write(spdlog::level::err, "error", msg, std::move(fields));
}

}  // namespace swarm::log
