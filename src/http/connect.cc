#include "http/connect.h"

#include <array>
#include <utility>

#include "core/bounded_json.h"

namespace swarm::http::connect {
namespace {

struct CodeStatus {
  std::string_view code;
  int status;
};

// connectrpc.com/docs/protocol#error-codes
constexpr std::array<CodeStatus, 16> kCodes{{
    {"canceled", 499},
    {"unknown", 500},
    {"invalid_argument", 400},
    {"deadline_exceeded", 504},
    {"not_found", 404},
    {"already_exists", 409},
    {"permission_denied", 403},
    {"resource_exhausted", 429},
    {"failed_precondition", 400},
    {"aborted", 409},
    {"out_of_range", 400},
    {"unimplemented", 501},
    {"internal", 500},
    {"unavailable", 503},
    {"data_loss", 500},
    {"unauthenticated", 401},
}};

// Small documents from a peer: JSON end-of-stream and error bodies.
constexpr std::size_t kMaxErrorBytes = 64 * 1024;
constexpr int kMaxErrorDepth = 16;

}  // namespace

std::string EncodeEnvelope(std::string_view payload, uint8_t flags) {
  std::string out;
  out.reserve(kEnvelopeHeaderBytes + payload.size());
  const auto n = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload);
  return out;
}

std::string EncodeMessage(const nlohmann::json& message) {
  return EncodeEnvelope(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string EncodeEndStream(const std::optional<ConnectError>& error) {
  nlohmann::json end = nlohmann::json::object();
  if (error) end["error"] = {{"code", error->code}, {"message", error->message}};
  return EncodeEnvelope(end.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        kFlagEndStream);
}

Result<void> EnvelopeDecoder::Feed(std::string_view bytes) {
  if (failed_) return tl::unexpected(*failed_);
  // Drop what Next() has handed out before growing the buffer.
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
  // Check every complete header now, so an oversized length fails before its bytes pile up.
  std::size_t at = 0;
  while (buffer_.size() - at >= kEnvelopeHeaderBytes) {
    const auto flags = static_cast<uint8_t>(buffer_[at]);
    const uint32_t length = (static_cast<uint32_t>(static_cast<uint8_t>(buffer_[at + 1])) << 24) |
                            (static_cast<uint32_t>(static_cast<uint8_t>(buffer_[at + 2])) << 16) |
                            (static_cast<uint32_t>(static_cast<uint8_t>(buffer_[at + 3])) << 8) |
                            static_cast<uint32_t>(static_cast<uint8_t>(buffer_[at + 4]));
    if ((flags & kFlagCompressed) != 0) {
      failed_ = Error{ErrorCode::kBadRequest, "a compressed Connect envelope was not negotiated"};
    } else if (length > max_message_bytes_) {
      failed_ = Error{ErrorCode::kPayloadTooLarge,
                      "a Connect message of " + std::to_string(length) + " bytes is over the " +
                          std::to_string(max_message_bytes_) + "-byte limit"};
    }
    if (failed_) return tl::unexpected(*failed_);
    if (buffer_.size() - at - kEnvelopeHeaderBytes < length) break;
    at += kEnvelopeHeaderBytes + length;
  }
  return {};
}

std::optional<Envelope> EnvelopeDecoder::Next() {
  if (failed_) return std::nullopt;
  const std::size_t available = buffer_.size() - consumed_;
  if (available < kEnvelopeHeaderBytes) return std::nullopt;
  const char* p = buffer_.data() + consumed_;
  const uint32_t length = (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 24) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 16) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(p[3])) << 8) |
                          static_cast<uint32_t>(static_cast<uint8_t>(p[4]));
  if (available - kEnvelopeHeaderBytes < length) return std::nullopt;
  Envelope envelope;
  envelope.flags = static_cast<uint8_t>(p[0]);
  envelope.payload.assign(p + kEnvelopeHeaderBytes, length);
  consumed_ += kEnvelopeHeaderBytes + length;
  return envelope;
}

Result<std::optional<ConnectError>> ParseEndStream(std::string_view payload) {
  auto doc = ParseBoundedJson(payload, {kMaxErrorDepth, kMaxErrorBytes});
  if (!doc || !doc->is_object()) {
    return BadRequest("the Connect end-of-stream message is not a JSON object");
  }
  auto it = doc->find("error");
  if (it == doc->end() || it->is_null()) return std::optional<ConnectError>();
  ConnectError error{"unknown", ""};
  if (it->is_object()) {
    if (auto c = it->find("code"); c != it->end() && c->is_string()) error.code = *c;
    if (auto m = it->find("message"); m != it->end() && m->is_string()) error.message = *m;
  }
  return std::optional<ConnectError>(std::move(error));
}

std::string EncodeUnaryError(const ConnectError& error) {
  return nlohmann::json{{"code", error.code}, {"message", error.message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ConnectError ParseUnaryError(int http_status, std::string_view body) {
  ConnectError error{CodeForHttpStatus(http_status), ""};
  auto doc = ParseBoundedJson(body, {kMaxErrorDepth, kMaxErrorBytes});
  if (doc && doc->is_object()) {
    if (auto c = doc->find("code"); c != doc->end() && c->is_string()) error.code = *c;
    if (auto m = doc->find("message"); m != doc->end() && m->is_string()) error.message = *m;
  }
  if (error.message.empty()) error.message = "HTTP " + std::to_string(http_status);
  return error;
}

int HttpStatusForCode(std::string_view code) {
  for (const auto& entry : kCodes) {
    if (entry.code == code) return entry.status;
  }
  return 500;
}

std::string CodeForHttpStatus(int http_status) {
  // As connect clients infer a code from a bare status.
  switch (http_status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

std::string CodeForError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "invalid_argument";
    case ErrorCode::kUnauthorized:
      return "unauthenticated";
    case ErrorCode::kForbidden:
      return "permission_denied";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "failed_precondition";
    case ErrorCode::kPayloadTooLarge:
      return "resource_exhausted";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

ErrorCode ErrorForCode(std::string_view code) {
  if (code == "invalid_argument" || code == "out_of_range") return ErrorCode::kBadRequest;
  if (code == "unauthenticated") return ErrorCode::kUnauthorized;
  if (code == "permission_denied") return ErrorCode::kForbidden;
  if (code == "not_found") return ErrorCode::kNotFound;
  if (code == "already_exists" || code == "aborted" || code == "failed_precondition") {
    return ErrorCode::kConflict;
  }
  if (code == "resource_exhausted") return ErrorCode::kPayloadTooLarge;
  if (code == "unavailable" || code == "deadline_exceeded" || code == "canceled") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

}  // namespace swarm::http::connect
