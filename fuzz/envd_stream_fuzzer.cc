// The E2B client's reader of envd's process streams (Start and Connect replies): a Connect
// stream of JSON events it does not control, cut in two where the first byte says, as the
// network might; then the base64 of `bytes` fields on its own.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sandbox/envd_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::sandbox;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = text.empty() ? 0 : data[0] % (text.size() + 1);
  ProcessStreamDecoder decoder(4096);
  std::size_t events = 0;
  // The callback stops the stream after a few events, as a background start does on `start`.
  const auto on_event = [&](const ProcessStreamEvent& event) {
    (void)event.stdout_bytes.size();
    return ++events < 64;
  };
  for (std::string_view piece : {text.substr(0, cut), text.substr(cut)}) {
    auto fed = decoder.Feed(piece, on_event);
    if (!fed || !*fed) break;
  }
  (void)decoder.Finish();
  (void)decoder.ended();
  if (auto decoded = Base64Decode(text)) (void)Base64Encode(*decoded);
  return 0;
}
