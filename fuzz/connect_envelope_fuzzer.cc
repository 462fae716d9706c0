// The Connect envelope decoder and the end-of-stream and unary error parsers: what the E2B
// client reads from an envd stream it does not control.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/connect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::http::connect;
  if (size == 0) return 0;
  // The first byte picks where the stream is cut in two, as the network might.
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = text.empty() ? 0 : data[0] % (text.size() + 1);
  EnvelopeDecoder decoder(4096);
  for (std::string_view piece : {text.substr(0, cut), text.substr(cut)}) {
    if (!decoder.Feed(piece)) return 0;
    while (auto envelope = decoder.Next()) {
      if (envelope->end_stream()) (void)ParseEndStream(envelope->payload);
    }
  }
  (void)decoder.mid_envelope();
  (void)ParseUnaryError(404, text);
  return 0;
}
