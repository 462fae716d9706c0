#include "sandbox/template_client.h"

#include <strings.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include "core/log.h"
#include "sandbox/template_archive.h"

namespace swarm::sandbox {
namespace {

using nlohmann::json;

json Step(std::string type, json args) {
  return {{"type", std::move(type)}, {"args", std::move(args)}, {"force", false}};
}

std::string OctalMode(int mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04o", mode & 07777);
  return buffer;
}

std::string BaseName(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string WithoutQuery(std::string_view url) { return std::string(url.substr(0, url.find('?'))); }

Result<std::string> ReadLocalFile(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot read " + path + ": " + ec.message());
  if (size > max_bytes) {
    return MakeError(ErrorCode::kPayloadTooLarge,
                     path + " is larger than the " + std::to_string(max_bytes) + "-byte limit");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Internal("cannot read " + path);
  return content;
}

std::string DurationText(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return std::to_string(duration.count() / 1000) + " s";
  return std::to_string(duration.count()) + " ms";
}

}  // namespace

Result<void> CheckTemplateName(std::string_view name) {
  if (name.empty()) return BadRequest("a template needs a name");
  if (name.size() > 256) return BadRequest("template name is longer than 256 characters");
  for (char c : name) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return BadRequest("template name '" + std::string(name) +
                        "' holds a space or control character");
    }
  }
  return {};
}

E2bTemplateService::E2bTemplateService(E2bConfig config, http::HttpClient& http,
                                       TemplateClientOptions options)
    : api_(std::move(config), http, options.api), options_(std::move(options)) {}

E2bTemplateService::E2bTemplateService(E2bConfig config, std::unique_ptr<http::HttpClient> http,
                                       TemplateClientOptions options)
    : owned_http_(std::move(http)),
      api_(std::move(config), *owned_http_, options.api),
      options_(std::move(options)) {}

Result<TemplateBuild> E2bTemplateService::Build(const TemplateSpec& spec,
                                                const BuildLogCallback& on_log) {
  if (auto check = CheckTemplateName(spec.name); !check) return tl::unexpected(check.error());
  if (spec.cpu_count && *spec.cpu_count < 1) return BadRequest("cpu count must be at least 1");
  if (spec.memory_mb && *spec.memory_mb < 128) return BadRequest("memory must be at least 128 MB");
  for (const auto& file : spec.files) {
    if (file.dest_path.empty()) return BadRequest("a template file needs a destination path");
    if (!file.content && file.local_path.empty()) {
      return BadRequest("template file " + file.dest_path + " has neither content nor a path");
    }
  }

  json create = {{"name", spec.name}};
  if (spec.cpu_count) create["cpuCount"] = *spec.cpu_count;
  if (spec.memory_mb) create["memoryMB"] = *spec.memory_mb;
  auto created = api_.Call("POST", "/v3/templates", &create);
  if (!created) return tl::unexpected(created.error());
  TemplateBuild build;
  build.template_id = e2b::StringField(created->body, "templateID");
  build.build_id = e2b::StringField(created->body, "buildID");
  if (!e2b::CheckSandboxId(build.template_id) || !e2b::CheckSandboxId(build.build_id)) {
    return Unavailable("E2B answered a template request without usable templateID/buildID");
  }
  if (created->body.contains("names") && created->body["names"].is_array()) {
    for (const auto& n : created->body["names"]) {
      if (n.is_string()) build.names.push_back(n.get<std::string>());
    }
  }
  log::Info(
      "e2b template build requested",
      {{"template", spec.name}, {"template_id", build.template_id}, {"build_id", build.build_id}});

  json steps = json::array();
  if (!spec.env.empty()) {
    json args = json::array();
    for (const auto& [k, v] : spec.env) {
      args.push_back(k);
      args.push_back(v);
    }
    steps.push_back(Step("ENV", std::move(args)));
  }
  if (!spec.workdir.empty()) steps.push_back(Step("WORKDIR", {spec.workdir}));
  for (const auto& file : spec.files) {
    auto step = CopyStep(build.template_id, file);
    if (!step) return tl::unexpected(step.error());
    steps.push_back(std::move(*step));
  }

  json start = {
      {"fromImage", spec.from_image.empty() ? std::string(kDefaultBaseImage) : spec.from_image},
      {"force", spec.force},
      {"steps", std::move(steps)}};
  if (!spec.start_cmd.empty()) start["startCmd"] = spec.start_cmd;
  if (!spec.ready_cmd.empty()) start["readyCmd"] = spec.ready_cmd;
  auto started =
      api_.Call("POST", "/v2/templates/" + build.template_id + "/builds/" + build.build_id, &start);
  if (!started) return tl::unexpected(started.error());

  if (auto done = WaitForBuild(build.template_id, build.build_id, on_log); !done) {
    return tl::unexpected(done.error());
  }
  log::Info("e2b template built", {{"template", spec.name}, {"build_id", build.build_id}});
  return build;
}

Result<json> E2bTemplateService::CopyStep(const std::string& template_id,
                                          const TemplateFile& file) {
  std::string content;
  if (file.content) {
    content = *file.content;
  } else {
    auto read = ReadLocalFile(file.local_path, options_.max_file_bytes);
    if (!read) return tl::unexpected(read.error());
    content = std::move(*read);
  }
  std::string src = BaseName(file.local_path.empty() ? file.dest_path : file.local_path);
  if (src.empty() || src == "." || src == "..") src = "file";
  const std::string mode = OctalMode(file.mode);
  std::string description = "COPY";
  for (std::string_view part : {std::string_view(src), std::string_view(file.dest_path),
                                std::string_view(mode), std::string_view(content)}) {
    description.push_back('\0');
    description += part;
  }
  const std::string hash = Sha256Hex(description);

  auto upload = api_.Call("GET", "/templates/" + template_id + "/files/" + hash);
  if (!upload) return tl::unexpected(upload.error());
  // Only a real `true` means present (json::value would throw on another type).
  const bool present = upload->body.is_object() && upload->body.contains("present") &&
                       upload->body["present"].is_boolean() && upload->body["present"].get<bool>();
  if (!present) {
    const std::string url = e2b::StringField(upload->body, "url");
    if (url.empty()) return Unavailable("E2B gave no upload URL for " + file.dest_path);
    auto archive = WriteTarGz({ArchiveEntry{src, std::move(content), file.mode}});
    if (!archive) return tl::unexpected(archive.error());
    json headers = upload->body.is_object() && upload->body.contains("headers")
                       ? upload->body["headers"]
                       : json::object();
    if (auto uploaded = Upload(url, headers, *archive); !uploaded) {
      return tl::unexpected(uploaded.error());
    }
  }
  return json{{"type", "COPY"},
              {"args", {src, file.dest_path, "", mode}},
              {"filesHash", hash},
              {"force", false}};
}

Result<void> E2bTemplateService::Upload(const std::string& url, const json& headers,
                                        const std::string& archive) {
  const auto& api_url = api_.config().api_url;
  http::ClientRequest request;
  request.method = "PUT";
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    request.url = url;
  } else {  // a server may answer a path on itself
    request.url = api_url + (url.front() == '/' ? "" : "/") + url;
  }
  request.body = archive;
  request.timeout = options_.upload_timeout;
  bool has_content_type = false;
  if (headers.is_object()) {
    for (const auto& [name, value] : headers.items()) {
      if (!value.is_string()) continue;
      request.headers.emplace_back(name, value.get<std::string>());
      if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0) {
        has_content_type = true;
      }
    }
  }
  if (!has_content_type) request.headers.emplace_back("Content-Type", "application/gzip");
  // The key goes only to the API itself, never to a storage URL it hands out.
  if (request.url.rfind(api_url + "/", 0) == 0) {
    request.headers.emplace_back("X-API-Key", api_.config().api_key);
  }
  auto response = e2b::SendBounded(api_.http(), request, e2b::kMaxReplyBytes);
  const std::string shown_url = WithoutQuery(request.url);  // signed URLs carry credentials
  if (!response) {
    std::string message = response.error().message;
    for (auto at = message.find(request.url); at != std::string::npos;
         at = message.find(request.url, at + shown_url.size())) {
      message.replace(at, request.url.size(), shown_url);
    }
    return MakeError(response.error().code, api_.Scrub("template file upload: " + message));
  }
  if (response->status < 200 || response->status > 299) {
    e2b::ApiReply reply{response->status, response->body, json(), response->headers};
    auto error = api_.ErrorFor(reply);
    error.message = "template file upload to " + shown_url + ": " + error.message;
    return tl::unexpected(error);
  }
  return {};
}

