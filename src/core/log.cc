#include "core/log.h"

#include <unistd.h>

#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/log_sink.h"
#include "core/redact.h"

namespace swarm::log {
namespace {

// Appends formatted lines to a buffer and hands it to the fd writer on flush or when it grows
// past kFlushBytes; the writer's thread does the write(2), so no caller waits for stderr.
// spdlog's base_sink serializes calls with the mutex.
class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BufferedFdSink(int fd) : writer_(fd) {}
  ~BufferedFdSink() override {
    // At exit (spdlog's registry goes): what is buffered still gets its chance.
    std::lock_guard lock(mutex_);
    flush_();
    writer_.Drain(std::chrono::seconds(1));
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kFlushBytes) flush_();
  }
  void flush_() override {
    writer_.Write(buffer_);
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kFlushBytes = 32 * 1024;
  std::string buffer_;
  AsyncFdWriter writer_;
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

void Init() { Init(STDERR_FILENO); }

void Init(int fd) {
  auto logger = std::make_shared<spdlog::logger>("swarm", std::make_shared<BufferedFdSink>(fd));
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
