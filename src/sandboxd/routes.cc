#include "sandboxd/routes.h"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/bounded_json.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/connect.h"
#include "http/query.h"
#include "sandbox/local_files.h"
#include "sandboxd/create_request.h"
#include "sandboxd/envd_wire.h"

namespace swarm::sandboxd {
namespace {

namespace asio = boost::asio;
namespace connect = http::connect;
using http::HttpRequest;
using http::HttpResponse;
using http::PathParams;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Compares secrets in time independent of where they differ.
bool SecretEquals(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= given[i] ^ expected[i];
  return diff == 0;
}

HttpResponse Json(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

HttpResponse NoContent() {
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  return response;
}

HttpResponse FromError(const Error& error) {
  return E2bError(HttpStatusFor(error.code), error.message);
}

// envd's unary Connect error.
HttpResponse UnaryError(const std::string& code, const std::string& message) {
  HttpResponse response;
  response.status = connect::HttpStatusForCode(code);
  response.body = connect::EncodeUnaryError({code, message});
  return response;
}

HttpResponse UnaryFromError(const Error& error) {
  return UnaryError(connect::CodeForError(error.code), error.message);
}

// A stream that fails before it starts: 200 and only the end-of-stream envelope with the
// error, as connect-go answers a streaming call whose handler returned an error.
HttpResponse StreamError(const std::string& code, const std::string& message) {
  HttpResponse response;
  response.status = 200;
  response.content_type = std::string(connect::kStreamContentType);
  response.body = connect::EncodeEndStream(connect::ConnectError{code, message});
  return response;
}

HttpResponse SandboxGone(const std::string& id) {
  return Json(502, {{"sandboxId", id}, {"message", "The sandbox was not found"}, {"code", 502}});
}

nlohmann::json SandboxJson(const SandboxEntry& entry) {
  nlohmann::json body = {
      {"templateID", entry.template_id}, {"sandboxID", entry.id}, {"clientID", "local"},
      {"envdVersion", kEnvdVersion},     {"domain", nullptr},     {"trafficAccessToken", nullptr}};
  if (!entry.access_token.empty()) body["envdAccessToken"] = entry.access_token;
  return body;
}

nlohmann::json ListedJson(const SandboxEntry& entry) {
  return {{"templateID", entry.template_id},
          {"sandboxID", entry.id},
          {"clientID", "local"},
          {"startedAt", FormatIsoTime(entry.started_at)},
          {"endAt", FormatIsoTime(entry.end_at())},
          {"cpuCount", entry.cpu_count},
          {"memoryMB", entry.memory_mb},
          {"diskSizeMB", 0},
          {"state", "running"},
          {"envdVersion", kEnvdVersion},
          {"metadata", entry.metadata}};
}

Result<nlohmann::json> JsonBody(const HttpRequest& request, std::size_t max_bytes,
                                bool empty_is_object) {
  if (request.body.empty() && empty_is_object) return nlohmann::json::object();
  auto parsed = ParseBoundedJson(request.body, JsonLimits{.max_depth = 16, .max_bytes = max_bytes});
  if (!parsed) return tl::unexpected(parsed.error());
  if (!parsed->is_object()) return BadRequest("the body must be a JSON object");
  return parsed;
}

}  // namespace

SandboxdRoutes::SandboxdRoutes(SandboxRegistry& registry, TemplateStore* templates,
                               RoutesOptions options)
    : registry_(registry), templates_(templates), options_(std::move(options)) {
  using http::Access;
  Add("POST", "/sandboxes", Access::kAuthenticated, &SandboxdRoutes::CreateV1);
  Add("POST", "/v2/sandboxes", Access::kAuthenticated, &SandboxdRoutes::CreateV2);
  Add("GET", "/sandboxes", Access::kAuthenticated, &SandboxdRoutes::List);
  Add("GET", "/v2/sandboxes", Access::kAuthenticated, &SandboxdRoutes::List);
  Add("GET", "/sandboxes/{id}", Access::kAuthenticated, &SandboxdRoutes::GetOne);
  Add("DELETE", "/sandboxes/{id}", Access::kAuthenticated, &SandboxdRoutes::KillOne);
  Add("POST", "/sandboxes/{id}/timeout", Access::kAuthenticated, &SandboxdRoutes::Timeout);
  Add("POST", "/sandboxes/{id}/refreshes", Access::kAuthenticated, &SandboxdRoutes::Refresh);
  Add("POST", "/sandboxes/{id}/connect", Access::kAuthenticated, &SandboxdRoutes::Connect);
  Add("POST", "/v2/sandboxes/{id}/connect", Access::kAuthenticated, &SandboxdRoutes::Connect);
  Add("GET", "/health", Access::kPublic, &SandboxdRoutes::Health);
  if (!templates_) return;
  Add("POST", "/v3/templates", Access::kAuthenticated, &SandboxdRoutes::TemplateRequestBuild);
  Add("GET", "/templates/{id}/files/{hash}", Access::kAuthenticated,
      &SandboxdRoutes::TemplateFiles);
  // The link FileLink hands out is the credential, as E2B's presigned upload URLs are.
  Add("PUT", "/templates/uploads/{upload}", Access::kPublic, &SandboxdRoutes::TemplateUpload);
  Add("POST", "/v2/templates/{id}/builds/{build}", Access::kAuthenticated,
      &SandboxdRoutes::TemplateStartBuild);
  Add("GET", "/templates/{id}/builds/{build}/status", Access::kAuthenticated,
      &SandboxdRoutes::TemplateBuildStatus);
  Add("PATCH", "/v2/templates/{id}", Access::kAuthenticated, &SandboxdRoutes::TemplatePublishV2);
  Add("PATCH", "/templates/{id}", Access::kAuthenticated, &SandboxdRoutes::TemplatePublishV1);
  Add("DELETE", "/templates/{id}", Access::kAuthenticated, &SandboxdRoutes::TemplateDelete);
  Add("GET", "/templates", Access::kAuthenticated, &SandboxdRoutes::TemplateList);
  Add("GET", "/v2/templates", Access::kAuthenticated, &SandboxdRoutes::TemplateList);
  Add("GET", "/templates/{id}", Access::kAuthenticated, &SandboxdRoutes::TemplateGet);
  Add("GET", "/templates/aliases/{alias}", Access::kAuthenticated, &SandboxdRoutes::TemplateAlias);
}

void SandboxdRoutes::Add(const char* method, const char* pattern, http::Access access,
                         Sync handler) {
  router_.Add(
      method, pattern, access,
      [this, handler](HttpRequest request, PathParams params) -> asio::awaitable<HttpResponse> {
        // Not a coroutine itself: the frame must not refer to this lambda.
        return [](SandboxdRoutes* self, Sync fn, HttpRequest r,
                  PathParams p) -> asio::awaitable<HttpResponse> {
          co_return (self->*fn)(r, p);
        }(this, handler, std::move(request), std::move(params));
      });
}

bool SandboxdRoutes::IsEnvdRequest(const HttpRequest& request) {
  if (!request.Header("e2b-sandbox-id").empty()) return true;
  return StartsWith(request.path, "/process.Process/") ||
         StartsWith(request.path, "/filesystem.Filesystem/") || request.path == "/files";
}

bool SandboxdRoutes::KeyMatches(const HttpRequest& request) const {
  return SecretEquals(request.Header("x-api-key"), options_.api_key);
}

std::optional<HttpResponse> SandboxdRoutes::Admit(const HttpRequest& head) const {
  if (IsEnvdRequest(head)) return std::nullopt;  // envd checks its own token
  auto match = router_.Find(head.method, head.path);
  if (match.kind == http::Router::MatchKind::kFound &&
      match.route->access == http::Access::kPublic) {
    return std::nullopt;
  }
  if (KeyMatches(head)) return std::nullopt;
  return E2bError(
      401, head.Header("x-api-key").empty() ? "missing X-API-Key header" : "Invalid API key");
}

asio::awaitable<HttpResponse> SandboxdRoutes::Dispatch(HttpRequest request) {
  if (IsEnvdRequest(request)) co_return Envd(request);
  if (auto refused = Admit(request)) co_return *refused;
  auto match = router_.Find(request.method, request.path);
  if (match.kind == http::Router::MatchKind::kNotFound) {
    co_return E2bError(404, fmt::format("no route for {} {}", request.method, request.path));
  }
  if (match.kind == http::Router::MatchKind::kMethodNotAllowed) {
    co_return E2bError(405,
                       fmt::format("method {} is not allowed on {}", request.method, request.path));
  }
  co_return co_await match.route->handler(std::move(request), std::move(match.params));
}

// ---- control plane ------------------------------------------------------------------------

HttpResponse SandboxdRoutes::CreateV1(const HttpRequest& r, const PathParams&) {
  return Create(r, false);
}

HttpResponse SandboxdRoutes::CreateV2(const HttpRequest& r, const PathParams&) {
  return Create(r, true);
}

HttpResponse SandboxdRoutes::Create(const HttpRequest& r, bool v2) {
  auto body = JsonBody(r, options_.max_json_bytes, false);
  if (!body) return FromError(body.error());
  auto request = ParseCreateRequest(*body, v2);
  if (!request) return FromError(request.error());
  auto created = registry_.Create(*request);
  if (!created) return FromError(created.error());
  return Json(201, SandboxJson(**created));
}

HttpResponse SandboxdRoutes::List(const HttpRequest& r, const PathParams&) {
  const auto query = http::QueryParams::Parse(r.query);
  std::map<std::string, std::string> filter;
  if (auto metadata = query.Get("metadata"); metadata && !metadata->empty()) {
    auto parsed = ParseMetadataFilter(*metadata);
    if (!parsed) return FromError(parsed.error());
    filter = std::move(*parsed);
  }
  // Only running sandboxes exist here: a filter on other states lists none.
  if (auto state = query.Get("state");
      state && !state->empty() && state->find("running") == std::string::npos) {
    return Json(200, nlohmann::json::array());
  }
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& entry : registry_.List(filter)) listed.push_back(ListedJson(*entry));
  return Json(200, listed);
}

HttpResponse SandboxdRoutes::GetOne(const HttpRequest&, const PathParams& p) {
  auto entry = registry_.Get(p.Get("id"));
  if (!entry) return E2bError(404, fmt::format("sandbox '{}' not found", p.Get("id")));
  auto body = ListedJson(*entry);
  body["domain"] = nullptr;
  body["allowInternetAccess"] = true;
  if (!entry->access_token.empty()) body["envdAccessToken"] = entry->access_token;
  return Json(200, body);
}

HttpResponse SandboxdRoutes::KillOne(const HttpRequest&, const PathParams& p) {
  if (!registry_.Kill(p.Get("id"))) {
    return E2bError(404, fmt::format("sandbox '{}' not found", p.Get("id")));
  }
  return NoContent();
}

HttpResponse SandboxdRoutes::Timeout(const HttpRequest& r, const PathParams& p) {
  auto body = JsonBody(r, options_.max_json_bytes, false);
  if (!body) return FromError(body.error());
  auto timeout = IntField(*body, "timeout");
  if (!timeout) return FromError(timeout.error());
  if (!*timeout) return E2bError(400, "timeout is required");
  auto set = registry_.SetTimeout(p.Get("id"), std::chrono::seconds(**timeout));
  if (!set) return FromError(set.error());
  return NoContent();
}

HttpResponse SandboxdRoutes::Refresh(const HttpRequest& r, const PathParams& p) {
  auto body = JsonBody(r, options_.max_json_bytes, true);
  if (!body) return FromError(body.error());
  auto duration = IntField(*body, "duration");
  if (!duration) return FromError(duration.error());
  const int64_t seconds = duration->value_or(60);
  if (seconds < 0 || seconds > 3600) return E2bError(400, "duration must be 0..3600");
  auto set = registry_.SetTimeout(p.Get("id"), std::chrono::seconds(seconds), true);
  if (!set) return FromError(set.error());
  return NoContent();
}

HttpResponse SandboxdRoutes::Connect(const HttpRequest& r, const PathParams& p) {
  auto body = JsonBody(r, options_.max_json_bytes, true);
  if (!body) return FromError(body.error());
  auto timeout = IntField(*body, "timeout");
  if (!timeout) return FromError(timeout.error());
  auto entry = registry_.Get(p.Get("id"));
  if (!entry) return E2bError(404, fmt::format("sandbox '{}' not found", p.Get("id")));
  // Connecting never shortens the sandbox's life, as on E2B.
  auto set = registry_.SetTimeout(entry->id, std::chrono::seconds(timeout->value_or(300)), true);
  if (!set) return FromError(set.error());
  return Json(200, SandboxJson(*entry));
}

HttpResponse SandboxdRoutes::Health(const HttpRequest&, const PathParams&) { return NoContent(); }

// ---- templates ----------------------------------------------------------------------------

HttpResponse SandboxdRoutes::TemplateRequestBuild(const HttpRequest& r, const PathParams&) {
  auto body = JsonBody(r, options_.max_json_bytes, false);
  if (!body) return FromError(body.error());
  auto made = templates_->RequestBuild(*body);
  if (!made) return FromError(made.error());
  return Json(202, *made);
}

HttpResponse SandboxdRoutes::TemplateFiles(const HttpRequest& r, const PathParams& p) {
  const std::string host(r.Header("host"));
  auto link = templates_->FileLink(p.Get("id"), p.Get("hash"), "http://" + host);
  if (!link) return FromError(link.error());
  return Json(201, *link);
}

HttpResponse SandboxdRoutes::TemplateUpload(const HttpRequest& r, const PathParams& p) {
  auto stored = templates_->Upload(p.Get("upload"), r.body);
  if (!stored) return FromError(stored.error());
  HttpResponse response;
  response.content_type.clear();
  return response;
}

HttpResponse SandboxdRoutes::TemplateStartBuild(const HttpRequest& r, const PathParams& p) {
  auto body = JsonBody(r, options_.max_json_bytes, true);
  if (!body) return FromError(body.error());
  auto started = templates_->StartBuild(p.Get("id"), p.Get("build"), *body);
  if (!started) return FromError(started.error());
  HttpResponse response;
  response.status = 202;
  response.content_type.clear();
  return response;
}

HttpResponse SandboxdRoutes::TemplateBuildStatus(const HttpRequest& r, const PathParams& p) {
  const auto query = http::QueryParams::Parse(r.query);
  auto number = [&](const char* name, std::size_t fallback) -> std::size_t {
    auto value = query.Get(name);
    if (!value) return fallback;
    try {
      return static_cast<std::size_t>(std::stoul(*value));
    } catch (const std::exception&) {
      return fallback;
    }
  };
  auto status = templates_->BuildStatus(p.Get("id"), p.Get("build"), number("logsOffset", 0),
                                        std::min<std::size_t>(number("limit", 100), 100));
  if (!status) return FromError(status.error());
  return Json(200, *status);
}

namespace {

Result<bool> PublicField(const HttpRequest& r, std::size_t max_bytes) {
  auto body = JsonBody(r, max_bytes, false);
  if (!body) return tl::unexpected(body.error());
  if (!body->contains("public") || !(*body)["public"].is_boolean()) {
    return BadRequest("public (true or false) is required");
  }
  return (*body)["public"].get<bool>();
}

}  // namespace

HttpResponse SandboxdRoutes::TemplatePublishV2(const HttpRequest& r, const PathParams& p) {
  auto is_public = PublicField(r, options_.max_json_bytes);
  if (!is_public) return FromError(is_public.error());
  auto names = templates_->SetPublic(p.Get("id"), *is_public);
  if (!names) return FromError(names.error());
  return Json(200, *names);
}

HttpResponse SandboxdRoutes::TemplatePublishV1(const HttpRequest& r, const PathParams& p) {
  auto is_public = PublicField(r, options_.max_json_bytes);
  if (!is_public) return FromError(is_public.error());
  auto names = templates_->SetPublic(p.Get("id"), *is_public);
  if (!names) return FromError(names.error());
  HttpResponse response;
  response.content_type.clear();
  return response;
}

HttpResponse SandboxdRoutes::TemplateDelete(const HttpRequest&, const PathParams& p) {
  auto deleted = templates_->Delete(p.Get("id"));
  if (!deleted) return FromError(deleted.error());
  if (!*deleted) return E2bError(404, fmt::format("template '{}' not found", p.Get("id")));
  return NoContent();
}

HttpResponse SandboxdRoutes::TemplateList(const HttpRequest&, const PathParams&) {
  return Json(200, templates_->List());
}

HttpResponse SandboxdRoutes::TemplateGet(const HttpRequest&, const PathParams& p) {
  auto found = templates_->Get(p.Get("id"));
  if (!found) return FromError(found.error());
  return Json(200, *found);
}

HttpResponse SandboxdRoutes::TemplateAlias(const HttpRequest&, const PathParams& p) {
  auto found = templates_->Alias(p.Get("alias"));
  if (!found) return FromError(found.error());
  return Json(200, *found);
}

// ---- envd ---------------------------------------------------------------------------------

HttpResponse SandboxdRoutes::Envd(const HttpRequest& request) {
  std::string id(request.Header("e2b-sandbox-id"));
  std::shared_ptr<SandboxEntry> entry;
  if (id.empty()) {
    // Older SDKs send no sandbox header on /files: the only sandbox is the one meant.
    auto all = registry_.List({});
    if (all.size() == 1) entry = all.front();
  } else {
    entry = registry_.Get(id);
  }
  if (!entry) return SandboxGone(id);
  const std::string_view path = request.path;
  if (path == "/health" && request.method == "GET") return NoContent();
  const bool is_rpc =
      StartsWith(path, "/process.Process/") || StartsWith(path, "/filesystem.Filesystem/");
  if (!entry->access_token.empty() &&
      !SecretEquals(request.Header("x-access-token"), entry->access_token)) {
    const char* message = "missing or wrong X-Access-Token for this sandbox";
    return is_rpc ? UnaryError("unauthenticated", message) : E2bError(401, message);
  }
  if (path == "/files") {
    if (request.method == "GET") return FilesGet(request, *entry);
    if (request.method == "POST") return FilesPost(request, *entry);
    return E2bError(405, "method not allowed on /files");
  }
  if (request.method != "POST") return E2bError(405, "envd RPCs take POST");
  if (path == "/process.Process/Start") return ProcessStart(request, *entry);
  if (path == "/process.Process/Connect") return ProcessConnect(request, *entry);
  if (StartsWith(path, "/process.Process/")) {
    return ProcessUnary(request, *entry, path.substr(std::string_view("/process.Process/").size()));
  }
  if (StartsWith(path, "/filesystem.Filesystem/")) {
    return FilesystemUnary(request, *entry,
                           path.substr(std::string_view("/filesystem.Filesystem/").size()));
  }
  return UnaryError("unimplemented", fmt::format("{} is not implemented by sandboxd", path));
}

namespace {

// envd's EntryInfo in proto3 JSON.
nlohmann::json EntryJson(const sandbox::SandboxFileInfo& info) {
  using Type = sandbox::SandboxFileInfo::Type;
  const char* type = info.type == Type::kFile        ? "FILE_TYPE_FILE"
                     : info.type == Type::kDirectory ? "FILE_TYPE_DIRECTORY"
                     : info.type == Type::kSymlink   ? "FILE_TYPE_SYMLINK"
                                                     : "FILE_TYPE_UNSPECIFIED";
  std::string permissions = info.type == Type::kDirectory ? "d"
                            : info.type == Type::kSymlink ? "l"
                                                          : "-";
  for (int shift = 6; shift >= 0; shift -= 3) {
    permissions += (info.mode >> shift) & 4 ? 'r' : '-';
    permissions += (info.mode >> shift) & 2 ? 'w' : '-';
    permissions += (info.mode >> shift) & 1 ? 'x' : '-';
  }
  auto owner = [](uint32_t id) { return id == 0 ? std::string("root") : std::to_string(id); };
  nlohmann::json entry = {
      {"name", info.name},
      {"type", type},
      {"path", info.path},
      {"size", std::to_string(info.size)},  // int64: a string in proto3 JSON
      {"mode", info.mode},
      {"permissions", permissions},
      {"owner", owner(info.uid)},
      {"group", owner(info.gid)},
      {"modifiedTime",
       FormatIsoTime(SystemTime(std::chrono::milliseconds(info.modified_unix_ms)))}};
  if (!info.symlink_target.empty()) entry["symlinkTarget"] = info.symlink_target;
  return entry;
}

}  // namespace

HttpResponse SandboxdRoutes::FilesystemUnary(const HttpRequest& r, SandboxEntry& entry,
                                             std::string_view method) {
  auto body = JsonBody(r, options_.max_json_bytes, true);
  if (!body) return UnaryFromError(body.error());
  const auto path = body->value("path", std::string());
  if (method == "Stat") {
    auto info = sandbox::StatSandboxPath(*entry.sandbox, path);
    if (!info) return UnaryFromError(info.error());
    return Json(200, {{"entry", EntryJson(*info)}});
  }
  if (method == "ListDir") {
    const int depth = body->value("depth", 1);
    auto entries = sandbox::ListSandboxDir(*entry.sandbox, path, depth);
    if (!entries) return UnaryFromError(entries.error());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& info : *entries) list.push_back(EntryJson(info));
    return Json(200, {{"entries", list}});
  }
  if (method == "MakeDir") {
    auto info = sandbox::MakeSandboxDir(*entry.sandbox, path);
    if (!info && info.error().code == ErrorCode::kConflict) {
      return UnaryError("already_exists", info.error().message);
    }
    if (!info) return UnaryFromError(info.error());
    return Json(200, {{"entry", EntryJson(*info)}});
  }
  if (method == "Remove") {
    auto removed = sandbox::RemoveSandboxPath(*entry.sandbox, path);
    if (!removed) return UnaryFromError(removed.error());
    return Json(200, nlohmann::json::object());
  }
  return UnaryError("unimplemented",
                    fmt::format("filesystem.Filesystem/{} is not implemented by sandboxd", method));
}

