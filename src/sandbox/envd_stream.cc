#include "sandbox/envd_stream.h"

#include <boost/beast/core/detail/base64.hpp>

#include "core/bounded_json.h"
#include "sandbox/e2b_api.h"

namespace swarm::sandbox {
namespace {

namespace base64 = boost::beast::detail::base64;

// Events are small and shallow; protojson nests them three levels deep.
constexpr JsonLimits kEventLimits{.max_depth = 16, .max_bytes = 8 << 20};

Result<ProcessStreamEvent> ParseEvent(std::string_view payload) {
  auto json = ParseBoundedJson(payload, kEventLimits);
  if (!json)
    return Unavailable("envd sent a process event that is not JSON: " + json.error().message);
  ProcessStreamEvent event;
  if (!json->is_object() || !json->contains("event") || !(*json)["event"].is_object()) {
    return event;  // kOther: a newer envd's message we do not know
  }
  const auto& e = (*json)["event"];
  if (auto it = e.find("start"); it != e.end()) {
    event.kind = ProcessStreamEvent::Kind::kStart;
    event.pid = static_cast<int>(e2b::IntField(*it, "pid"));
  } else if (auto it = e.find("data"); it != e.end()) {
    event.kind = ProcessStreamEvent::Kind::kData;
    for (const char* field : {"stdout", "pty"}) {
      auto text = e2b::StringField(*it, field);
      if (text.empty()) continue;
      auto bytes = Base64Decode(text);
      if (!bytes) return Unavailable("envd sent output that is not base64");
      event.stdout_bytes += *bytes;
    }
    if (auto text = e2b::StringField(*it, "stderr"); !text.empty()) {
      auto bytes = Base64Decode(text);
      if (!bytes) return Unavailable("envd sent output that is not base64");
      event.stderr_bytes = std::move(*bytes);
    }
  } else if (auto it = e.find("end"); it != e.end()) {
    event.kind = ProcessStreamEvent::Kind::kEnd;
    event.exit_code = static_cast<int>(e2b::IntField(*it, "exitCode", 0));
    // Only a real `true` (json::value would throw on another type).
    event.exited = it->is_object() && it->contains("exited") && (*it)["exited"].is_boolean() &&
                   (*it)["exited"].get<bool>();
    event.status = e2b::StringField(*it, "status");
    event.error = e2b::StringField(*it, "error");
  } else if (e.contains("keepalive")) {
    event.kind = ProcessStreamEvent::Kind::kKeepalive;
  }
  return event;
}

}  // namespace

Result<bool> ProcessStreamDecoder::Feed(std::string_view bytes, const EventCallback& on_event) {
  if (auto fed = envelopes_.Feed(bytes); !fed) {
    return Unavailable("envd stream: " + fed.error().message);
  }
  while (auto envelope = envelopes_.Next()) {
    if (ended_) return Unavailable("envd stream: data after EndStreamResponse");
    if (envelope->end_stream()) {
      ended_ = true;
      auto end = http::connect::ParseEndStream(envelope->payload);
      if (!end) {
        end_error_ = Error{ErrorCode::kUnavailable, "envd stream: " + end.error().message};
      } else if (*end) {
        const auto& error = **end;
        end_error_ = Error{http::connect::ErrorForCode(error.code),
                           "envd: " + error.code + ": " + error.message};
      }
      continue;
    }
    auto event = ParseEvent(envelope->payload);
    if (!event) return tl::unexpected(event.error());
    if (on_event && !on_event(*event)) return false;
  }
  return true;
}

Result<void> ProcessStreamDecoder::Finish() const {
  if (!ended_) return Unavailable("envd stream ended without EndStreamResponse");
  if (end_error_) return tl::unexpected(*end_error_);
  return {};
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(base64::encoded_size(bytes.size()), '\0');
  out.resize(base64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (!standard.empty() && standard.back() == '=') standard.pop_back();
  if (standard.size() % 4 == 1) return std::nullopt;
  std::string out(base64::decoded_size(standard.size()) + 3, '\0');
  auto [written, read] = base64::decode(out.data(), standard.data(), standard.size());
  if (read != standard.size()) return std::nullopt;
  out.resize(written);
  return out;
}

}  // namespace swarm::sandbox
