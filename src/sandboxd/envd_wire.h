// The wire pieces of sandboxd that need no socket: E2B's error body, envd's process messages
// in proto3 JSON (process.proto), the metadata filter's triple encoding, and the multipart
// body of a file upload. Each is tested on its own (envd_wire_test.cc).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "http/message.h"
#include "sandbox/local_process.h"
#include "sandbox/local_runtime.h"

namespace swarm::sandboxd {

// E2B's control-plane error: {"code":<status>,"message":...}. The SDK decides "not found" on
// the body's code, so it always equals the status.
http::HttpResponse E2bError(int status, std::string_view message);

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

// {"event":{...}}: a StartResponse/ConnectResponse.
nlohmann::json ProcessEventJson(const sandbox::ProcessEvent& event, int pid);

// A StartRequest's process, tag and stdin flag (the deadline comes from a header).
Result<sandbox::StartSpec> ParseStartRequest(const nlohmann::json& request);

// {"process":{"pid":N}} or {"process":{"tag":"t"}} (ConnectRequest, SendSignal, SendInput…).
struct ProcessSelector {
  std::optional<int> pid;
  std::string tag;
  std::string Describe() const;
};
Result<ProcessSelector> ParseSelector(const nlohmann::json& request);

// "SIGNAL_SIGKILL" / "SIGNAL_SIGTERM" (or their numbers 9 / 15) as a POSIX signal.
Result<int> ParseSignal(const nlohmann::json& value);

// The metadata filter of a list call after the query's own decoding: "k=v&k2=v2" with every
// key and value escaped once more (see e2b-wire.md §1): unescape, split, unescape each.
Result<std::map<std::string, std::string>> ParseMetadataFilter(std::string_view once_decoded);

struct UploadedFile {
  std::string filename;  // the part's filename (the SDK puts the target path there)
  std::string content;
};
// The file parts of a multipart/form-data body. `content_type` carries the boundary.
Result<std::vector<UploadedFile>> ParseMultipart(std::string_view content_type,
                                                 std::string_view body,
                                                 std::size_t max_parts = 1000);

}  // namespace swarm::sandboxd