namespace {

// The single request message of a server-streaming call.
Result<nlohmann::json> StreamRequestMessage(const HttpRequest& request, std::size_t max_bytes) {
  const auto content_type = request.Header("content-type");
  if (!StartsWith(content_type, connect::kStreamContentType)) {
    return BadRequest(
        fmt::format("a streaming call needs Content-Type {}", connect::kStreamContentType));
  }
  connect::EnvelopeDecoder decoder(max_bytes);
  if (auto fed = decoder.Feed(request.body); !fed) return tl::unexpected(fed.error());
  auto envelope = decoder.Next();
  if (!envelope || envelope->end_stream()) return BadRequest("the request has no message");
  auto message =
      ParseBoundedJson(envelope->payload, JsonLimits{.max_depth = 16, .max_bytes = max_bytes});
  if (!message) return tl::unexpected(message.error());
  return message;
}

std::chrono::milliseconds Keepalive(const HttpRequest& request, std::chrono::seconds fallback) {
  const auto header = request.Header("keepalive-ping-interval");
  int seconds = 0;
  if (!header.empty()) {
    try {
      seconds = std::stoi(std::string(header));
    } catch (const std::exception&) {
    }
  }
  if (seconds <= 0) return fallback;
  return std::chrono::seconds(std::min(seconds, 3600));
}

}  // namespace

