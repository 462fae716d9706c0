// envd's process.Process/Start and /Connect replies: a Connect stream of JSON envelopes, each
// {"event":{start|data|end|keepalive}}, closed by an end-of-stream envelope that may carry an
// error. The decoder takes the body in pieces of any size, as libcurl hands it over.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/connect.h"

namespace swarm::sandbox {

struct ProcessStreamEvent {
  enum class Kind { kStart, kData, kEnd, kKeepalive, kOther };
  Kind kind = Kind::kOther;
  int pid = 0;               // kStart
  std::string stdout_bytes;  // kData, decoded from base64
  std::string stderr_bytes;  // kData; a pty's output counts as stdout
  int exit_code = 0;         // kEnd; fields protojson omitted keep these defaults
  bool exited = false;
  std::string status;
  std::string error;
};

class ProcessStreamDecoder {
 public:
  // Return false to stop reading (a background start returns on its first event).
  using EventCallback = std::function<bool(const ProcessStreamEvent&)>;

  explicit ProcessStreamDecoder(
      std::size_t max_message_bytes = http::connect::kDefaultMaxMessageBytes)
      : envelopes_(max_message_bytes) {}

  // Decodes what `bytes` completes and calls `on_event` per event. Returns false when the
  // callback asked to stop; an error for a broken stream (bad framing, not JSON).
  Result<bool> Feed(std::string_view bytes, const EventCallback& on_event);

  // Once the body has ended: OK after a clean end-of-stream; the end-of-stream's error with
  // its Connect code mapped to an ErrorCode; kUnavailable when the stream was cut before it.
  Result<void> Finish() const;
  bool ended() const { return ended_; }

 private:
  http::connect::EnvelopeDecoder envelopes_;
  bool ended_ = false;
  std::optional<Error> end_error_;
};

// Standard base64 (RFC 4648 with padding), as protojson writes `bytes` fields.
std::string Base64Encode(std::string_view bytes);
// Decodes standard or URL-safe base64, padded or not; nullopt when it is not base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace swarm::sandbox
