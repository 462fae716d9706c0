// Server-sent events as one complete body. The HTTP server writes whole responses, and every
// CLI parses a finished text/event-stream body as it would a live one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace swarm::stub_llm {

// Compact JSON; invalid UTF-8 becomes U+FFFD instead of throwing, so no reply text can make
// an encoder fail.
std::string Dump(const nlohmann::json& value);

class SseWriter {
 public:
  // "event: <name>\ndata: <json>\n\n" (Anthropic Messages, OpenAI Responses).
  void Event(std::string_view name, const nlohmann::json& data);
  // "data: <json>\n\n" (Chat Completions).
  void Data(const nlohmann::json& data);
  // "data: [DONE]\n\n", the end of a Chat Completions stream.
  void Done();

  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// `text` cut into pieces of about `piece_bytes`, never inside a UTF-8 sequence, so a stream
// sends several deltas the way a model does (clients must concatenate them). An empty text is
// one empty piece.
std::vector<std::string> SplitForStreaming(std::string_view text, std::size_t piece_bytes = 16);

}  // namespace swarm::stub_llm