HttpResponse SandboxdRoutes::StreamOf(std::shared_ptr<sandbox::LocalProcess> process,
                                      const HttpRequest& request, bool replay_output) {
  HttpResponse response;
  response.status = 200;
  response.content_type = std::string(connect::kStreamContentType);
  const auto keepalive = Keepalive(request, options_.default_keepalive);
  response.stream = [process, keepalive, replay_output](http::BodyStream& out) {
    return StreamProcess(process, keepalive, replay_output, out);
  };
  return response;
}

HttpResponse SandboxdRoutes::ProcessStart(const HttpRequest& r, SandboxEntry& entry) {
  auto message = StreamRequestMessage(r, options_.max_json_bytes);
  if (!message) return StreamError("invalid_argument", message.error().message);
  auto start = ParseStartRequest(*message);
  if (!start) return StreamError("invalid_argument", start.error().message);
  // envd makes Connect-Timeout-Ms the process's deadline.
  if (auto header = r.Header("connect-timeout-ms"); !header.empty()) {
    try {
      const long long ms = std::stoll(std::string(header));
      if (ms > 0) start->timeout = std::chrono::milliseconds(ms);
    } catch (const std::exception&) {
      return StreamError("invalid_argument", "Connect-Timeout-Ms must be a number");
    }
  }
  auto process = entry.sandbox->Start(*start);
  if (!process) {
    const auto code = process.error().code == ErrorCode::kUnavailable
                          ? std::string("resource_exhausted")
                          : connect::CodeForError(process.error().code);
    return StreamError(code, process.error().message);
  }
  registry_.SaveRecord(entry);
  return StreamOf(*process, r, true);
}