Result<void> E2bTemplateService::WaitForBuild(const std::string& template_id,
                                              const std::string& build_id,
                                              const BuildLogCallback& on_log) {
  const auto deadline = std::chrono::steady_clock::now() + options_.build_timeout;
  const std::string path = "/templates/" + template_id + "/builds/" + build_id + "/status";
  std::size_t offset = 0;
  std::string final_status;
  std::string reason;
  for (;;) {
    auto reply = api_.Call("GET", path + "?logsOffset=" + std::to_string(offset));
    if (!reply) return tl::unexpected(reply.error());
    const auto& body = reply->body;
    std::size_t received = 0;
    if (body.is_object() && body.contains("logEntries") && body["logEntries"].is_array()) {
      for (const auto& item : body["logEntries"]) {
        ++received;
        if (!on_log) continue;
        on_log(BuildLogEntry{e2b::StringField(item, "timestamp"), e2b::StringField(item, "level"),
                             e2b::StringField(item, "message"), e2b::StringField(item, "step")});
      }
    }
    offset += received;
    if (final_status.empty()) {
      const std::string status = e2b::StringField(body, "status");
      if (status == "ready" || status == "error") {
        final_status = status;
        if (body.is_object() && body.contains("reason")) {
          reason = e2b::StringField(body["reason"], "message");
        }
      }
    }
    // As the SDK: after the end, read on until the log has nothing more.
    if (!final_status.empty() && received == 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      if (!final_status.empty()) break;  // finished; only the log's tail is missing
      return Unavailable("template build " + build_id + " did not finish within " +
                         DurationText(options_.build_timeout));
    }
    if (final_status.empty() || received == 0) api_.Sleep(options_.poll_interval);
  }
  if (final_status == "error") {
    return BadRequest("template build failed: " +
                      (reason.empty() ? std::string("the builder gave no reason") : reason));
  }
  return {};
}

Result<void> E2bTemplateService::SetPublic(std::string_view name, bool is_public) {
  if (auto check = CheckTemplateName(name); !check) return tl::unexpected(check.error());
  json body = {{"public", is_public}};
  auto reply = api_.Call("PATCH", "/v2/templates/" + e2b::EncodeUriComponent(name), &body);
  if (!reply) return tl::unexpected(reply.error());
  log::Info(is_public ? "e2b template published" : "e2b template unpublished",
            {{"template", name}});
  return {};
}

Result<bool> E2bTemplateService::Delete(std::string_view name) {
  if (auto check = CheckTemplateName(name); !check) return tl::unexpected(check.error());
  auto reply = api_.CallRaw("DELETE", "/templates/" + e2b::EncodeUriComponent(name));
  if (!reply) return tl::unexpected(reply.error());
  if (reply->status >= 200 && reply->status <= 299) {
    log::Info("e2b template deleted", {{"template", name}});
    return true;
  }
  if (reply->status == 404 && reply->BodyCodeIs(404)) return false;
  return tl::unexpected(api_.ErrorFor(*reply));
}

}  // namespace swarm::sandbox
