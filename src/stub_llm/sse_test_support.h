// Test support: reads a complete text/event-stream body back into events, checking the
// framing the CLIs rely on (every event ends with a blank line, every data line but the final
// [DONE] is one JSON value). Header-only, for *_test.cc here and the integration test.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace swarm::stub_llm::test_support {

struct SseEvent {
  std::string name;     // the `event:` line, or "" when there is none
  std::string data;     // the `data:` line
  nlohmann::json json;  // data parsed; discarded for [DONE]
};

struct SseParse {
  std::vector<SseEvent> events;
  std::string error;  // empty when the body is well-formed

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& e : events) names.push_back(e.name);
    return names;
  }
  // The `type` field of each event's data ("" for [DONE]).
  std::vector<std::string> Types() const {
    std::vector<std::string> types;
    for (const auto& e : events) {
      types.push_back(e.json.is_object() ? e.json.value("type", "") : "");
    }
    return types;
  }
};

inline SseParse ParseSse(std::string_view body) {
  SseParse out;
  if (body.size() < 2 || body.substr(body.size() - 2) != "\n\n") {
    out.error = "the stream does not end with a blank line";
    return out;
  }
  std::size_t pos = 0;
  while (pos < body.size()) {
    const std::size_t end = body.find("\n\n", pos);
    std::string_view block = body.substr(pos, end - pos);
    pos = end + 2;
    SseEvent event;
    std::size_t line_start = 0;
    while (line_start <= block.size()) {
      std::size_t nl = block.find('\n', line_start);
      std::string_view line = block.substr(
          line_start, nl == std::string_view::npos ? std::string_view::npos : nl - line_start);
      if (line.rfind("event: ", 0) == 0) {
        event.name = std::string(line.substr(7));
      } else if (line.rfind("data: ", 0) == 0) {
        if (!event.data.empty()) {
          out.error = "an event with two data lines";
          return out;
        }
        event.data = std::string(line.substr(6));
      } else {
        out.error = "an unexpected line: " + std::string(line);
        return out;
      }
      if (nl == std::string_view::npos) break;
      line_start = nl + 1;
    }
    if (event.data != "[DONE]") {
      event.json = nlohmann::json::parse(event.data, nullptr, false);
      if (event.json.is_discarded()) {
        out.error = "a data line that is not JSON: " + event.data;
        return out;
      }
    }
    out.events.push_back(std::move(event));
  }
  return out;
}

}  // namespace swarm::stub_llm::test_support