HttpResponse SandboxdRoutes::ProcessConnect(const HttpRequest& r, SandboxEntry& entry) {
  auto message = StreamRequestMessage(r, options_.max_json_bytes);
  if (!message) return StreamError("invalid_argument", message.error().message);
  auto selector = ParseSelector(*message);
  if (!selector) return StreamError("invalid_argument", selector.error().message);
  auto process = selector->pid ? entry.sandbox->FindPid(*selector->pid)
                               : entry.sandbox->FindTag(selector->tag);
  if (!process) {
    return StreamError("not_found", fmt::format("process with {} not found", selector->Describe()));
  }
  return StreamOf(std::move(process), r, false);
}

HttpResponse SandboxdRoutes::ProcessUnary(const HttpRequest& r, SandboxEntry& entry,
                                          std::string_view method) {
  auto body = JsonBody(r, options_.max_json_bytes, true);
  if (!body) return UnaryFromError(body.error());
  if (method == "List") {
    nlohmann::json processes = nlohmann::json::array();
    for (const auto& process : entry.sandbox->Running()) {
      const auto& config = process->config();
      nlohmann::json item = {
          {"pid", process->pid()},
          {"config", {{"cmd", config.cmd}, {"args", config.args}, {"envs", config.envs}}}};
      if (!config.cwd.empty()) item["config"]["cwd"] = config.cwd;
      if (!process->tag().empty()) item["tag"] = process->tag();
      processes.push_back(std::move(item));
    }
    return Json(200, {{"processes", processes}});
  }
  if (method != "SendSignal" && method != "SendInput" && method != "CloseStdin") {
    return UnaryError("unimplemented", fmt::format("process.Process/{} is not implemented "
                                                   "by sandboxd",
                                                   method));
  }
  auto selector = ParseSelector(*body);
  if (!selector) return UnaryFromError(selector.error());
  auto process = selector->pid ? entry.sandbox->FindPid(*selector->pid)
                               : entry.sandbox->FindTag(selector->tag);
  if (!process || (method == "SendSignal" && !process->running())) {
    return UnaryError("not_found", fmt::format("process with {} not found", selector->Describe()));
  }
  if (method == "SendSignal") {
    auto signal = ParseSignal(body->value("signal", nlohmann::json()));
    if (!signal) return UnaryFromError(signal.error());
    if (!process->Signal(*signal)) {
      return UnaryError("not_found",
                        fmt::format("process with {} not found", selector->Describe()));
    }
    return Json(200, nlohmann::json::object());
  }
  if (method == "CloseStdin") {
    auto closed = process->CloseStdin();
    if (!closed) return UnaryFromError(closed.error());
    return Json(200, nlohmann::json::object());
  }
  const auto input = body->value("input", nlohmann::json::object());
  if (!input.is_object() || !input.contains("stdin") || !input["stdin"].is_string()) {
    return UnaryError("invalid_argument",
                      "input.stdin (base64) is required; pty is not "
                      "supported by sandboxd");
  }
  auto bytes = Base64Decode(input["stdin"].get<std::string>());
  if (!bytes) return UnaryFromError(bytes.error());
  auto written = process->WriteStdin(*bytes);
  if (!written) return UnaryFromError(written.error());
  return Json(200, nlohmann::json::object());
}

