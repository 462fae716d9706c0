// The Connect protocol's wire pieces (connectrpc.com/docs/protocol), as envd speaks them with
// JSON codecs: the 5-byte envelope of streaming calls ([flags:1][length:4 big-endian][payload]),
// the end-of-stream envelope with its optional error, and the error codes with their HTTP
// statuses. Both sides use it: sandboxd writes envelopes, the E2B client decodes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace swarm::http::connect {

inline constexpr std::string_view kStreamContentType = "application/connect+json";
inline constexpr std::string_view kUnaryContentType = "application/json";
inline constexpr uint8_t kFlagCompressed = 0x01;
inline constexpr uint8_t kFlagEndStream = 0x02;
inline constexpr std::size_t kEnvelopeHeaderBytes = 5;
// A message larger than this is refused by default (envd's own messages are small: output
// arrives in pieces of at most 32 KiB).
inline constexpr std::size_t kDefaultMaxMessageBytes = 4 << 20;

// A Connect error: `code` is one of the protocol's names ("not_found", "invalid_argument", …).
struct ConnectError {
  std::string code;
  std::string message;
};

struct Envelope {
  uint8_t flags = 0;
  std::string payload;
  bool end_stream() const { return (flags & kFlagEndStream) != 0; }
};

// One envelope carrying `payload`.
std::string EncodeEnvelope(std::string_view payload, uint8_t flags = 0);
std::string EncodeMessage(const nlohmann::json& message);  // a data envelope of its JSON
// The last envelope of a stream: {} or {"error":{"code":…,"message":…}}.
std::string EncodeEndStream(const std::optional<ConnectError>& error = std::nullopt);

// Reassembles envelopes from bytes that arrive in pieces of any size. Refuses (and stays
// failed) on a length over the limit, before buffering it, and on a compressed envelope, which
// nobody here negotiates.
class EnvelopeDecoder {
 public:
  explicit EnvelopeDecoder(std::size_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}

  Result<void> Feed(std::string_view bytes);
  // The next complete envelope, if one is buffered.
  std::optional<Envelope> Next();
  // Bytes of an envelope that has not arrived in full (a stream that ends here was cut).
  bool mid_envelope() const { return buffer_.size() > consumed_; }

 private:
  std::size_t max_message_bytes_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // of buffer_, already returned by Next
  std::optional<Error> failed_;
};

// The error an end-of-stream payload carries, nullopt for a clean end; a payload that is not
// JSON or not an object is an error of its own.
Result<std::optional<ConnectError>> ParseEndStream(std::string_view payload);

// A unary error body: {"code":"not_found","message":"…"}.
std::string EncodeUnaryError(const ConnectError& error);
// The error of a unary reply with a non-200 status: from the body when it is Connect's JSON
// error, else inferred from the status as connect clients do.
ConnectError ParseUnaryError(int http_status, std::string_view body);

// The HTTP status a Connect code maps to (unknown codes: 500), and back (as clients infer it).
int HttpStatusForCode(std::string_view code);
std::string CodeForHttpStatus(int http_status);

// The Connect code for one of our ErrorCodes, and the ErrorCode a Connect code stands for.
std::string CodeForError(ErrorCode code);
ErrorCode ErrorForCode(std::string_view code);

}  // namespace swarm::http::connect
