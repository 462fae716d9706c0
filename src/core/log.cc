#include "core/log.h"

#include <unistd.h>

#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/redact.h"

namespace swarm::log {
namespace {

// Appends formatted lines to a buffer and writes it to stderr on flush or when it grows past
// kFlushBytes. spdlog's base_sink serializes calls with the mutex.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kFlushBytes) flush_();
  }
  void flush_() override {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
      if (n <= 0) break;  // stderr is gone: drop the lines rather than block the server
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kFlushBytes = 32 * 1024;
  std::string buffer_;
};

void Write(spdlog::level::level_enum level, const char* name, std::string_view msg,
           nlohmann::json fields) {
  // Ordered, so every line starts with ts, level, msg whatever the fields are.
  nlohmann::ordered_json line = {
      {"ts", FormatIsoTime(std::chrono::system_clock::now())}, {"level", name}, {"msg", msg}};
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  }
  spdlog::log(level, "{}",
              Redact(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)));
  Flush();  // events are rare and matter: never leave one in the buffer
}

}  // namespace

void Init() {
  auto logger = std::make_shared<spdlog::logger>("swarm", std::make_shared<BufferedStderrSink>());
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

void Flush() { spdlog::default_logger_raw()->flush(); }

void Info(std::string_view msg, nlohmann::json fields) {
  Write(spdlog::level::info, "info", msg, std::move(fields));
}
void Warn(std::string_view msg, nlohmann::json fields) {
  Write(spdlog::level::warn, "warn", msg, std::move(fields));
}
void Error(std::string_view msg, nlohmann::json fields) {
  Write(spdlog::level::err, "error", msg, std::move(fields));
}

void Access(std::string_view line) { spdlog::info("{}", Redact(std::string(line))); }

}  // namespace swarm::log