HttpResponse SandboxdRoutes::FilesGet(const HttpRequest& r, SandboxEntry& entry) {
  const auto path = http::QueryParams::Parse(r.query).Get("path").value_or("");
  if (path.empty()) return E2bError(400, "path is required");
  auto content = sandbox::ReadSandboxFile(*entry.sandbox, path, options_.max_file_bytes);
  if (!content) return FromError(content.error());
  HttpResponse response;
  response.status = 200;
  response.content_type = "application/octet-stream";
  response.body = std::move(*content);
  return response;
}

HttpResponse SandboxdRoutes::FilesPost(const HttpRequest& r, SandboxEntry& entry) {
  const auto query_path = http::QueryParams::Parse(r.query).Get("path").value_or("");
  std::vector<UploadedFile> files;
  const auto content_type = r.Header("content-type");
  if (StartsWith(content_type, "multipart/form-data")) {
    auto parts = ParseMultipart(content_type, r.body);
    if (!parts) return FromError(parts.error());
    files = std::move(*parts);
    // One file: the query names it (the SDK's filename is the same path, or a bare name).
    if (files.size() == 1 && !query_path.empty()) files[0].filename = query_path;
  } else {
    files.push_back({query_path, r.body});
  }
  if (files.empty()) return E2bError(400, "no file in the request");
  nlohmann::json written = nlohmann::json::array();
  for (const auto& file : files) {
    if (file.filename.empty()) return E2bError(400, "path is required");
    auto path = sandbox::WriteSandboxFile(*entry.sandbox, file.filename, file.content);
    if (!path) return FromError(path.error());
    const auto slash = path->rfind('/');
    written.push_back({{"path", *path}, {"name", path->substr(slash + 1)}, {"type", "file"}});
  }
  return Json(200, written);
}

