#include "sandbox/e2b_client.h"

#include <random>
#include <utility>

#include "core/bounded_json.h"
#include "core/log.h"
#include "http/connect.h"

namespace swarm::sandbox {
namespace {

using nlohmann::json;
namespace connect = http::connect;

constexpr std::string_view kSandboxes = "/sandboxes/";

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

StringMap StringMapField(const json& object, std::string_view name) {
  StringMap out;
  if (!object.is_object()) return out;
  auto it = object.find(name);
  if (it == object.end() || !it->is_object()) return out;
  for (const auto& [key, value] : it->items()) {
    if (value.is_string()) out.emplace(key, value.get<std::string>());
  }
  return out;
}

bool HoldsAll(const StringMap& metadata, const StringMap& filter) {
  for (const auto& [key, value] : filter) {
    auto it = metadata.find(key);
    if (it == metadata.end() || it->second != value) return false;
  }
  return true;
}

// Keeps the head of an output stream up to a cap and counts what it drops.
struct CappedText {
  std::string* text;
  std::size_t cap;
  std::size_t dropped = 0;

  void Append(std::string_view bytes) {
    const std::size_t room = cap > text->size() ? cap - text->size() : 0;
    text->append(bytes.substr(0, room));
    if (bytes.size() > room) dropped += bytes.size() - room;
  }
  void Close() {
    if (dropped > 0) {
      *text += "\n[agent-swarm: output truncated, " + std::to_string(dropped) +
               " more bytes not kept]\n";
    }
  }
};

std::string RandomBoundary() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device random;
  std::string boundary = "agent-swarm-";
  for (int i = 0; i < 24; ++i) boundary.push_back(kHex[random() % 16]);
  return boundary;
}

// A multipart filename is a quoted string: keep quotes and line breaks out of it.
std::string QuotedFilename(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r' || c == '\n') {
      out += ' ';
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// process.Process/Start's request: the command through a login bash, as the SDKs send it.
Result<json> StartMessage(const CommandSpec& command) {
  if (command.cmd.empty()) return BadRequest("no command to run");
  json process = {{"cmd", "/bin/bash"}, {"args", {"-l", "-c", command.cmd}}};
  if (!command.envs.empty()) {
    process["envs"] = json::object();
    for (const auto& [k, v] : command.envs) process["envs"][k] = v;
  }
  if (!command.cwd.empty()) process["cwd"] = command.cwd;
  json start = {{"process", std::move(process)}, {"stdin", false}};
  if (!command.tag.empty()) start["tag"] = command.tag;
  return start;
}

}  // namespace

E2bSandboxProvider::E2bSandboxProvider(E2bConfig config, http::HttpClient& http,
                                       E2bClientOptions options)
    : api_(std::move(config), http, options.api), options_(std::move(options)) {}

E2bSandboxProvider::E2bSandboxProvider(E2bConfig config, std::unique_ptr<http::HttpClient> http,
                                       E2bClientOptions options)
    : owned_http_(std::move(http)),
      api_(std::move(config), *owned_http_, options.api),
      options_(std::move(options)) {}

// ---------------------------------------------------------------------------------------------
// Control plane

Result<SandboxInfo> E2bSandboxProvider::SandboxFromReply(const json& body) {
  if (!body.is_object()) return Unavailable("E2B answered with something that is not a sandbox");
  SandboxInfo info;
  info.handle.sandbox_id = e2b::StringField(body, "sandboxID");
  if (auto check = e2b::CheckSandboxId(info.handle.sandbox_id); !check) {
    return Unavailable("E2B answered with a sandbox without a valid sandboxID");
  }
  info.handle.envd_access_token = e2b::StringField(body, "envdAccessToken");
  api_.AddSecret(info.handle.envd_access_token);
  info.handle.domain = e2b::StringField(body, "domain");  // null: the configured domain
  info.template_id = e2b::StringField(body, "templateID");
  info.envd_version = e2b::StringField(body, "envdVersion");
  info.state = e2b::StringField(body, "state");
  if (info.state.empty()) info.state = "running";
  info.started_at = e2b::StringField(body, "startedAt");
  info.end_at = e2b::StringField(body, "endAt");
  info.cpu_count = static_cast<int>(e2b::IntField(body, "cpuCount"));
  info.memory_mb = static_cast<int>(e2b::IntField(body, "memoryMB"));
  info.metadata = StringMapField(body, "metadata");
  return info;
}

Result<SandboxInfo> E2bSandboxProvider::Create(const SandboxSpec& spec) {
  if (spec.template_id.empty()) return BadRequest("a sandbox needs a template");
  if (spec.timeout.count() <= 0) return BadRequest("a sandbox timeout must be positive");
  // The v1 endpoint with "secure" works on every E2B server (v2 is newer and always secure);
  // the timeout is always sent because v1's default is 15 s.
  json body = {{"templateID", spec.template_id}, {"timeout", spec.timeout.count()},
               {"envVars", json::object()},      {"metadata", json::object()},
               {"secure", spec.secure},          {"allow_internet_access", true}};
  for (const auto& [k, v] : spec.env_vars) body["envVars"][k] = v;
  for (const auto& [k, v] : spec.metadata) body["metadata"][k] = v;
  // E2B takes these from the template and ignores them here; sandboxd applies them.
  if (spec.cpu_count) body["cpuCount"] = *spec.cpu_count;
  if (spec.memory_mb) body["memoryMB"] = *spec.memory_mb;
  auto reply = api_.Call("POST", "/sandboxes", &body);
  if (!reply) return tl::unexpected(reply.error());
  auto info = SandboxFromReply(reply->body);
  if (!info) return info;
  if (info->metadata.empty()) info->metadata = spec.metadata;  // create replies carry none
  if (info->template_id.empty()) info->template_id = spec.template_id;
  log::Info("e2b sandbox created", {{"sandbox", info->id()}, {"template", info->template_id}});
  return info;
}

Result<SandboxInfo> E2bSandboxProvider::Get(std::string_view sandbox_id) {
  if (auto check = e2b::CheckSandboxId(sandbox_id); !check) return tl::unexpected(check.error());
  auto reply = api_.Call("GET", std::string(kSandboxes) + std::string(sandbox_id));
  if (!reply) return tl::unexpected(reply.error());
  return SandboxFromReply(reply->body);
}

Result<std::vector<SandboxInfo>> E2bSandboxProvider::List(const StringMap& metadata_filter) {
  const std::string metadata_param =
      metadata_filter.empty() ? "" : "metadata=" + e2b::EncodeMetadataQuery(metadata_filter);
  std::vector<SandboxInfo> out;
  auto collect = [&](const json& body) -> Result<void> {
    if (!body.is_array()) return Unavailable("E2B answered a sandbox list that is not a list");
    for (const auto& item : body) {
      auto info = SandboxFromReply(item);
      if (!info) return tl::unexpected(info.error());
      // Filter here too: an older server that ignores the filter must not widen `kill --all`.
      if (info->state == "running" && HoldsAll(info->metadata, metadata_filter)) {
        out.push_back(std::move(*info));
      }
    }
    return {};
  };

  std::string next_token;
  for (int page = 0; page < options_.max_list_pages; ++page) {
    std::string path = "/v2/sandboxes?";
    if (!metadata_param.empty()) path += metadata_param + "&";
    path += "state=running";
    if (!next_token.empty()) path += "&nextToken=" + e2b::EncodeUriComponent(next_token);
    auto reply = api_.CallRaw("GET", path);
    if (!reply) return tl::unexpected(reply.error());
    if (page == 0 && reply->status == 404) {
      // A server without the v2 listing: the legacy one lists running sandboxes in one go.
      std::string legacy = "/sandboxes";
      if (!metadata_param.empty()) legacy += "?" + metadata_param;
      auto old = api_.Call("GET", legacy);
      if (!old) return tl::unexpected(old.error());
      if (auto done = collect(old->body); !done) return tl::unexpected(done.error());
      return out;
    }
    if (reply->status < 200 || reply->status > 299) return tl::unexpected(api_.ErrorFor(*reply));
    if (auto done = collect(reply->body); !done) return tl::unexpected(done.error());
    next_token = std::string(reply->Header("x-next-token"));
    if (next_token.empty()) return out;
  }
  return Unavailable("E2B sandbox list has more than " + std::to_string(options_.max_list_pages) +
                     " pages; stopped reading");
}

Result<bool> E2bSandboxProvider::Kill(std::string_view sandbox_id) {
  if (auto check = e2b::CheckSandboxId(sandbox_id); !check) return tl::unexpected(check.error());
  auto reply = api_.CallRaw("DELETE", std::string(kSandboxes) + std::string(sandbox_id));
  if (!reply) return tl::unexpected(reply.error());
  if (reply->status >= 200 && reply->status <= 299) {
    log::Info("e2b sandbox killed", {{"sandbox", sandbox_id}});
    return true;
  }
  // As the SDKs: E2B's own "not found" body (code 404) means it was gone already.
  if (reply->status == 404 && reply->BodyCodeIs(404)) return false;
  return tl::unexpected(api_.ErrorFor(*reply));
}

Result<void> E2bSandboxProvider::SetTimeout(std::string_view sandbox_id,
                                            std::chrono::seconds timeout) {
  if (auto check = e2b::CheckSandboxId(sandbox_id); !check) return tl::unexpected(check.error());
  if (timeout.count() <= 0) return BadRequest("a sandbox timeout must be positive");
  json body = {{"timeout", timeout.count()}};
  auto reply =
      api_.Call("POST", std::string(kSandboxes) + std::string(sandbox_id) + "/timeout", &body);
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

Result<SandboxInfo> E2bSandboxProvider::Connect(std::string_view sandbox_id,
                                                std::chrono::seconds timeout) {
  if (auto check = e2b::CheckSandboxId(sandbox_id); !check) return tl::unexpected(check.error());
  if (timeout.count() <= 0) return BadRequest("a sandbox timeout must be positive");
  json body = {{"timeout", timeout.count()}};
  auto reply =
      api_.Call("POST", std::string(kSandboxes) + std::string(sandbox_id) + "/connect", &body);
  if (!reply) return tl::unexpected(reply.error());
  return SandboxFromReply(reply->body);
}

// ---------------------------------------------------------------------------------------------
// envd

http::ClientRequest E2bSandboxProvider::EnvdRequest(const SandboxHandle& sandbox,
                                                    std::string_view path, std::string_view user) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = api_.config().EnvdUrl(sandbox) + std::string(path);
  request.timeout = options_.api.request_timeout;
  // The routing headers E2B's proxy (and sandboxd) dispatch on when the host is shared.
  request.headers = {{"E2b-Sandbox-Id", sandbox.sandbox_id},
                     {"E2b-Sandbox-Port", std::to_string(kEnvdPort)},
                     {"User-Agent", e2b::UserAgent()}};
  if (!sandbox.envd_access_token.empty()) {
    api_.AddSecret(sandbox.envd_access_token);
    request.headers.emplace_back("X-Access-Token", sandbox.envd_access_token);
  }
  if (!user.empty()) {
    request.headers.emplace_back("Authorization", "Basic " + Base64Encode(std::string(user) + ":"));
  }
  return request;
}

Error E2bSandboxProvider::EnvdHttpError(int status, std::string_view body,
                                        std::string_view what) const {
  std::string message;
  if (auto parsed = ParseBoundedJson(body); parsed && parsed->is_object()) {
    message = e2b::StringField(*parsed, "message");
  }
  if (message.empty()) message = std::string(body.substr(0, 300));
  if (message.empty()) message = "no error message";
  return Error{e2b::ErrorCodeForStatus(status), api_.Scrub("envd " + std::to_string(status) + " (" +
                                                           std::string(what) + "): " + message)};
}

Result<json> E2bSandboxProvider::EnvdUnary(const SandboxHandle& sandbox, std::string_view method,
                                           const json& message, std::string* connect_code) {
  if (auto check = e2b::CheckSandboxId(sandbox.sandbox_id); !check) {
    return tl::unexpected(check.error());
  }
  auto request = EnvdRequest(sandbox, "/process.Process/" + std::string(method), "");
  request.headers.emplace_back("Content-Type", std::string(connect::kUnaryContentType));
  request.headers.emplace_back("Connect-Protocol-Version", "1");
  request.body = Dump(message);
  auto response = e2b::SendBounded(api_.http(), request, e2b::kMaxReplyBytes);
  if (!response) {
    return MakeError(response.error().code, api_.Scrub("envd: " + response.error().message));
  }
  if (response->status != 200) {
    auto error = connect::ParseUnaryError(response->status, response->body);
    if (connect_code != nullptr) *connect_code = error.code;
    return MakeError(
        connect::ErrorForCode(error.code),
        api_.Scrub("envd " + std::string(method) + ": " + error.code + ": " + error.message));
  }
  if (response->body.empty()) return json::object();
  auto parsed = ParseBoundedJson(response->body);
  if (!parsed) {
    return Unavailable("envd " + std::string(method) + " answered with something that is not JSON");
  }
  return parsed;
}

Result<void> E2bSandboxProvider::ProcessStream(const SandboxHandle& sandbox,
                                               std::string_view method, const json& message,
                                               std::string_view user,
                                               std::chrono::milliseconds deadline,
                                               std::chrono::milliseconds exchange_timeout,
                                               const ProcessStreamDecoder::EventCallback& on_event,
                                               bool* stopped_early) {
  if (auto check = e2b::CheckSandboxId(sandbox.sandbox_id); !check) {
    return tl::unexpected(check.error());
  }
  auto request = EnvdRequest(sandbox, "/process.Process/" + std::string(method), user);
  request.headers.emplace_back("Content-Type", std::string(connect::kStreamContentType));
  request.headers.emplace_back("Connect-Protocol-Version", "1");
  request.headers.emplace_back("Keepalive-Ping-Interval",
                               std::to_string(options_.keepalive_interval.count()));
  // envd turns this into the process's deadline (absent: the process runs until it exits).
  if (deadline.count() > 0) {
    request.headers.emplace_back("Connect-Timeout-Ms", std::to_string(deadline.count()));
  }
  request.body = connect::EncodeMessage(message);
  request.timeout = exchange_timeout;
  request.stall_timeout = options_.stream_stall_timeout;

  ProcessStreamDecoder decoder;
  std::optional<Error> decode_error;
  bool stopped = false;
  http::BodySink sink = [&](std::string_view bytes) {
    auto fed = decoder.Feed(bytes, on_event);
    if (!fed) {
      decode_error = fed.error();
      return false;
    }
    if (!*fed) stopped = true;
    return *fed;
  };
  auto response = api_.http().SendStreaming(request, sink);
  if (response && response->status == 200) {
    // As connect clients: a 200 that is not a Connect stream (a proxy's page) is no answer.
    for (const auto& [name, value] : response->headers) {
      if (name == "content-type" && value.rfind(connect::kStreamContentType, 0) != 0) {
        return Unavailable("envd " + std::string(method) + " answered " + value.substr(0, 100) +
                           ", not a Connect stream");
      }
    }
  }
  if (decode_error) return tl::unexpected(*decode_error);
  if (stopped) {
    *stopped_early = true;
    return {};
  }
  if (!response) {
    return MakeError(response.error().code, api_.Scrub("envd: " + response.error().message));
  }
  if (response->status != 200) {
    // A stream's failure before it starts is told by the status (and maybe a JSON body).
    auto error = connect::ParseUnaryError(response->status, response->body);
    return MakeError(
        connect::ErrorForCode(error.code),
        api_.Scrub("envd " + std::string(method) + ": " + error.code + ": " + error.message));
  }
  return decoder.Finish();
}

Result<CommandResult> E2bSandboxProvider::FollowProcess(const SandboxHandle& sandbox,
                                                        std::string_view method,
                                                        const json& message, std::string_view user,
                                                        std::chrono::milliseconds deadline,
                                                        const OutputCallbacks& callbacks) {
  CommandResult result;
  CappedText out{&result.output.stdout_text, options_.max_output_bytes};
  CappedText err{&result.output.stderr_text, options_.max_output_bytes};
  bool started = false;
  bool ended = false;
  auto on_event = [&](const ProcessStreamEvent& event) {
    switch (event.kind) {
      case ProcessStreamEvent::Kind::kStart:
        started = true;
        result.pid = event.pid;
        break;
      case ProcessStreamEvent::Kind::kData:
        if (!event.stdout_bytes.empty()) {
          out.Append(event.stdout_bytes);
          if (callbacks.on_stdout) callbacks.on_stdout(event.stdout_bytes);
        }
        if (!event.stderr_bytes.empty()) {
          err.Append(event.stderr_bytes);
          if (callbacks.on_stderr) callbacks.on_stderr(event.stderr_bytes);
        }
        break;
      case ProcessStreamEvent::Kind::kEnd:
        ended = true;
        result.exit_code = event.exit_code;
        result.exited = event.exited;
        result.status = event.status;
        result.error = event.error;
        break;
      default:
        break;
    }
    return true;
  };
  // The process's own deadline plus room for the reply; without one, only a stalled stream
  // (no keepalive for stream_stall_timeout) ends the wait.
  const auto exchange = deadline.count() > 0 ? deadline + std::chrono::milliseconds(10'000)
                                             : std::chrono::milliseconds(0);
  bool stopped = false;
  auto streamed =
      ProcessStream(sandbox, method, message, user, deadline, exchange, on_event, &stopped);
  out.Close();
  err.Close();
  if (!streamed) return tl::unexpected(streamed.error());
  if (!started) return Unavailable("envd stream ended without the process's start event");
  if (!ended) return Unavailable("envd stream ended without the process's end event");
  return result;
}

Result<CommandResult> E2bSandboxProvider::Run(const SandboxHandle& sandbox,
                                              const CommandSpec& command,
                                              const OutputCallbacks& callbacks) {
  auto message = StartMessage(command);
  if (!message) return tl::unexpected(message.error());
  return FollowProcess(sandbox, "Start", *message, command.user, command.timeout, callbacks);
}

Result<CommandResult> E2bSandboxProvider::ConnectProcess(const SandboxHandle& sandbox, int pid,
                                                         const OutputCallbacks& callbacks) {
  json message = {{"process", {{"pid", pid}}}};
  return FollowProcess(sandbox, "Connect", message, "", std::chrono::milliseconds(0), callbacks);
}

Result<int> E2bSandboxProvider::StartBackground(const SandboxHandle& sandbox,
                                                const CommandSpec& command) {
  auto message = StartMessage(command);
  if (!message) return tl::unexpected(message.error());
  std::optional<int> pid;
  auto on_event = [&](const ProcessStreamEvent& event) {
    if (event.kind != ProcessStreamEvent::Kind::kStart) return true;
    pid = event.pid;
    return false;  // hang up: envd keeps the process running
  };
  bool stopped = false;
  auto streamed = ProcessStream(sandbox, "Start", *message, command.user, command.timeout,
                                options_.start_timeout, on_event, &stopped);
  if (!streamed) return tl::unexpected(streamed.error());
  if (!pid) return Unavailable("envd stream ended without the process's start event");
  log::Info("e2b background command started", {{"sandbox", sandbox.sandbox_id}, {"pid", *pid}});
  return *pid;
}

Result<std::vector<ProcessInfo>> E2bSandboxProvider::ListProcesses(const SandboxHandle& sandbox) {
  auto reply = EnvdUnary(sandbox, "List", json::object(), nullptr);
  if (!reply) return tl::unexpected(reply.error());
  std::vector<ProcessInfo> out;
  if (!reply->is_object() || !reply->contains("processes")) return out;  // protojson: none
  const auto& processes = (*reply)["processes"];
  if (!processes.is_array()) return Unavailable("envd List answered without a process list");
  for (const auto& item : processes) {
    ProcessInfo info;
    info.pid = static_cast<int>(e2b::IntField(item, "pid"));
    info.tag = e2b::StringField(item, "tag");
    if (item.is_object() && item.contains("config")) {
      const auto& config = item["config"];
      info.cmd = e2b::StringField(config, "cmd");
      info.cwd = e2b::StringField(config, "cwd");
      if (config.is_object() && config.contains("args") && config["args"].is_array()) {
        for (const auto& arg : config["args"]) {
          if (arg.is_string()) info.args.push_back(arg.get<std::string>());
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<bool> E2bSandboxProvider::SendSignal(const SandboxHandle& sandbox, int pid, Signal signal) {
  json message = {{"process", {{"pid", pid}}},
                  {"signal", signal == Signal::kKill ? "SIGNAL_SIGKILL" : "SIGNAL_SIGTERM"}};
  std::string code;
  auto reply = EnvdUnary(sandbox, "SendSignal", message, &code);
  if (!reply) {
    if (code == "not_found") return false;
    return tl::unexpected(reply.error());
  }
  return true;
}

Result<std::string> E2bSandboxProvider::ReadFile(const SandboxHandle& sandbox,
                                                 std::string_view path) {
  if (auto check = e2b::CheckSandboxId(sandbox.sandbox_id); !check) {
    return tl::unexpected(check.error());
  }
  if (path.empty()) return BadRequest("no file path to read");
  auto request = EnvdRequest(sandbox, "/files?path=" + e2b::EncodeUriComponent(path), "");
  request.method = "GET";
  std::string content;
  bool too_large = false;
  http::BodySink sink = [&](std::string_view bytes) {
    if (content.size() + bytes.size() > options_.max_file_bytes) {
      too_large = true;
      return false;
    }
    content.append(bytes);
    return true;
  };
  auto response = api_.http().SendStreaming(request, sink);
  if (too_large) {
    return MakeError(ErrorCode::kPayloadTooLarge,
                     "file '" + std::string(path) + "' is larger than the " +
                         std::to_string(options_.max_file_bytes) + "-byte limit");
  }
  if (!response) {
    return MakeError(response.error().code, api_.Scrub("envd: " + response.error().message));
  }
  if (response->status == 404) {
    // What the SDKs raise as a not-found error: envd's own words, else the same sentence.
    std::string message;
    if (auto parsed = ParseBoundedJson(response->body); parsed && parsed->is_object()) {
      message = e2b::StringField(*parsed, "message");
    }
    if (message.empty()) message = "path '" + std::string(path) + "' does not exist";
    return NotFound(api_.Scrub(message));
  }
  if (response->status < 200 || response->status > 299) {
    return tl::unexpected(EnvdHttpError(response->status, response->body, "read file"));
  }
  return content;
}

Result<void> E2bSandboxProvider::WriteFile(const SandboxHandle& sandbox, std::string_view path,
                                           std::string_view content) {
  if (auto check = e2b::CheckSandboxId(sandbox.sandbox_id); !check) {
    return tl::unexpected(check.error());
  }
  if (path.empty()) return BadRequest("no file path to write");
  std::string boundary = RandomBoundary();
  while (content.find(boundary) != std::string_view::npos) boundary = RandomBoundary();
  // The SDK's form: one part named `file` whose filename is the target path.
  auto request = EnvdRequest(sandbox, "/files?path=" + e2b::EncodeUriComponent(path), "");
  request.headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
  request.body.reserve(content.size() + 256);
  request.body += "--" + boundary + "\r\n";
  request.body += "Content-Disposition: form-data; name=\"file\"; filename=\"" +
                  QuotedFilename(path) + "\"\r\n";
  request.body += "Content-Type: application/octet-stream\r\n\r\n";
  request.body += content;
  request.body += "\r\n--" + boundary + "--\r\n";
  auto response = e2b::SendBounded(api_.http(), request, e2b::kMaxReplyBytes);
  if (!response) {
    return MakeError(response.error().code, api_.Scrub("envd: " + response.error().message));
  }
  if (response->status < 200 || response->status > 299) {
    return tl::unexpected(EnvdHttpError(response->status, response->body, "write file"));
  }
  return {};
}

}  // namespace swarm::sandbox
