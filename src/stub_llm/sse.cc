#include "stub_llm/sse.h"

#include <algorithm>

namespace swarm::stub_llm {

std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void SseWriter::Event(std::string_view name, const nlohmann::json& data) {
  out_ += "event: ";
  out_ += name;
  out_ += '\n';
  Data(data);
}

void SseWriter::Data(const nlohmann::json& data) {
  out_ += "data: ";
  out_ += Dump(data);
  out_ += "\n\n";
}

void SseWriter::Done() { out_ += "data: [DONE]\n\n"; }

std::vector<std::string> SplitForStreaming(std::string_view text, std::size_t piece_bytes) {
  if (piece_bytes == 0) piece_bytes = 1;
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + piece_bytes);
    // Back up over UTF-8 continuation bytes (10xxxxxx) so a sequence stays whole.
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (end == start) end = std::min(text.size(), start + piece_bytes);  // not UTF-8: cut anyway
    pieces.emplace_back(text.substr(start, end - start));
    start = end;
  }
  if (pieces.empty()) pieces.emplace_back();
  return pieces;
}

}  // namespace swarm::stub_llm