// ---- streaming ----------------------------------------------------------------------------

asio::awaitable<void> StreamProcess(std::shared_ptr<sandbox::LocalProcess> process,
                                    std::chrono::milliseconds keepalive, bool replay_output,
                                    http::BodyStream& out) {
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  // Set by the process's monitor thread or the peer watch; read and cleared on this strand.
  auto pending = std::make_shared<std::atomic<bool>>(false);
  auto wake = [executor, timer, pending] {
    pending->store(true);
    asio::post(executor, [timer] { timer->cancel(); });
  };
  auto subscription = process->output().Subscribe(wake);
  if (!subscription) {
    const std::string end = connect::EncodeEndStream(
        connect::ConnectError{"resource_exhausted", "too many clients follow this process"});
    co_await out.Write(end);
    co_return;
  }
  out.peer().OnGone(wake);
  uint64_t position = 0;
  if (!replay_output) {
    // Read after subscribing: nothing between this position and the wake-ups is lost.
    position = process->output().OutputEnd();
    const std::string start =
        connect::EncodeMessage(ProcessEventJson(sandbox::ProcessEvent{}, process->pid()));
    if (!co_await out.Write(start)) {
      process->output().Unsubscribe(*subscription);
      co_return;
    }
  }
  bool open = true;
  while (open) {
    pending->store(false);
    auto slice = process->output().ReadFrom(position);
    position = slice.next;
    for (const auto& event : slice.events) {
      const std::string frame = connect::EncodeMessage(ProcessEventJson(event, process->pid()));
      if (!co_await out.Write(frame)) {
        open = false;
        break;
      }
    }
    if (!open) break;
    if (slice.ended) {
      const std::string end = connect::EncodeEndStream();
      co_await out.Write(end);
      break;
    }
    if (out.peer().gone()) break;
    if (pending->load()) continue;
    timer->expires_after(keepalive);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec && !pending->load()) {
      const std::string frame =
          connect::EncodeMessage({{"event", {{"keepalive", nlohmann::json::object()}}}});
      if (!co_await out.Write(frame)) break;
    }
  }
  process->output().Unsubscribe(*subscription);
}

}  // namespace swarm::sandboxd
